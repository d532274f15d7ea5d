# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: rolling_order
short_description: Order of a rolling Kubernetes upgrade, servers first
version_added: 0.1.0
author: edgemesh maintainers
description:
  - Takes the nodes with the version each one runs and returns the nodes to upgrade to
    O(target), in order, one at a time - servers (control planes) first, then agents, by
    cluster and host name.
  - Skips nodes already at the target and nodes with no installed version.
  - Refuses a downgrade and a jump over a minor version, naming the host.
options:
  _input:
    description: Nodes, each with C(host), C(role) (C(server) or C(agent)), C(version) and an optional C(cluster).
    type: list
    elements: dict
    required: true
  target:
    description: The version to upgrade to (C(vX.Y.Z) or C(vX.Y.Z+k3sN)).
    type: str
    required: true
  versions:
    description: Installed version per host; overrides the nodes' C(version) (so the plan's node list works as is).
    type: dict
  cluster:
    description: Cluster name for nodes that carry none.
    type: str
"""

EXAMPLES = r"""
- name: Order the k3s upgrade
  ansible.builtin.set_fact:
    upgrade_order: >-
      {{ [{'host': 'a1', 'role': 'agent', 'version': 'v1.32.9+k3s1'},
          {'host': 's1', 'role': 'server', 'version': 'v1.32.9+k3s1'}]
         | edgemesh.cluster_mesh.rolling_order('v1.33.5+k3s1') }}
  # -> [{host: s1, role: server, ...}, {host: a1, role: agent, ...}]
"""

RETURN = r"""
_value:
  description: The nodes to upgrade, in order.
  type: list
  elements: dict
  contains:
    host:
      description: Inventory host name.
      type: str
    cluster:
      description: Cluster name (empty when not given).
      type: str
    role:
      description: C(server) or C(agent).
      type: str
    from:
      description: Installed version.
      type: str
    to:
      description: Target version.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.rolling import (
    RollingError,
    rolling_order,
)


def _rolling_order(nodes, target, versions=None, cluster=None):
    try:
        return rolling_order(nodes, target, versions=versions, cluster=cluster)
    except RollingError as exc:
        raise AnsibleFilterError("rolling_order: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"rolling_order": _rolling_order}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: upgrade_queue
short_description: The nodes of the plan's k3s or kubeadm clusters to upgrade, in order
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - For every cluster of the plan of O(distribution), reads each node's registered
    C(--version) command (O(result_var)) and target version (O(target_var)) from
    O(hostvars) and returns the nodes to upgrade, one at a time - servers (control planes)
    of every cluster first, then agents; within a cluster the first host of O(order_var)
    (kubeadm - C(kubeadm upgrade apply)) first, then by host name.
  - Nodes at the target and nodes that did not answer (or are outside C(--limit)) are left
    out. A downgrade, a jump over a minor version, and a cluster whose nodes have different
    targets are refused, naming the host or cluster. The logic is
    C(plugins/module_utils/rolling.py).
options:
  _input:
    description: The plan (the fact C(edgemesh_plan)).
    type: dict
    required: true
  distribution:
    description: V(k3s) or V(kubeadm).
    type: str
    required: true
    choices: [k3s, kubeadm]
  hostvars:
    description: The play's C(hostvars).
    type: dict
    required: true
  result_var:
    description: Name of the registered C(k3s --version) / C(kubelet --version) result.
    type: str
    required: true
  target_var:
    description: Name of the variable holding the target version (C(k3s_version), C(kubeadm_kubernetes_version)).
    type: str
    required: true
  order_var:
    description: Name of a list variable whose first host upgrades first in its cluster (C(kubeadm_control_plane_hosts)).
    type: str
"""

EXAMPLES = r"""
- name: Order the k3s upgrade
  ansible.builtin.set_fact:
    upgrade_order: >-
      {{ edgemesh_plan | edgemesh.cluster_mesh.upgrade_queue('k3s', hostvars,
                                                             '__k3s_version_out', 'k3s_version') }}
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
      description: Cluster name.
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
    upgrade_queue,
)


def _upgrade_queue(plan, distribution, hostvars, result_var, target_var, order_var=None):
    if not isinstance(plan, dict):
        raise AnsibleFilterError("upgrade_queue: the input must be the plan")
    if distribution not in ("k3s", "kubeadm"):
        raise AnsibleFilterError(
            "upgrade_queue: distribution %r is not supported; allowed: k3s, kubeadm"
            % (distribution,)
        )
    if not hasattr(hostvars, "get"):
        raise AnsibleFilterError("upgrade_queue: hostvars must map host names to variables")
    if not all(isinstance(v, str) for v in (result_var, target_var)):
        raise AnsibleFilterError("upgrade_queue: result_var and target_var must be names")
    try:
        return upgrade_queue(plan, distribution, hostvars, result_var, target_var, order_var)
    except RollingError as exc:
        raise AnsibleFilterError("upgrade_queue: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"upgrade_queue": _upgrade_queue}

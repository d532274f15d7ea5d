# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: removal_queue
short_description: Check a request to take nodes out of their k3s or kubeadm clusters
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Returns the requested hosts, sorted, once every refusal of C(playbooks/remove_node.yml)
    has been checked for all of them; nothing is removed when one fails. With O(steps=true),
    one mapping per host instead, agents first, naming the server that stays and runs the
    cluster-side steps (C(peer)).
  - Refused - no host named; a host that is not in the group C(edgemesh_clusters) or in no
    cluster of the plan; taking a cluster's last server; the server the cluster's API
    address (k3s C(k3s_registration_address), kubeadm C(kubeadm_control_plane_endpoint))
    points at, which is the initialising server unless the address is a VIP. The logic is
    C(plugins/module_utils/rolling.py).
options:
  _input:
    description: The plan (the fact C(edgemesh_plan)).
    type: dict
    required: true
  requested:
    description: C(edgemesh_remove_nodes) - a list of hosts, or C(host[,host]).
    type: raw
    required: true
  inventory_hosts:
    description: The hosts of the group C(edgemesh_clusters).
    type: list
    elements: str
    required: true
  hostvars:
    description: The play's C(hostvars), with the k3s or kubeadm role inputs set on the nodes.
    type: dict
    required: true
  steps:
    description: Return one mapping per host (C(host), C(cluster), C(distribution), C(role), C(peer)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Check the request
  ansible.builtin.set_fact:
    nodes_to_remove: >-
      {{ edgemesh_plan | edgemesh.cluster_mesh.removal_queue(edgemesh_remove_nodes | default([]),
                                                             groups['edgemesh_clusters'], hostvars) }}

- name: The same, one step per host (host, cluster, distribution, role, peer)
  ansible.builtin.set_fact:
    removal_steps: >-
      {{ edgemesh_plan | edgemesh.cluster_mesh.removal_queue(edgemesh_remove_nodes | default([]),
                                                             groups['edgemesh_clusters'], hostvars,
                                                             steps=true) }}
"""

RETURN = r"""
_value:
  description: The hosts to remove, sorted; with O(steps=true) one mapping per host, in removal order.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.rolling import (
    RollingError,
    removal_queue,
    removal_steps,
)


def _removal_queue(plan, requested, inventory_hosts, hostvars, steps=False):
    if not isinstance(plan, dict) or not isinstance(plan.get("clusters"), list):
        raise AnsibleFilterError("removal_queue: the input must be the plan")
    if not isinstance(inventory_hosts, (list, tuple)):
        raise AnsibleFilterError("removal_queue: inventory_hosts must be a list of host names")
    if not hasattr(hostvars, "get"):
        raise AnsibleFilterError("removal_queue: hostvars must map host names to variables")
    try:
        if not isinstance(steps, bool):
            raise RollingError("steps must be true or false, got %r" % (steps,))
        chosen = removal_steps if steps else removal_queue
        return chosen(plan, requested, list(inventory_hosts), hostvars)
    except RollingError as exc:
        raise AnsibleFilterError("removal_queue: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"removal_queue": _removal_queue}

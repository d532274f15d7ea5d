# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: removal_check
short_description: Read the Node list right before one node is removed from its cluster
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Takes the output of C(kubectl get nodes -o json) and the name of the Node to remove.
  - Returns whether the Node is there, whether it holds an etcd member (k3s label
    C(node-role.kubernetes.io/etcd), kubeadm C(node-role.kubernetes.io/control-plane)), and
    the k3s etcd member annotations (C(etcd.k3s.cattle.io/node-name),
    C(etcd.k3s.cattle.io/removed-node-name)).
  - Refuses when removing the node would break the etcd quorum - fewer of the other members
    are Ready than the quorum of the members left. The logic is
    C(plugins/module_utils/rolling.py), the quorum rule C(mesh_rules.etcd_quorum).
options:
  _input:
    description: The parsed output of C(kubectl get nodes -o json).
    type: dict
    required: true
  node_name:
    description: The Kubernetes name of the Node to remove.
    type: str
    required: true
  distribution:
    description: The cluster's distribution.
    type: str
    choices: [k3s, kubeadm]
    required: true
"""

EXAMPLES = r"""
- name: Read the Node list
  ansible.builtin.set_fact:
    removal: "{{ nodes.stdout | from_json | edgemesh.cluster_mesh.removal_check('eu-core-3', 'k3s') }}"
"""

RETURN = r"""
_value:
  description: What the Node list says about the node.
  type: dict
  contains:
    present:
      description: The Node exists.
      type: bool
    server:
      description: The Node holds an etcd member.
      type: bool
    etcd_member:
      description: k3s only - the etcd member name k3s recorded on the Node ("" otherwise).
      type: str
    member_removed:
      description: k3s only - the member k3s removed after C(etcd.k3s.cattle.io/remove=true).
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.rolling import (
    RollingError,
    removal_check,
)


def _removal_check(nodes, node_name, distribution):
    if not isinstance(node_name, str) or not node_name:
        raise AnsibleFilterError("removal_check: node_name must be a Node name, got %r" % node_name)
    try:
        return removal_check(nodes, node_name, distribution)
    except RollingError as exc:
        raise AnsibleFilterError("removal_check: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"removal_check": _removal_check}

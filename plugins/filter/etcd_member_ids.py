# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: etcd_member_ids
short_description: The etcd members of one node, from etcdctl's member list
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Takes the output of C(etcdctl member list -w json) and returns the hex IDs (as
    C(etcdctl member remove) takes them) of the members that belong to the node - named
    after it (kubeadm names the member after the node, k3s C(<node>-<8 hex digits>)) or with
    a peer URL on one of its addresses.
  - The logic is C(plugins/module_utils/rolling.py).
options:
  _input:
    description: The parsed output of C(etcdctl member list -w json).
    type: dict
    required: true
  node_name:
    description: The Kubernetes name of the node.
    type: str
    required: true
  node_ips:
    description: The node's addresses (C(a,b) strings are read up to the first comma).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Find the node's members
  ansible.builtin.set_fact:
    stale: "{{ members.stdout | from_json | edgemesh.cluster_mesh.etcd_member_ids('cp-2', ['198.51.100.2']) }}"
"""

RETURN = r"""
_value:
  description: The members' IDs in hex, sorted (empty when the node has none).
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.rolling import (
    RollingError,
    etcd_member_ids,
)


def _etcd_member_ids(listing, node_name, node_ips=None):
    if not isinstance(node_name, str) or not node_name:
        raise AnsibleFilterError(
            "etcd_member_ids: node_name must be a Node name, got %r" % node_name
        )
    if node_ips is None:
        node_ips = []
    if isinstance(node_ips, str) or not isinstance(node_ips, (list, tuple)):
        raise AnsibleFilterError("etcd_member_ids: node_ips must be a list, got %r" % (node_ips,))
    try:
        return etcd_member_ids(listing, node_name, [str(ip) for ip in node_ips])
    except RollingError as exc:
        raise AnsibleFilterError("etcd_member_ids: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"etcd_member_ids": _etcd_member_ids}

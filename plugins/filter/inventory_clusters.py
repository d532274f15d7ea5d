# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: inventory_clusters
short_description: The mesh's clusters from the output of ansible-inventory --list
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - A play sees group membership (C(groups), C(group_names)) but not which groups are
    children of which, so C(playbooks/plan.yml) runs C(ansible-inventory --list) on the same
    inventory sources and gives its output to this filter.
  - Every direct child group of C(edgemesh_clusters) is a cluster. Its nodes are the hosts
    of the group and of every group nested below it.
  - Cluster-level variables (C(edgemesh_cluster_name), C(edgemesh_region),
    C(edgemesh_distribution), C(edgemesh_cluster_id), C(edgemesh_pod_cidr),
    C(edgemesh_pod_cidr_v6), C(edgemesh_service_cidr), C(edgemesh_service_cidr_v6),
    C(edgemesh_clustermesh_nodeport), C(edgemesh_max_connected_clusters)) are read from
    the hosts' variables and must have one value across the cluster's hosts.
  - A node's address is C(edgemesh_node_ip), else C(ansible_host), else the host name when
    it is an IP address. Its role is C(edgemesh_node_role) (default C(agent)).
  - Refuses a host in two cluster groups, a cluster group nested inside another, hosts
    placed directly in C(edgemesh_clusters) and hosts of one cluster that disagree on a
    cluster-level variable.
options:
  _input:
    description: The output of C(ansible-inventory --list), parsed or as JSON text.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Read the inventory's group tree
  ansible.builtin.command:
    argv: "{{ [ansible_playbook_python, '-m', 'ansible.cli.inventory', '--list']
              + (ansible_inventory_sources | map('regex_replace', '^', '--inventory=') | list) }}"
  register: inventory_tree
  changed_when: false
  check_mode: false

- name: Build the cluster list
  ansible.builtin.set_fact:
    clusters: "{{ inventory_tree.stdout | edgemesh.cluster_mesh.inventory_clusters }}"
"""

RETURN = r"""
_value:
  description: One item per cluster group, sorted by group name.
  type: list
  elements: dict
  contains:
    group:
      description: The inventory group.
      type: str
    vars:
      description: The cluster-level C(edgemesh_*) variables set for the group.
      type: dict
    nodes:
      description: C(host), C(ip) and C(role) of every host, sorted by host name.
      type: list
      elements: dict
"""

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (
    PlanError,
    clusters_from_inventory,
    plain,
)


def inventory_clusters(inventory):
    parsed = isinstance(inventory, (str, bytes))
    if parsed:
        try:
            # json.loads gives plain Python types already.
            inventory = json.loads(str(inventory) if isinstance(inventory, str) else inventory)
        except ValueError as exc:
            raise AnsibleFilterError(
                "inventory_clusters: the input is not the JSON of 'ansible-inventory --list' (%s)"
                % exc
            )
    if not isinstance(inventory, dict):
        raise AnsibleFilterError(
            "inventory_clusters: the input must be the output of 'ansible-inventory --list', "
            "got %s" % type(inventory).__name__
        )
    if not parsed:
        inventory = plain(inventory)
    try:
        return clusters_from_inventory(inventory)
    except PlanError as exc:
        raise AnsibleFilterError("inventory_clusters: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"inventory_clusters": inventory_clusters}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: mesh_plan
short_description: Plan cluster IDs, pod/service CIDRs and clustermesh NodePorts of a Cilium Cluster Mesh
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Takes the cluster list made by P(edgemesh.cluster_mesh.inventory_clusters#filter), the
    mesh-wide C(edgemesh_*) settings and the previous state, and returns the whole plan
    and the new state.
  - Stable and deterministic. Values recorded in the state file come first, then pins set
    in the inventory, then the lowest free value, taking clusters in name order. The same
    inputs in any order give the same plan.
  - Refuses (with an error naming the cluster, the key, the bad value and what is allowed)
    bad or duplicate names, duplicate or out-of-range IDs, pins outside the pools,
    overlaps of pod, service, node and reserved ranges, exhausted pools, clusters with no
    server, unknown distributions, unsupported Cilium versions, a mismatched
    C(maxConnectedClusters), hosts in two clusters, shared node addresses and pins that
    contradict the state file. Nothing is returned when anything is refused.
  - Rules and defaults are described in C(docs/planner.md).
options:
  _input:
    description: The cluster list (docs/contracts.md), one item per cluster group.
    type: list
    elements: dict
    required: true
  settings:
    description:
      - Mesh-wide settings keyed by their inventory names, for example
        C(edgemesh_cilium_version), C(edgemesh_pod_cidr_pool), C(edgemesh_pod_cidr_prefix),
        C(edgemesh_service_cidr_pool), C(edgemesh_service_cidr_prefix), the C(_v6)
        variants, C(edgemesh_max_connected_clusters), C(edgemesh_reserved_cidrs),
        C(edgemesh_release_clusters), C(edgemesh_clustermesh_nodeport_range) and
        C(edgemesh_clustermesh_nodeport_first).
      - Absent keys take their defaults; keys the planner does not use are ignored.
    type: dict
    default: {}
  state:
    description:
      - The previous state, as a mapping or as the JSON text of the state file.
      - Empty or omitted for a new mesh.
    type: raw
    default: null
requirements:
  - netaddr
"""

EXAMPLES = r"""
- name: Plan the mesh
  ansible.builtin.set_fact:
    mesh: >-
      {{ clusters | edgemesh.cluster_mesh.mesh_plan(
           {'edgemesh_cilium_version': '1.19.6', 'edgemesh_pod_cidr_pool': ['10.0.0.0/8']},
           lookup('ansible.builtin.file', 'build/mesh-state.json', errors='ignore')) }}

- name: Show the cluster IDs
  ansible.builtin.debug:
    msg: "{{ mesh.plan.clusters | items2dict(key_name='name', value_name='id') }}"
"""

RETURN = r"""
_value:
  description: The plan, the new state and the state file's text.
  type: dict
  contains:
    plan:
      description:
        - C(mesh) (Cilium version, pools, prefixes, maxConnectedClusters, regions) and
          C(clusters) sorted by name, each with C(name), C(group), C(id), C(region),
          C(distribution), C(pod_cidrs), C(service_cidrs), C(cluster_dns),
          C(clustermesh_nodeport), C(servers), C(agents), C(nodes) and C(peers).
      type: dict
    state:
      description:
        - The state to write back (C(format), C(max_connected_clusters), C(clusters) keyed
          by name). Clusters that left the inventory stay, with C(active=false), until
          released.
      type: dict
    state_json:
      description: The new state as the exact text of the state file (sorted keys, two-space indent, final newline).
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (
    PlanError,
    dump_state,
    plain,
    plan_mesh,
)


def mesh_plan(clusters, settings=None, state=None):
    if not isinstance(clusters, (list, tuple)):
        raise AnsibleFilterError(
            "mesh_plan: the input must be the cluster list from inventory_clusters, got %s"
            % type(clusters).__name__
        )
    if settings is not None and not isinstance(settings, dict):
        raise AnsibleFilterError(
            "mesh_plan: settings must be a mapping of edgemesh_* variables, got %s"
            % type(settings).__name__
        )
    if state is not None and not isinstance(state, (dict, str)):
        raise AnsibleFilterError(
            "mesh_plan: state must be a mapping or the JSON text of the state file, got %s"
            % type(state).__name__
        )
    try:
        result = plan_mesh(plain(clusters), plain(settings or {}), plain(state))
    except PlanError as exc:
        raise AnsibleFilterError("mesh_plan: %s" % exc)
    result["state_json"] = dump_state(result["state"])
    return result


class FilterModule(object):
    def filters(self):
        return {"mesh_plan": mesh_plan}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: mesh_policies
short_description: The cross-cluster Cilium policies wanted on one cluster of the mesh
version_added: 0.2.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Builds, for one cluster of the plan, the CiliumClusterwideNetworkPolicy
    C(edgemesh-region-isolation) (default-deny between regions, when
    C(region_isolation) is set) and one CiliumNetworkPolicy C(edgemesh-allow-<flow>) per
    allowed flow that targets the cluster, keyed C(Kind/namespace/name) (namespace empty for
    the cluster-wide policy) and sorted by key.
  - Peers are selected by the cluster label C(io.cilium.k8s.policy.cluster), so the
    policies mean the same whatever C(policyDefaultLocalCluster) is (1.18 and 1.19+).
  - Every flow is checked first; an unknown key (with a suggestion), a cluster or region
    that is not in the plan, a name that is not a DNS label, or a port or protocol Cilium
    does not accept is refused, naming the flow, the key, the value and what is allowed.
  - The logic lives in C(plugins/module_utils/mesh_policies.py).
options:
  _input:
    description: The plan's clusters (each with C(name) and C(region)).
    type: list
    elements: dict
    required: true
  cluster:
    description: The cluster (as in the plan) to build the policies of.
    type: str
    required: true
  flows:
    description:
      - The allowed flows (C(global_services_allowed_flows)) - C(name), C(to_namespace),
        C(to_labels), C(ports) (list of C(port) and C(protocol), default C(TCP)),
        C(from_clusters) and/or C(from_regions), optional C(from_namespace), C(from_labels),
        C(to_clusters) and C(to_regions) (where the flow applies; every cluster when both are
        empty).
    type: list
    elements: dict
    required: true
  options:
    description:
      - C(region_isolation) (bool), C(isolation_exempt_namespaces) (namespaces the isolation
        does not select) and C(isolation_entities) (Cilium entities still allowed in); all
        three are required.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The policies of eu-core (what roles/global_services/tasks/configure.yml does)
  ansible.builtin.set_fact:
    wanted: >-
      {{ edgemesh_plan.clusters | edgemesh.cluster_mesh.mesh_policies('eu-core',
           [{'name': 'echo', 'from_regions': ['us-east'], 'to_namespace': 'demo',
             'to_labels': {'app': 'echo'}, 'ports': [{'port': 8080}]}],
           {'region_isolation': true, 'isolation_exempt_namespaces': ['kube-system'],
            'isolation_entities': ['host', 'health', 'remote-node', 'kube-apiserver']}) }}
  # -> {"CiliumClusterwideNetworkPolicy//edgemesh-region-isolation": {...},
  #     "CiliumNetworkPolicy/demo/edgemesh-allow-echo": {...}}
"""

RETURN = r"""
_value:
  description: C(Kind/namespace/name) to the manifest to apply.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_policies import (
    PolicyError,
    wanted_policies,
)


def mesh_policies(clusters, cluster, flows, options):
    if not isinstance(cluster, str) or not cluster:
        raise AnsibleFilterError(
            "mesh_policies: cluster is %r; allowed: a cluster name" % (cluster,)
        )
    try:
        return wanted_policies(clusters, cluster, flows, options)
    except PolicyError as exc:
        raise AnsibleFilterError("mesh_policies: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"mesh_policies": mesh_policies}

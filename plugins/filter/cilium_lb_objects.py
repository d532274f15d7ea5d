# -*- coding: utf-8 -*-
# Copyright (c) edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cilium_lb_objects
author: edgemesh maintainers
version_added: 0.1.0
short_description: Cilium objects that make a LoadBalancer clustermesh-apiserver answer
description:
  - When C(clustermesh_addresses) names the cluster, returns a C(CiliumLoadBalancerIPPool)
    holding exactly that address for the clustermesh-apiserver Service and a
    C(CiliumL2AnnouncementPolicy) announcing it (the values turn C(l2announcements) on);
    otherwise an empty list.
  - The logic lives in C(plugins/module_utils/cilium_values.py) (C(loadbalancer_objects)).
options:
  _input:
    description: The mesh plan (see C(docs/contracts.md)).
    type: dict
    required: true
  cluster:
    description: Name of the cluster.
    type: str
    required: true
  options:
    description: The C(cilium_*) knobs, as for C(edgemesh.cluster_mesh.cilium_values).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: LoadBalancer objects of cluster eu-core
  ansible.builtin.set_fact:
    objects: "{{ edgemesh_plan | edgemesh.cluster_mesh.cilium_lb_objects('eu-core') }}"
"""

RETURN = r"""
_value:
  description: Kubernetes manifests (dicts), empty unless the cluster has a LoadBalancer address.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_values import (
    CiliumValuesError,
    loadbalancer_objects,
)


def cilium_lb_objects(plan, cluster, options=None):
    if not isinstance(plan, dict):
        raise AnsibleFilterError(
            "cilium_lb_objects: the input must be the mesh plan (a dict), got %s"
            % type(plan).__name__
        )
    if not isinstance(cluster, str) or not cluster:
        raise AnsibleFilterError("cilium_lb_objects: cluster must be a cluster name")
    if options is not None and not isinstance(options, dict):
        raise AnsibleFilterError(
            "cilium_lb_objects: options must be a dict, got %s" % type(options).__name__
        )
    try:
        return loadbalancer_objects(plan, cluster, dict(options or {}))
    except CiliumValuesError as exc:
        raise AnsibleFilterError("cilium_lb_objects: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"cilium_lb_objects": cilium_lb_objects}

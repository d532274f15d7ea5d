# -*- coding: utf-8 -*-
# Copyright (c) edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cilium_values
author: edgemesh maintainers
version_added: 0.1.0
short_description: Complete Cilium Helm values of one cluster of the mesh
description:
  - Computes the Helm values of one cluster from the mesh plan for the plan's Cilium
    version (1.18.x, 1.19.x or 1.20.x) - cluster identity, cluster-pool IPAM with the
    planned pod CIDRs, routing, kube-proxy replacement, WireGuard, Hubble, operator
    sizing and the Cluster Mesh (every other cluster as a peer, shared CA).
  - The logic lives in C(plugins/module_utils/cilium_values.py).
options:
  _input:
    description: The mesh plan (see C(docs/contracts.md)).
    type: dict
    required: true
  cluster:
    description: Name of the cluster whose values are wanted.
    type: str
    required: true
  options:
    description:
      - The C(cilium_*) knobs, with or without the C(cilium_) prefix (for example
        C(routing_mode) or C(cilium_routing_mode)); absent keys take the defaults.
      - C(ca_cert)/C(ca_key) (PEM text) add the shared mesh CA as C(tls.ca); handle the
        result with C(no_log) then.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Values of cluster eu-core
  ansible.builtin.set_fact:
    values: "{{ edgemesh_plan | edgemesh.cluster_mesh.cilium_values('eu-core', {'routing_mode': 'native'}) }}"
"""

RETURN = r"""
_value:
  description: Helm values (nested dict) for the C(cilium) chart of the plan's version.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_values import (
    CiliumValuesError,
    cluster_values,
)


def cilium_values(plan, cluster, options=None):
    if not isinstance(plan, dict):
        raise AnsibleFilterError(
            "cilium_values: the input must be the mesh plan (a dict), got %s" % type(plan).__name__
        )
    if not isinstance(cluster, str) or not cluster:
        raise AnsibleFilterError("cilium_values: cluster must be a cluster name")
    if options is not None and not isinstance(options, dict):
        raise AnsibleFilterError(
            "cilium_values: options must be a dict, got %s" % type(options).__name__
        )
    try:
        return cluster_values(plan, cluster, dict(options or {}))
    except CiliumValuesError as exc:
        raise AnsibleFilterError("cilium_values: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"cilium_values": cilium_values}

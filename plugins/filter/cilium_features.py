# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cilium_features
author: edgemesh maintainers
version_added: 0.2.0
short_description: The kernel features a cluster's Cilium values need
description:
  - Computes the cluster's Cilium Helm values exactly as the cilium role does (the plan's
    per-cluster C(cilium) options over the values engine's defaults,
    C(plugins/module_utils/cilium_values.py)) and maps them to the kernel features of
    M(edgemesh.cluster_mesh.kernel_readiness) (C(plugins/module_utils/cilium_requirements.py)).
  - For example the default values (VXLAN tunnel, WireGuard, kube-proxy replacement, the
    chart's L7 proxy) give C(base), C(vxlan), C(wireguard), C(kube_proxy_replacement), C(l7_proxy).
options:
  _input:
    description: The mesh plan (see C(docs/contracts.md)), with at least one cluster.
    type: dict
    required: true
  cluster:
    description:
      - The cluster whose features are wanted; empty for the union over every cluster of
        the plan (a machine that may join any of them).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Check what cluster eu-core's Cilium options need of the kernel
  edgemesh.cluster_mesh.kernel_readiness:
    features: "{{ edgemesh_plan | edgemesh.cluster_mesh.cilium_features('eu-core') }}"
    cilium_version: "{{ edgemesh_plan.mesh.cilium_version }}"
"""

RETURN = r"""
_value:
  description: Feature names, C(base) first, in the order of the requirement table.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_requirements import (
    FEATURE_ORDER,
    RequirementError,
    features_for_values,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_values import (
    CiliumValuesError,
    cluster_values,
    context,
)


def cilium_features(plan, cluster=""):
    if not isinstance(plan, dict) or not plan.get("clusters"):
        raise AnsibleFilterError(
            "cilium_features: the plan has no clusters (got %s): run playbooks/plan.yml "
            "first, which writes <output_dir>/plan.json, or set node_prep_features"
            % ("a %s" % type(plan).__name__ if not isinstance(plan, dict) else "none")
        )
    if cluster is not None and not isinstance(cluster, str):
        raise AnsibleFilterError("cilium_features: cluster must be a name, got %r" % (cluster,))
    try:
        ctx = context(plan)
    except CiliumValuesError as exc:
        raise AnsibleFilterError("cilium_features: %s" % exc)
    if cluster and cluster not in ctx.by_name:
        raise AnsibleFilterError(
            "cilium_features: cluster %s is not in the plan (clusters: %s)"
            % (cluster, ", ".join(sorted(ctx.by_name)))
        )
    wanted = set()
    for name in [cluster] if cluster else sorted(ctx.by_name):
        try:
            wanted.update(features_for_values(cluster_values(ctx, name)))
        except (CiliumValuesError, RequirementError) as exc:
            raise AnsibleFilterError("cilium_features: cluster %s: %s" % (name, exc))
    return [name for name in FEATURE_ORDER if name in wanted]


class FilterModule(object):
    def filters(self):
        return {"cilium_features": cilium_features}

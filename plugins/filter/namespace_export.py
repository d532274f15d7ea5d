# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: namespace_export
short_description: The Namespaces to mark global (Cluster Mesh namespace export) and to release
version_added: 0.2.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - With O(mode=listed) (Cilium 1.20 or later, where C(clustermesh.defaultGlobalNamespace)
    is false) only the Namespaces annotated C(clustermesh.cilium.io/global="true") are
    shared with the other clusters; this filter returns the merge patches that mark the
    namespaces of the global services and of both ends of every allowed flow (the same
    set on every cluster), each with the label C(global-services.edgemesh.io/exported).
  - Namespaces that carry that label in O(found) but are no longer listed (or every one of
    them with O(mode=all)) get a patch that takes the annotation and the label off.
  - O(mode=listed) on Cilium 1.18 or 1.19 is refused naming the version; with it a flow
    without C(from_namespace) is refused naming the flow.
  - The logic lives in C(plugins/module_utils/mesh_policies.py) (C(namespace_export)).
options:
  _input:
    description: The plan's clusters (each with C(name) and C(region)).
    type: list
    elements: dict
    required: true
  cilium_version:
    description: The plan's Cilium version (C(mesh.cilium_version)).
    type: str
    required: true
  mode:
    description: C(all) (every namespace global, the chart default) or C(listed).
    type: str
    required: true
  flows:
    description: The allowed flows (C(global_services_allowed_flows)).
    type: list
    elements: dict
    required: true
  services:
    description: The global services (C(global_services_services)).
    type: list
    elements: dict
    required: true
  found:
    description: The registered C(kubernetes.core.k8s_info) of the labelled Namespaces; omit to check only.
    type: dict
"""

EXAMPLES = r"""
- name: Namespaces to mark and release (what roles/global_services/tasks/namespaces.yml does)
  ansible.builtin.set_fact:
    export: >-
      {{ edgemesh_plan.clusters | edgemesh.cluster_mesh.namespace_export(
           edgemesh_plan.mesh.cilium_version, 'listed', global_services_allowed_flows,
           global_services_services, found_namespaces) }}
  # -> {"apply": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {...}}], "release": []}
"""

RETURN = r"""
_value:
  description: C(apply) and C(release), lists of Namespace merge patches.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_policies import (
    PolicyError,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_policies import (
    namespace_export as build,
)


def namespace_export(clusters, cilium_version, mode, flows, services, found=None):
    if not isinstance(mode, str):
        raise AnsibleFilterError("namespace_export: mode is %r; allowed: all, listed" % (mode,))
    try:
        return build(clusters, cilium_version, mode, flows, services, found)
    except PolicyError as exc:
        raise AnsibleFilterError("namespace_export: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"namespace_export": namespace_export}

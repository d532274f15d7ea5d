# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: managed_cleanup
short_description: What the global_services role removes because it no longer wants it
version_added: 0.3.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Compares the objects the role manages (found by their labels - Services by
    C(global-services.edgemesh.io/managed=true), Cilium policies by
    C(app.kubernetes.io/managed-by=edgemesh-global-services)) with what it wants now.
  - A policy no longer wanted is to be deleted; a Service no longer listed is to be released
    (a merge patch that removes the Cluster Mesh annotations and the label); objects still
    wanted, or without the role's label, are left alone.
  - The logic lives in C(plugins/module_utils/global_services.py).
options:
  _input:
    description:
      - The registered result of the looped C(kubernetes.core.k8s_info) over the role's
        lookups (C(_global_services_managed_lookups) in the role's C(vars/main.yml), equal to
        C(MANAGED_LOOKUPS) of C(plugins/module_utils/global_services.py)).
    type: dict
    required: true
  wanted:
    description:
      - What the role wants, keyed C(Kind/namespace/name) (the combined results of
        P(edgemesh.cluster_mesh.global_services#filter) and
        P(edgemesh.cluster_mesh.mesh_policies#filter)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Decide what to remove (what roles/global_services/tasks/configure.yml does)
  ansible.builtin.set_fact:
    cleanup: >-
      {{ __global_services_found | edgemesh.cluster_mesh.managed_cleanup(
           wanted_services | combine(wanted_policies)) }}
  # -> {delete: [{api_version: cilium.io/v2, kind: CiliumNetworkPolicy, namespace: demo,
  #     name: edgemesh-allow-old}], release: [{apiVersion: v1, kind: Service, ...}]}
"""

RETURN = r"""
_value:
  description: The objects to delete and the Service patches to apply.
  type: dict
  contains:
    delete:
      description: Policies to delete - C(api_version), C(kind), C(namespace) (empty for a cluster-wide one), C(name).
      type: list
      elements: dict
    release:
      description: Merge patches that take the annotations and the label off a Service.
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.global_services import (
    ServiceError,
    cleanup,
)


def managed_cleanup(found, wanted):
    try:
        return cleanup(found, wanted)
    except ServiceError as exc:
        raise AnsibleFilterError("managed_cleanup: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"managed_cleanup": managed_cleanup}

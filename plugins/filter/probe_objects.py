# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: probe_objects
author: edgemesh maintainers
version_added: 0.3.0
short_description: The objects of verify.yml's data-plane probe for one cluster
description:
  - The Namespace, echo Deployment, global Services (C(echo-global) with affinity local,
    one remote-only C(echo-only-<cluster>) per cluster) and the client Job that the verify
    role applies to one cluster of the mesh (plugins/module_utils/dataplane_probe.py).
options:
  _input:
    description: The mesh plan.
    type: dict
    required: true
  cluster:
    description: The cluster's name.
    type: str
    required: true
  options:
    description: C(echo_image), C(client_image), C(timeout), C(deadline), C(namespace).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Apply the probe
  kubernetes.core.k8s:
    definition: "{{ edgemesh_plan | edgemesh.cluster_mesh.probe_objects('eu-core') }}"
"""

RETURN = r"""
_value:
  description: The objects, in apply order (the client Job last).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import dataplane_probe


def probe_objects(plan, cluster, options=None):
    try:
        return dataplane_probe.objects(plan, str(cluster), options or {})
    except dataplane_probe.ProbeError as exc:
        raise AnsibleFilterError("probe_objects: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"probe_objects": probe_objects}

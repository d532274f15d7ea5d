# -*- coding: utf-8 -*-
# Copyright (c) edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cilium_helm_warnings
author: edgemesh maintainers
version_added: 0.1.0
short_description: The lines of helm's stderr worth reporting for the Cilium chart
description:
  - Drops blank lines and the harmless note helm prints because the mesh peers
    (C(clustermesh.config.clusters)) are a map while the chart's default is an empty list.
  - The logic lives in C(plugins/module_utils/cilium_values.py) (C(helm_warnings)).
options:
  _input:
    description: The C(stderr) of a C(kubernetes.core.helm) or C(helm_template) result.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Report helm's warnings
  ansible.builtin.debug:
    msg: "{{ __cilium_helm.stderr | default('') | edgemesh.cluster_mesh.cilium_helm_warnings }}"
"""

RETURN = r"""
_value:
  description: The remaining lines, stripped.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_values import (
    helm_warnings,
)


def cilium_helm_warnings(stderr):
    if stderr is not None and not isinstance(stderr, str):
        raise AnsibleFilterError(
            "cilium_helm_warnings: the input must be helm's stderr (a string), got %s"
            % type(stderr).__name__
        )
    return helm_warnings(stderr)


class FilterModule(object):
    def filters(self):
        return {"cilium_helm_warnings": cilium_helm_warnings}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: kubeconfig_paths
author: edgemesh maintainers
version_added: 0.3.0
short_description: The kubeconfig path of every cluster of the mesh plan
description:
  - Returns a mapping of cluster name to absolute kubeconfig path for every cluster of the plan, resolved
    as the roles resolve them (the inventory's C(edgemesh_kubeconfig), else
    C(<output_dir>/<cluster>/kubeconfig)), in the plan's order.
  - The playbooks that talk to clusters check these once, before anything else and in
    check mode too (playbooks/tasks/cluster_access.yml).
options:
  _input:
    description: The mesh plan.
    type: dict
    required: true
  output_dir:
    description: The output directory (C(edgemesh_output_dir), absolute).
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Show where each cluster's kubeconfig is expected
  ansible.builtin.debug:
    msg: "{{ edgemesh_plan | edgemesh.cluster_mesh.kubeconfig_paths('/srv/mesh') }}"
"""

RETURN = r"""
_value:
  description: Cluster name to the absolute path of its kubeconfig on the control node.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.plan_types import (
    PlanShapeError,
    kubeconfig_paths,
)


def kubeconfig_paths_filter(plan, output_dir):
    if not isinstance(plan, dict):
        raise AnsibleFilterError(
            "kubeconfig_paths: the input must be the mesh plan, got %s" % type(plan).__name__
        )
    if not isinstance(output_dir, str) or not output_dir:
        raise AnsibleFilterError("kubeconfig_paths: give the output directory")
    try:
        return kubeconfig_paths(plan, output_dir)
    except PlanShapeError as exc:
        raise AnsibleFilterError("kubeconfig_paths: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"kubeconfig_paths": kubeconfig_paths_filter}

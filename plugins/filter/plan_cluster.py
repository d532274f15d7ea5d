# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: plan_cluster
author: edgemesh maintainers
version_added: 0.2.0
short_description: One cluster of the mesh plan, with its files resolved in the output dir
description:
  - Returns the plan of one cluster (docs/contracts.md) checked for shape, plus the
    absolute paths of its files - C(kubeconfig_path) (the inventory's
    C(edgemesh_kubeconfig), else C(<output_dir>/<cluster>/kubeconfig)), C(token_path),
    C(agent_token_path) - and C(api_url), the API server URL every client uses.
  - Roles call this instead of building paths or endpoints in Jinja.
options:
  _input:
    description: The mesh plan.
    type: dict
    required: true
  cluster:
    description: The cluster's name.
    type: str
    required: true
  output_dir:
    description: The output directory (C(edgemesh_output_dir), absolute).
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Find the kubeconfig of eu-core
  ansible.builtin.debug:
    msg: "{{ (edgemesh_plan | edgemesh.cluster_mesh.plan_cluster('eu-core', '/srv/mesh')).kubeconfig_path }}"
"""

RETURN = r"""
_value:
  description: The cluster's plan plus C(kubeconfig_path), C(token_path), C(agent_token_path), C(api_url).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.plan_types import (
    PlanShapeError,
    cluster_access,
)


def plan_cluster(plan, cluster, output_dir):
    if not isinstance(plan, dict):
        raise AnsibleFilterError(
            "plan_cluster: the input must be the mesh plan, got %s" % type(plan).__name__
        )
    if not isinstance(cluster, str) or not isinstance(output_dir, str) or not output_dir:
        raise AnsibleFilterError("plan_cluster: give the cluster name and the output directory")
    try:
        return cluster_access(plan, cluster, output_dir)
    except PlanShapeError as exc:
        raise AnsibleFilterError("plan_cluster: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"plan_cluster": plan_cluster}

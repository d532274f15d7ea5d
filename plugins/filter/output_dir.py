# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: output_dir
author: edgemesh maintainers
version_added: 0.3.0
short_description: The mesh's output and state directory, beside the inventory
description:
  - Returns the absolute output directory of the mesh - the plan, the state file, the
    mesh CA, tokens and kubeconfigs live there.
  - O(configured) (C(edgemesh_output_dir)) when set, relative to the working directory;
    else C(<inventory directory>/.edgemesh), the inventory directory being the directory
    source itself or the parent of a file source (Ansible never reads entries starting
    with a dot as inventory).
  - Fails when O(configured) is unset and the sources are in several directories, or
    none is a path (a host list).
  - The logic is C(plugins/module_utils/mesh_paths.py), shared with the C(mesh_plan) and
    C(role_inputs) actions.
options:
  _input:
    description: The inventory sources, C(ansible_inventory_sources).
    type: list
    elements: str
    required: true
  configured:
    description: C(edgemesh_output_dir); empty means the default beside the inventory.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The output directory of this inventory's mesh
  ansible.builtin.debug:
    msg: "{{ ansible_inventory_sources | edgemesh.cluster_mesh.output_dir(edgemesh_output_dir | default('')) }}"
"""

RETURN = r"""
_value:
  description: The absolute output directory.
  type: path
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_paths import (
    OutputDirError,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_paths import (
    output_dir as find_output_dir,
)


def output_dir(sources, configured=""):
    if configured is not None and not isinstance(configured, str):
        raise AnsibleFilterError(
            "output_dir: edgemesh_output_dir is %r (%s); allowed: a directory path"
            % (configured, type(configured).__name__)
        )
    try:
        return find_output_dir(sources, configured)
    except OutputDirError as exc:
        raise AnsibleFilterError("output_dir: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"output_dir": output_dir}

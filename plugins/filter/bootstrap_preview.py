# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bootstrap_preview
short_description: Preview every node's k3s / kubeadm bootstrap files from the plan
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Renders, for every node of the plan, the files the k3s or kubeadm role installs there,
    with the same mapping (C(edgemesh.cluster_mesh.role_inputs)) and the same renderer
    (P(edgemesh.cluster_mesh.bootstrap_file#filter)) as the roles, keyed
    C(<cluster>/<host>/config.yaml) (k3s) or C(<cluster>/<host>/kubeadm-config.yaml),
    C(join-config.yaml) and C(upgrade-config.yaml) (kubeadm).
  - Join secrets are never rendered; the placeholders C(<token>), C(<ca-hash>) and
    C(<certificate-key>) stand in their place.
  - The plan's C(init_host) initialises; a server found holding cluster data at install
    time takes its place there.
options:
  _input:
    description: The plan (the fact C(edgemesh_plan)).
    type: dict
    required: true
  hostvars:
    description: Host name -> that host's templated variables (C(hostvars)); the k3s_* / kubeadm_* knobs over the role defaults.
    type: dict
    required: true
  output_dir:
    description: The output directory (C(edgemesh_output_dir)).
    type: str
    default: build
requirements:
  - PyYAML
"""

EXAMPLES = r"""
- name: Compare the installed k3s config with its preview
  ansible.builtin.assert:
    that:
      - installed == preview[cluster ~ '/' ~ inventory_hostname ~ '/config.yaml']
  vars:
    preview: "{{ hostvars['localhost']['edgemesh_plan'] | edgemesh.cluster_mesh.bootstrap_preview(hostvars) }}"
"""

RETURN = r"""
_value:
  description: Relative path under the output directory -> file text.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import bootstrap_files


def bootstrap_preview(plan, hostvars, output_dir="build"):
    if not isinstance(plan, dict):
        raise AnsibleFilterError(
            "bootstrap_preview: the input must be the plan, got %s" % type(plan).__name__
        )
    if not hasattr(hostvars, "get"):
        raise AnsibleFilterError(
            "bootstrap_preview: hostvars must map host names to variables, got %s"
            % type(hostvars).__name__
        )
    if not isinstance(output_dir, str):
        raise AnsibleFilterError("bootstrap_preview: output_dir must be a path")
    try:
        return bootstrap_files.preview_files(bootstrap_files.plain(plan), hostvars, output_dir)
    except bootstrap_files.BootstrapError as exc:
        raise AnsibleFilterError("bootstrap_preview: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"bootstrap_preview": bootstrap_preview}

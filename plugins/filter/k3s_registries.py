# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: k3s_registries
short_description: Render k3s's registries.yaml (registry mirrors and registry configs)
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Renders C(/etc/rancher/k3s/registries.yaml) from the C(edgemesh.cluster_mesh.k3s) role
    variables C(k3s_registry_mirrors) and C(k3s_registry_configs), byte-stable, after the
    fixed "managed by edgemesh.cluster_mesh" comment. An empty result means no file.
  - C(mirrors) maps a registry name (C(docker.io), C(*)) to its endpoints (a list of URLs, or
    a mapping with C(endpoint) and C(rewrite)); C(configs) maps a registry host to its
    C(auth) and C(tls) settings. The logic is C(plugins/module_utils/k3s_files.py).
options:
  _input:
    description: The registry mirrors (C(k3s_registry_mirrors)).
    type: dict
    required: true
  configs:
    description: The registry configs (C(k3s_registry_configs)); may hold credentials.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Write registries.yaml
  ansible.builtin.copy:
    content: "{{ k3s_registry_mirrors | edgemesh.cluster_mesh.k3s_registries(k3s_registry_configs) }}"
    dest: /etc/rancher/k3s/registries.yaml
    mode: "0600"
  no_log: true
"""

RETURN = r"""
_value:
  description: The file's text, or an empty string when there is nothing to configure.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    bootstrap_files,
    k3s_files,
)


def k3s_registries(mirrors, configs=None):
    try:
        return k3s_files.registries_yaml(
            bootstrap_files.plain(mirrors),
            bootstrap_files.plain({} if configs is None else configs),
            bootstrap_files.HEADER,
        )
    except (k3s_files.K3sFileError, bootstrap_files.BootstrapError) as exc:
        raise AnsibleFilterError("k3s_registries: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"k3s_registries": k3s_registries}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: containerd_hosts
short_description: containerd's registry mirror files (hosts.toml), one per registry
version_added: 0.2.0
author: edgemesh maintainers
description:
  - Returns a mapping of path to text, with C(<config_path>/<registry>/hosts.toml) for every
    registry of the input, as containerd's CRI plugin reads them (C(config_path) of its
    registry section).
  - Each registry maps to a list of mirror URLs, or to a mapping with C(mirrors), and optionally
    C(server) (the upstream, default C(https://<registry>), C(https://registry-1.docker.io) for
    C(docker.io)), C(capabilities) (default C(pull), C(resolve)), C(skip_verify) and C(ca).
  - The registry C(_default) applies to every registry without its own file.
  - Refuses a malformed registry name, URL, unknown key, capability or relative C(ca) path.
options:
  _input:
    description: Registry (C(host[:port]) or C(_default)) to its mirrors.
    type: dict
    required: true
  config_path:
    description: The registry hosts directory of containerd's configuration.
    type: str
    default: /etc/containerd/certs.d
"""

EXAMPLES = r"""
- name: Write the registry mirror files
  ansible.builtin.copy:
    dest: "{{ item.key }}"
    content: "{{ item.value }}"
    mode: "0644"
  loop: "{{ {'docker.io': ['https://mirror.example:5000']} | edgemesh.cluster_mesh.containerd_hosts | dict2items }}"
"""

RETURN = r"""
_value:
  description: Path of each hosts.toml to its text (TOML).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import containerd_hosts as hosts
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.bootstrap_files import (
    BootstrapError,
    plain,
)


def containerd_hosts(mirrors, config_path="/etc/containerd/certs.d"):
    if not isinstance(mirrors, dict):
        raise AnsibleFilterError(
            "containerd_hosts: the input must be a mapping of registry to mirrors, got %s"
            % type(mirrors).__name__
        )
    try:
        return hosts.hosts_files(plain(mirrors), str(config_path))
    except (hosts.HostsError, BootstrapError) as exc:
        raise AnsibleFilterError("containerd_hosts: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"containerd_hosts": containerd_hosts}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: containerd_config
short_description: containerd's configuration file for a kubeadm node, in the layout of its version
version_added: 0.2.0
author: edgemesh maintainers
description:
  - Returns the text of C(/etc/containerd/config.toml) for the given containerd version -
    configuration version 2 (CRI plugin C(io.containerd.grpc.v1.cri)) for containerd 1.6 and
    1.7, version 3 (C(io.containerd.cri.v1.images) / C(io.containerd.cri.v1.runtime)) for 2.0
    to 2.2, version 4 for 2.3 and later.
  - The file sets C(SystemdCgroup = true) for runc, the registry hosts directory
    (C(config_path)), the CNI directories and, when given, the sandbox (pause) image.
  - Refuses a containerd version outside 1.6, 1.7 and 2.x, a relative path and a malformed
    image reference.
options:
  _input:
    description: The containerd version (C(X.Y.Z), C(vX.Y.Z)) or the output of C(containerd --version).
    type: str
    required: true
  sandbox_image:
    description: Sandbox (pause) image; empty leaves containerd's default.
    type: str
    default: ""
  registry_config_path:
    description: Directory of the per-registry C(hosts.toml) files (mirrors).
    type: str
    default: /etc/containerd/certs.d
  cni_bin_dir:
    description: Directory of the CNI plugin binaries.
    type: str
    default: /opt/cni/bin
  cni_conf_dir:
    description: Directory of the CNI network configuration.
    type: str
    default: /etc/cni/net.d
"""

EXAMPLES = r"""
- name: Write the containerd configuration
  ansible.builtin.copy:
    dest: /etc/containerd/config.toml
    content: "{{ '2.3.4' | edgemesh.cluster_mesh.containerd_config(sandbox_image='registry.k8s.io/pause:3.10') }}"
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The configuration text (TOML), ending with a newline.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.containerd_config import (
    ContainerdConfigError,
    render_config,
)

_OPTIONS = ("sandbox_image", "registry_config_path", "cni_bin_dir", "cni_conf_dir")


def containerd_config(version, **options):
    if not isinstance(version, str):
        raise AnsibleFilterError(
            "containerd_config: the input must be a containerd version string, got %s"
            % type(version).__name__
        )
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise AnsibleFilterError(
            "containerd_config: unknown option(s) %s; allowed: %s"
            % (", ".join(unknown), ", ".join(_OPTIONS))
        )
    try:
        return render_config(version, **options)
    except ContainerdConfigError as exc:
        raise AnsibleFilterError("containerd_config: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"containerd_config": containerd_config}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: kubernetes_version_problem
short_description: Why a Kubernetes version cannot be installed (empty when it can)
version_added: 0.2.0
author: edgemesh maintainers
description:
  - Returns an empty string when the version is a release (C(X.Y.Z), C(vX.Y.Z) or
    C(vX.Y.Z+k3sN)) of a supported Kubernetes minor and, when a containerd version is given,
    that containerd may run it (containerd 1.x only up to Kubernetes 1.35); else the reason,
    naming what is allowed.
  - The supported minors are C(SUPPORTED_KUBERNETES_MINORS) of
    C(plugins/module_utils/mesh_rules.py), for role preflights.
options:
  _input:
    description: The Kubernetes version.
    type: str
    required: true
  containerd:
    description: The containerd version (C(X.Y.Z)) or C(containerd --version) output; empty = not checked.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Check the Kubernetes version
  ansible.builtin.assert:
    that: kubeadm_kubernetes_version | edgemesh.cluster_mesh.kubernetes_version_problem(containerd='2.3.4') == ''
"""

RETURN = r"""
_value:
  description: The problem, or an empty string.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    containerd_config,
    mesh_rules,
)


def kubernetes_version_problem(version, containerd=""):
    if not isinstance(version, (str, int, float)) or isinstance(version, bool):
        raise AnsibleFilterError(
            "kubernetes_version_problem: the version must be a string, got %r" % (version,)
        )
    if not isinstance(containerd, str):
        raise AnsibleFilterError(
            "kubernetes_version_problem: containerd must be a version string, got %r"
            % (containerd,)
        )
    major = None
    if containerd.strip():
        try:
            major = containerd_config.version_from_text(containerd).major
        except containerd_config.ContainerdConfigError as exc:
            raise AnsibleFilterError("kubernetes_version_problem: containerd: %s" % exc)
    return mesh_rules.kubernetes_version_problem(str(version), major) or ""


class FilterModule(object):
    def filters(self):
        return {"kubernetes_version_problem": kubernetes_version_problem}

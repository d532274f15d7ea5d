# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bootstrap_file
short_description: Render a complete k3s or kubeadm bootstrap file from the role variables
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Renders one file the C(edgemesh.cluster_mesh.k3s) or C(edgemesh.cluster_mesh.kubeadm)
    role installs, from that role's variables. The roles write its result with
    M(ansible.builtin.copy); C(playbooks/plan.yml) previews the same bytes under
    C(<output_dir>/<cluster>/<host>/) (C(plugins/module_utils/bootstrap_files.py)).
  - The file starts with a fixed comment (managed by edgemesh.cluster_mesh), the same on
    every host.
options:
  _input:
    description:
      - The role variables the file reads (C(K3S_KEYS) or C(KUBEADM_KEYS) of
        C(plugins/module_utils/bootstrap_files.py)); the roles pass C(_k3s_config_inputs)
        or C(_kubeadm_file_inputs) from their C(vars/main.yml).
    type: dict
    required: true
  kind:
    description:
      - V(k3s-config) (C(/etc/rancher/k3s/config.yaml)), V(kubeadm-init) (Init-, Cluster-
        and KubeletConfiguration), V(kubeadm-join) (JoinConfiguration),
        V(kubeadm-upgrade) (UpgradeConfiguration) or V(kubeadm-secrets-encryption) (the API
        servers' EncryptionConfiguration of Secrets).
    type: str
    required: true
    choices: [k3s-config, kubeadm-init, kubeadm-join, kubeadm-upgrade, kubeadm-secrets-encryption]
  host:
    description: Inventory name of the node (comments; the kubeadm node name when C(kubeadm_node_name) is empty).
    type: str
    default: ""
  secrets:
    description:
      - V(kubeadm-join) only - C(token), C(ca_hash) and (control planes) C(certificate_key).
        Without them the placeholders C(<token>), C(<ca-hash>) and C(<certificate-key>) are
        written, as in the previews.
      - V(kubeadm-secrets-encryption) only - C(key), 32 bytes in base64 (placeholder C(<encryption-key>)
        without it).
    type: dict
requirements:
  - PyYAML
"""

EXAMPLES = r"""
- name: Write /etc/rancher/k3s/config.yaml
  ansible.builtin.copy:
    content: "{{ _k3s_config_inputs | edgemesh.cluster_mesh.bootstrap_file('k3s-config') }}"
    dest: /etc/rancher/k3s/config.yaml
    mode: "0600"

- name: Write the kubeadm init configuration
  ansible.builtin.copy:
    content: >-
      {{ _kubeadm_file_inputs
         | edgemesh.cluster_mesh.bootstrap_file('kubeadm-init', host=inventory_hostname) }}
    dest: /etc/kubernetes/edgemesh/kubeadm-config.yaml
    mode: "0600"
    validate: /usr/bin/kubeadm config validate --config %s
"""

RETURN = r"""
_value:
  description: The file's text.
  type: str
  sample: "# Managed by edgemesh.cluster_mesh; local changes are overwritten.\n# k3s server ..."
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import bootstrap_files


def bootstrap_file(inputs, kind, host="", secrets=None):
    if not isinstance(inputs, dict):
        raise AnsibleFilterError(
            "bootstrap_file: the input must be a mapping of role variables, got %s"
            % type(inputs).__name__
        )
    if kind not in bootstrap_files.RENDERERS:
        raise AnsibleFilterError(
            "bootstrap_file: kind %r is not known; allowed: %s"
            % (kind, ", ".join(sorted(bootstrap_files.RENDERERS)))
        )
    if not isinstance(host, str):
        raise AnsibleFilterError("bootstrap_file: host must be a host name, got %r" % (host,))
    try:
        return bootstrap_files.render(
            str(kind),
            inputs,
            str(host),
            None if secrets is None else bootstrap_files.plain(secrets),
        )
    except bootstrap_files.BootstrapError as exc:
        raise AnsibleFilterError("bootstrap_file: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"bootstrap_file": bootstrap_file}

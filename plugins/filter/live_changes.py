# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: live_changes
author: edgemesh maintainers
version_added: 0.3.0
short_description: Planned Cilium changes that a running cluster cannot take without a reinstall
description:
  - Compares the C(data) of a running cluster's C(kube-system/cilium-config) ConfigMap with
    the Helm values about to be applied, and returns one message per change that needs a
    reinstall of Cilium - the cluster ID or name of a meshed cluster, the IPAM mode, or a
    cluster-pool CIDR changed or removed (new ones may be appended).
  - An empty list when nothing would break, or when the cluster has no cilium-config yet.
options:
  _input:
    description: The C(data) of the live cilium-config ConfigMap (empty or null when absent).
    type: dict
    required: true
  values:
    description: The Helm values the cilium role applies (cluster, ipam).
    type: dict
    required: true
  cluster:
    description: The cluster's name, for the messages.
    type: str
    required: true
  source:
    description:
      - What the input is - C(configmap) (the C(data) of C(cilium-config)) or C(release)
        (the user-supplied values of the running Helm release, as C(kubernetes.core.helm_info)
        returns them; empty when there is no release).
    type: str
    choices: [configmap, release]
    default: configmap
"""

EXAMPLES = r"""
- name: Refuse what would need a reinstall
  ansible.builtin.fail:
    msg: "{{ __live_problems | join('; ') }}"
  vars:
    __live_problems: "{{ __cm.resources[0].data | default({}) | edgemesh.cluster_mesh.live_changes(__values, 'eu-core') }}"
  when: __live_problems | length > 0
"""

RETURN = r"""
_value:
  description: One message per refused change, naming the cluster, the key, the live and the planned value, and the pin that keeps it.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import live_config


def live_changes(data, values, cluster, source="configmap"):
    if data is not None and not isinstance(data, dict):
        raise AnsibleFilterError("live_changes: the input must be the ConfigMap's data")
    if not isinstance(values, dict) or not isinstance(cluster, str):
        raise AnsibleFilterError("live_changes: give the Helm values and the cluster name")
    if source not in ("configmap", "release"):
        raise AnsibleFilterError("live_changes: source %r; allowed: configmap, release" % source)
    try:
        if source == "release":
            live = live_config.from_values(data) if data else None
        else:
            live = live_config.read_live(data, "cluster %s: cilium-config" % cluster)
        return live_config.reinstall_changes(cluster, values, live)
    except (live_config.LiveConfigError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("live_changes: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"live_changes": live_changes}

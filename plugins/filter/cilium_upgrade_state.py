# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cilium_upgrade_state
author: edgemesh maintainers
version_added: 0.4.0
short_description: The state file with one cluster's new Cilium version
description:
  - Reads the state file's text through the one state schema, sets the cluster's
    C(cilium_version) and returns the text the schema's writer gives.
options:
  _input:
    description: The state file's text.
    type: str
    required: true
  cluster:
    description: The verified cluster.
    type: str
    required: true
  version:
    description: Its new Cilium version.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: New state text
  ansible.builtin.set_fact:
    __text: "{{ lookup('ansible.builtin.file', state) | edgemesh.cluster_mesh.cilium_upgrade_state('eu-core', '1.19.6') }}"
"""

RETURN = r"""
_value:
  description: The new text of the state file.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    cilium_upgrade,
    mesh_rules,
    mesh_state_schema,
)


def cilium_upgrade_state(text, cluster, version):
    if not isinstance(text, str):
        raise AnsibleFilterError("cilium_upgrade_state: the input must be the state file's text")
    if not isinstance(cluster, str) or not isinstance(version, str):
        raise AnsibleFilterError("cilium_upgrade_state: give the cluster and its version")
    try:
        return cilium_upgrade.record_version(text, cluster, version)
    except (
        cilium_upgrade.UpgradeError,
        mesh_state_schema.StateError,
        mesh_rules.RuleError,
    ) as exc:
        raise AnsibleFilterError("cilium_upgrade_state: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"cilium_upgrade_state": cilium_upgrade_state}

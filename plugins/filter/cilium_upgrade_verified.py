# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cilium_upgrade_verified
author: edgemesh maintainers
version_added: 0.4.0
short_description: What failed in the verify of one upgraded cluster
description:
  - The failed status checks of the cluster (the C(verify_checks) the verify role set; a
    check that did not run fails) and the data-plane probe calls made from it.
  - An empty list means the cluster is verified and its new version may be recorded.
options:
  _input:
    description: The mesh plan.
    type: dict
    required: true
  cluster:
    description: The upgraded cluster.
    type: str
    required: true
  checks:
    description: Its C(verify_checks).
    type: dict
    required: true
  probe_log:
    description: Its probe Job's log (C(verify_probe_log)); null when no probe ran.
    type: str
    required: false
"""

EXAMPLES = r"""
- name: Fail with what is wrong
  ansible.builtin.fail:
    msg: "{{ __failures }}"
  vars:
    __failures: "{{ plan | edgemesh.cluster_mesh.cilium_upgrade_verified('eu-core', verify_checks, none) }}"
  when: __failures | length > 0
"""

RETURN = r"""
_value:
  description: "The failures, C(<cluster>: <check>: <detail>) and C(<cluster> -> <peer> via ...)."
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import cilium_upgrade


def cilium_upgrade_verified(plan, cluster, checks, probe_log=None):
    if not isinstance(plan, dict) or not isinstance(plan.get("clusters"), list):
        raise AnsibleFilterError("cilium_upgrade_verified: the input must be the mesh plan")
    if not isinstance(cluster, str) or not isinstance(checks, dict):
        raise AnsibleFilterError(
            "cilium_upgrade_verified: give the cluster name and its verify_checks mapping"
        )
    if probe_log is not None and not isinstance(probe_log, str):
        raise AnsibleFilterError("cilium_upgrade_verified: probe_log must be text or null")
    return cilium_upgrade.verify_failures(plan, cluster, checks, probe_log)


class FilterModule(object):
    def filters(self):
        return {"cilium_upgrade_verified": cilium_upgrade_verified}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cilium_upgrade_step
author: edgemesh maintainers
version_added: 0.4.0
short_description: What one cluster's Cilium upgrade installs
description:
  - For one step of C(edgemesh.cluster_mesh.cilium_upgrade_plan), the plan the cilium role
    installs (the target version, C(upgradeCompatibility) set to the minor being left), the
    values of the C(cilium-preflight) release (image pre-pull) and the 1.19
    C(clustermesh-remote-users) requirement.
  - Fails naming the cluster when the target values would leave the clustermesh-apiserver
    without its C(clustermesh-remote-users) ConfigMap.
options:
  _input:
    description: The mesh plan.
    type: dict
    required: true
  step:
    description: One element of the upgrade plan's C(steps).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The cluster's step
  ansible.builtin.set_fact:
    __step: "{{ edgemesh_plan | edgemesh.cluster_mesh.cilium_upgrade_step(__upgrade.steps[0]) }}"
"""

RETURN = r"""
_value:
  description: C({plan, preflight_values}).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    cilium_upgrade,
    cilium_values,
)

_STEP_KEYS = ("cluster", "current", "target", "upgrade_compatibility", "policy_check")


def cilium_upgrade_step(plan, step):
    if not isinstance(plan, dict) or not isinstance(plan.get("clusters"), list):
        raise AnsibleFilterError("cilium_upgrade_step: the input must be the mesh plan")
    if not isinstance(step, dict) or any(k not in step for k in _STEP_KEYS):
        raise AnsibleFilterError(
            "cilium_upgrade_step: step must be one of cilium_upgrade_plan's steps (keys: %s)"
            % ", ".join(_STEP_KEYS)
        )
    try:
        moved = cilium_upgrade.step_plan(plan, step)
        values = cilium_values.cluster_values(moved, step["cluster"])
        problem = cilium_upgrade.remote_users_problem(values, step["target"])
        if problem:
            raise cilium_upgrade.UpgradeError("cluster %s: %s" % (step["cluster"], problem))
        return {"plan": moved, "preflight_values": cilium_upgrade.preflight_values(plan, step)}
    except (cilium_upgrade.UpgradeError, cilium_values.CiliumValuesError) as exc:
        raise AnsibleFilterError("cilium_upgrade_step: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"cilium_upgrade_step": cilium_upgrade_step}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cilium_upgrade_plan
author: edgemesh maintainers
version_added: 0.4.0
short_description: The order and hops of a mesh-wide Cilium upgrade
description:
  - From the plan, the live Cilium version of every cluster and the target version, the
    clusters to upgrade in plan order (one at a time), each with the minor it leaves for
    C(upgradeCompatibility) and whether C(clustermesh.policyDefaultLocalCluster) changes.
  - Refuses a hop that skips a minor, a downgrade, a mesh that would span more than one
    minor at any step, an unknown version and a cluster without a Cilium release, naming
    the clusters, their versions and what to do first. Clusters at the target are skipped.
options:
  _input:
    description: The mesh plan.
    type: dict
    required: true
  live:
    description:
      - The C(results) of a C(kubernetes.core.helm_info) loop over the plan's clusters
        (each with C(item.name) and C(status)), or C({cluster - version}).
    type: raw
    required: true
  target:
    description: The Cilium version to upgrade to (X.Y.Z).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Compute the upgrade
  ansible.builtin.set_fact:
    __upgrade: "{{ edgemesh_plan | edgemesh.cluster_mesh.cilium_upgrade_plan(__helm.results, '1.19.6') }}"
"""

RETURN = r"""
_value:
  description:
    - C(target), C(steps) (list of C({cluster, current, target, upgrade_compatibility,
      policy_check}) in upgrade order) and C(skipped) (clusters already at the target).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import cilium_upgrade


def _live_map(live):
    if isinstance(live, dict):
        return live
    if not isinstance(live, (list, tuple)):
        raise AnsibleFilterError("cilium_upgrade_plan: live must be a mapping or a loop's results")
    out = {}
    for result in live:
        name = ((result or {}).get("item") or {}).get("name")
        if not name:
            raise AnsibleFilterError("cilium_upgrade_plan: a live result has no item.name")
        out[name] = cilium_upgrade.live_version(result.get("status"))
    return out


def cilium_upgrade_plan(plan, live, target):
    if not isinstance(plan, dict) or not isinstance(plan.get("clusters"), list):
        raise AnsibleFilterError("cilium_upgrade_plan: the input must be the mesh plan")
    if not isinstance(target, str) or not target:
        raise AnsibleFilterError(
            "cilium_upgrade_plan: give the target version (edgemesh_cilium_upgrade_version)"
        )
    try:
        return cilium_upgrade.upgrade_plan(plan, _live_map(live), target)
    except cilium_upgrade.UpgradeError as exc:
        raise AnsibleFilterError("cilium_upgrade_plan: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"cilium_upgrade_plan": cilium_upgrade_plan}

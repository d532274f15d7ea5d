# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cilium_policy_change
author: edgemesh maintainers
version_added: 0.4.0
short_description: The Cilium policies whose meaning a policyDefaultLocalCluster flip changes
description:
  - Lists the CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies whose peer
    selectors (C(fromEndpoints), C(toEndpoints), also in deny rules) carry no
    C(io.cilium.k8s.policy.cluster) label, so select only the local cluster once
    C(clustermesh.policyDefaultLocalCluster) is on (the Cilium 1.19 default).
  - C(problem) is the refusal text when the step changes that setting, such policies exist
    and the change is not accepted; else null.
options:
  _input:
    description: The policy objects (C(resources) of C(kubernetes.core.k8s_info) reads).
    type: list
    elements: dict
    required: true
  step:
    description: One element of C(edgemesh.cluster_mesh.cilium_upgrade_plan)'s C(steps).
    type: dict
    required: true
  accept:
    description: C(edgemesh_cilium_upgrade_accept_policy_change).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Check the policies
  ansible.builtin.set_fact:
    __policy: "{{ __cnp.resources + __ccnp.resources | edgemesh.cluster_mesh.cilium_policy_change(__step, false) }}"
"""

RETURN = r"""
_value:
  description: C({changed - [{kind, namespace, name, selectors}], problem - str or null}).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import cilium_upgrade


def cilium_policy_change(objects, step, accept=False):
    if not isinstance(objects, (list, tuple)):
        raise AnsibleFilterError("cilium_policy_change: the input must be a list of policy objects")
    if not isinstance(step, dict) or not {"cluster", "current", "target", "policy_check"} <= set(
        step
    ):
        raise AnsibleFilterError("cilium_policy_change: step must be one of the upgrade's steps")
    if not isinstance(accept, bool):
        raise AnsibleFilterError(
            "cilium_policy_change: accept (edgemesh_cilium_upgrade_accept_policy_change) must "
            "be true or false, got %r" % (accept,)
        )
    return {
        "changed": cilium_upgrade.policies_changing_meaning(objects),
        "problem": cilium_upgrade.policy_change_problem(step["cluster"], step, objects, accept),
    }


class FilterModule(object):
    def filters(self):
        return {"cilium_policy_change": cilium_policy_change}

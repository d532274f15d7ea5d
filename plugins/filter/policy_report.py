# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: policy_report
short_description: What the cross-cluster policies would enforce, as lines (audit mode)
version_added: 0.2.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - One line per wanted policy (the endpoints it selects and what they accept ingress from,
    on which ports) and one per managed policy that would be deleted.
  - The global_services role prints it instead of applying with
    C(global_services_policy_audit=true); Cilium has no per-policy audit switch.
  - The logic lives in C(plugins/module_utils/mesh_policies.py) (C(policy_report)).
options:
  _input:
    description: What C(edgemesh.cluster_mesh.mesh_policies) returns.
    type: dict
    required: true
  cleanup:
    description: What C(edgemesh.cluster_mesh.managed_cleanup) returns (its C(delete) list is reported).
    type: dict
"""

EXAMPLES = r"""
- name: Print what would be enforced
  ansible.builtin.debug:
    msg: "{{ wanted_policies | edgemesh.cluster_mesh.policy_report(cleanup) }}"
  # -> ["would apply CiliumClusterwideNetworkPolicy//edgemesh-baseline: endpoints (...) accept
  #     ingress from entities cluster,health,host,kube-apiserver,remote-node on every port", ...]
"""

RETURN = r"""
_value:
  description: The lines.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_policies import (
    PolicyError,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_policies import (
    policy_report as build,
)


def policy_report(wanted, cleanup=None):
    if cleanup is not None and not isinstance(cleanup, dict):
        raise AnsibleFilterError(
            "policy_report: cleanup is %r; allowed: what managed_cleanup returns" % (cleanup,)
        )
    try:
        return build(wanted, cleanup)
    except PolicyError as exc:
        raise AnsibleFilterError("policy_report: %s" % exc)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(
            "policy_report: the policies are not what mesh_policies builds (%s: %s)"
            % (type(exc).__name__, exc)
        )


class FilterModule(object):
    def filters(self):
        return {"policy_report": policy_report}

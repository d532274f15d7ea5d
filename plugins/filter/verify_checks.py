# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: verify_checks
short_description: Turn the verify role's registered API answers into check results
version_added: 0.2.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Evaluates what C(roles/verify/tasks/service.yml) registered - the Cilium DaemonSet and
    Deployments, a running agent, its C(cilium-dbg status) output and the EndpointSlices of
    local-affinity global services - into one result per check, in the order of the verify
    table - C(agents), C(operator), C(clustermesh-apiserver), C(clustermesh), C(encryption),
    C(kube-proxy-replacement), C(local-affinity).
  - A failed or refused API call is a failed check with a detail saying so, never an error;
    only input of another shape than those tasks register is refused.
  - The logic lives in C(plugins/module_utils/cilium_status.py).
options:
  _input:
    description:
      - The registered results, keyed C(workloads) (the looped C(k8s_info) of DaemonSet
        C(cilium), Deployments C(cilium-operator) and C(clustermesh-apiserver), in that
        order), C(agents) (C(k8s_info) of the running agent pods), C(status) (C(k8s_exec) of
        C(cilium-dbg status) in one agent, or the loop of it over every running agent, each
        item the agent's pod name) and C(local_services) (the looped C(k8s_info) of EndpointSlices,
        one item per service with C(name) and C(namespace)).
    type: dict
    required: true
  expected_remotes:
    description: Number of remote clusters every agent must see ready (the plan's peers).
    type: int
    required: true
  expect_encryption:
    description: Require the line C(Encryption) to say C(Wireguard).
    type: bool
    default: true
  expect_kube_proxy_replacement:
    description: Require the line C(KubeProxyReplacement) to say C(True).
    type: bool
    default: true
  peers:
    description:
      - The plan's peers. Remote clusters an agent lists as not ready are named in the
        C(clustermesh) detail with their kvstore line; with every remote listed
        (C(cilium-dbg status --all-clusters)), a peer not listed is named as not connected
        and a listed cluster that is not a peer as not in the plan.
    type: list
    elements: str
    default: []
  waited:
    description: Seconds the role waited before evaluating; said in every failed cell (V(0) says nothing).
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Evaluate the checks (what roles/verify/tasks/service.yml does)
  ansible.builtin.set_fact:
    verify_checks: >-
      {{ {'workloads': __verify_workloads, 'agents': __verify_agents,
          'status': __verify_status, 'local_services': __verify_local_services}
         | edgemesh.cluster_mesh.verify_checks(expected_remotes=2) }}
  # -> {agents: {ok: true, detail: 3/3 ready}, ..., clustermesh: {ok: false,
  #     detail: 1/2 remote ready, want 2/2}, ...}
"""

RETURN = r"""
_value:
  description: Check name to its result.
  type: dict
  contains:
    ok:
      description: Whether the check passed.
      type: bool
    detail:
      description: What was seen, for example V(3/3 ready) or V(no cilium-dbg status - no running agent).
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_status import (
    Expectations,
    StatusInputError,
    checks_from_registered,
)


def _flag(value, name):
    if not isinstance(value, bool):
        raise AnsibleFilterError("verify_checks: %s is %r; allowed: true or false" % (name, value))
    return value


def verify_checks(
    registered,
    expected_remotes,
    expect_encryption=True,
    expect_kube_proxy_replacement=True,
    peers=None,
    waited=0,
):
    peers = [] if peers is None else peers
    if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
        raise AnsibleFilterError("verify_checks: peers is %r; allowed: cluster names" % (peers,))
    if isinstance(waited, bool) or not isinstance(waited, int) or waited < 0:
        raise AnsibleFilterError(
            "verify_checks: waited is %r; allowed: seconds, 0 or more" % (waited,)
        )
    if isinstance(expected_remotes, bool) or not isinstance(expected_remotes, int):
        raise AnsibleFilterError(
            "verify_checks: expected_remotes is %r; allowed: a number of clusters, 0 or more"
            % (expected_remotes,)
        )
    if expected_remotes < 0:
        raise AnsibleFilterError(
            "verify_checks: expected_remotes is %d; allowed: 0 or more" % expected_remotes
        )
    expectations = Expectations(
        remote_clusters=expected_remotes,
        encryption=_flag(expect_encryption, "expect_encryption"),
        kube_proxy_replacement=_flag(
            expect_kube_proxy_replacement, "expect_kube_proxy_replacement"
        ),
        peers=tuple(peers),
        waited=waited,
    )
    try:
        return checks_from_registered(registered, expectations)
    except StatusInputError as exc:
        raise AnsibleFilterError("verify_checks: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"verify_checks": verify_checks}

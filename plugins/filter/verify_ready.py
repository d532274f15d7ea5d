# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: verify_ready
short_description: Whether one answer of the verify role's wait tasks shows what they wait for
version_added: 0.3.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - The C(until) condition of the waits in C(roles/verify/tasks/service.yml) - the role tries
    again, within C(verify_wait_timeout), until the Cilium DaemonSet and Deployments are
    ready, an agent runs, every agent's C(cilium-dbg status) shows all remote clusters
    ready with the expected encryption and kube-proxy replacement, and local-affinity
    services have ready endpoints (what C(cilium clustermesh status --wait) waits for).
  - A failed call is not ready, never an error; only input of another shape is refused.
  - The logic lives in C(plugins/module_utils/cilium_status.py).
options:
  _input:
    description: One registered answer (the current loop item's, inside C(until)).
    type: dict
    required: true
  what:
    description: What the task waits for.
    type: str
    choices: [workload, agents, status, endpoints]
    required: true
  expected_remotes:
    description: Remote clusters every agent must see ready (for V(status)).
    type: int
    default: 0
  expect_encryption:
    description: Require WireGuard (for V(status)).
    type: bool
    default: true
  expect_kube_proxy_replacement:
    description: Require kube-proxy replacement (for V(status)).
    type: bool
    default: true
  peers:
    description: The plan's peers; a listed remote that is not ready, missing or unknown is not ready.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Wait for the agent to see every remote cluster
  kubernetes.core.k8s_exec:
    namespace: kube-system
    pod: "{{ item }}"
    command: cilium-dbg status --all-clusters
  loop: "{{ agent_names }}"
  register: status
  until: status | edgemesh.cluster_mesh.verify_ready('status', expected_remotes=2)
  retries: 30
  delay: 10
"""

RETURN = r"""
_value:
  description: Whether the answer shows the thing ready.
  type: bool
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_status import (
    Expectations,
    StatusInputError,
    ready,
)


def _check(value, kind, name):
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise AnsibleFilterError(
            "verify_ready: %s is %r; allowed: %s" % (name, value, kind.__name__)
        )
    return value


def verify_ready(
    result,
    what,
    expected_remotes=0,
    expect_encryption=True,
    expect_kube_proxy_replacement=True,
    peers=None,
):
    peers = [] if peers is None else peers
    if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
        raise AnsibleFilterError("verify_ready: peers is %r; allowed: cluster names" % (peers,))
    expect = Expectations(
        remote_clusters=_check(expected_remotes, int, "expected_remotes"),
        encryption=_check(expect_encryption, bool, "expect_encryption"),
        kube_proxy_replacement=_check(
            expect_kube_proxy_replacement, bool, "expect_kube_proxy_replacement"
        ),
        peers=tuple(peers),
    )
    try:
        return ready(what, result, expect)
    except StatusInputError as exc:
        raise AnsibleFilterError("verify_ready: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"verify_ready": verify_ready}

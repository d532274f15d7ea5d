# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: verify_retries
short_description: Retries left to a wait task so that all waits end within one timeout
version_added: 0.3.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Given when the waiting started (seconds since the epoch), the timeout and the delay
    between tries, the number of retries a task's C(until) may still make now, so that the
    waits of C(roles/verify/tasks/service.yml) together end within C(verify_wait_timeout).
    V(0) means one try.
  - The logic lives in C(plugins/module_utils/cilium_status.py).
options:
  _input:
    description: When the waiting started, seconds since the epoch.
    type: float
    required: true
  timeout:
    description: Seconds all waits may take together.
    type: int
    required: true
  delay:
    description: Seconds between two tries.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Wait, within what is left of the timeout
  kubernetes.core.k8s_info:
    kind: DaemonSet
    name: cilium
    namespace: kube-system
  register: ds
  until: ds | edgemesh.cluster_mesh.verify_ready('workload')
  retries: "{{ started | edgemesh.cluster_mesh.verify_retries(300, 10) }}"
  delay: 10
"""

RETURN = r"""
_value:
  description: Retries left (0 or more).
  type: int
"""

import time

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_status import (
    StatusInputError,
    retries_left,
)


def verify_retries(started, timeout, delay):
    try:
        started = float(started)
    except (TypeError, ValueError):
        raise AnsibleFilterError(
            "verify_retries: started is %r; allowed: seconds since the epoch" % (started,)
        )
    try:
        return retries_left(started, time.time(), timeout, delay)
    except StatusInputError as exc:
        raise AnsibleFilterError("verify_retries: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"verify_retries": verify_retries}

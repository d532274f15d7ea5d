# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: global_services
short_description: The Cluster Mesh annotations the global_services role puts on one cluster's Services
version_added: 0.3.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Checks every entry of C(global_services_services) and returns, for each Service the
    cluster serves (C(clusters) empty or naming it), the merge patch the role applies - the
    annotations C(service.cilium.io/global), C(service.cilium.io/shared) and
    C(service.cilium.io/affinity), and the label C(global-services.edgemesh.io/managed=true)
    that lets the role find, and release, the Services it annotated.
  - A bad entry is refused naming the service, the key, the value and what is allowed.
  - The logic lives in C(plugins/module_utils/global_services.py).
options:
  _input:
    description:
      - The global services - C(name), C(namespace) (default C(default)), C(shared) (default
        true), C(affinity) (C(local), C(remote) or C(none), default C(none)), C(clusters)
        (default every cluster).
    type: list
    elements: dict
    required: true
  cluster:
    description: The cluster (as in the plan).
    type: str
    required: true
  clusters:
    description: The plan's clusters (C(edgemesh_plan.clusters)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: The Service patches of eu-core (what roles/global_services/tasks/configure.yml does)
  ansible.builtin.set_fact:
    wanted: >-
      {{ [{'name': 'echo', 'namespace': 'demo', 'affinity': 'local'}]
         | edgemesh.cluster_mesh.global_services('eu-core', edgemesh_plan.clusters) }}
  # -> {"Service/demo/echo": {apiVersion: v1, kind: Service, metadata: {name: echo,
  #     namespace: demo, labels: {...}, annotations: {service.cilium.io/global: "true", ...}}}}
"""

RETURN = r"""
_value:
  description: C(Service/namespace/name) to the merge patch to apply.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.global_services import (
    ServiceError,
    wanted_services,
)


def global_services(services, cluster, clusters):
    if not isinstance(cluster, str) or not cluster:
        raise AnsibleFilterError(
            "global_services: cluster is %r; allowed: a cluster name" % (cluster,)
        )
    try:
        return wanted_services(services, cluster, clusters)
    except ServiceError as exc:
        raise AnsibleFilterError("global_services: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"global_services": global_services}

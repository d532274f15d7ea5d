# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: live_targets
author: edgemesh maintainers
version_added: 0.3.0
short_description: The existing clusters of the inventory whose live cilium-config can be read
description:
  - From the hosts of the clusters, the clusters whose group sets C(edgemesh_kubeconfig)
    (existing clusters, not built by the collection), one entry each, sorted by name.
  - Two hosts of one cluster that disagree on its kubeconfig or context are refused.
  - Used by C(playbooks/adopt_live.yml), which writes C(<output_dir>/live/<cluster>.json).
options:
  _input:
    description: The play's C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts of the clusters (C(groups['edgemesh_clusters'])).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: The existing clusters
  ansible.builtin.set_fact:
    __targets: "{{ hostvars | edgemesh.cluster_mesh.live_targets(groups['edgemesh_clusters'] | default([])) }}"
"""

RETURN = r"""
_value:
  description: One entry per existing cluster.
  type: list
  elements: dict
  contains:
    cluster:
      description: The cluster's name (C(edgemesh_cluster_name)).
      type: str
    kubeconfig:
      description: Its C(edgemesh_kubeconfig).
      type: str
    context:
      description: Its C(edgemesh_kube_context), empty for the kubeconfig's current one.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import live_config

KEYS = ("edgemesh_cluster_name", "edgemesh_kubeconfig", "edgemesh_kube_context")


def live_targets(hostvars, hosts):
    if not isinstance(hosts, (list, tuple)) or not all(isinstance(h, str) for h in hosts):
        raise AnsibleFilterError("live_targets: hosts must be a list of host names")
    try:
        found = dict((host, dict((key, hostvars[host].get(key)) for key in KEYS)) for host in hosts)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError("live_targets: the input must be hostvars (%s)" % exc)
    try:
        return live_config.live_targets(found)
    except live_config.LiveConfigError as exc:
        raise AnsibleFilterError("live_targets: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"live_targets": live_targets}

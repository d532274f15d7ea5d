# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: live_files
author: edgemesh maintainers
version_added: 0.3.0
short_description: The live files of the existing clusters, from their cilium-config
description:
  - Turns the registered results of a C(kubernetes.core.k8s_info) loop over
    C(edgemesh.cluster_mesh.live_targets) (kind ConfigMap, C(kube-system/cilium-config))
    into the files C(live/<cluster>.json) that C(playbooks/plan.yml) reads, for
    C(edgemesh.cluster_mesh.write_files).
  - Each file keeps only the keys the planner reads (cluster name and ID, IPAM mode,
    cluster-pool CIDRs); a cluster without the ConfigMap (no Cilium yet) gets C(data) null.
options:
  _input:
    description: The C(results) of the k8s_info loop (each with C(item) and C(resources)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Write the live files
  edgemesh.cluster_mesh.write_files:
    dest: "{{ __out }}"
    files: "{{ __configmaps.results | edgemesh.cluster_mesh.live_files }}"
"""

RETURN = r"""
_value:
  description: C({live/<cluster>.json - {content, mode 0644}}).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import live_config


def live_files(results):
    if not isinstance(results, (list, tuple)):
        raise AnsibleFilterError("live_files: the input must be the k8s_info loop's results")
    try:
        return live_config.live_files(results)
    except live_config.LiveConfigError as exc:
        raise AnsibleFilterError("live_files: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"live_files": live_files}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: drill_targets
author: edgemesh maintainers
version_added: 0.3.0
short_description: Who the link-failure drill cuts off, and from which addresses
description:
  - For one region of the mesh plan, the clusters and nodes to cut off and the addresses
    they must stop reaching - every node address (v4 and v6) of the clusters in the other
    regions and their clustermesh LoadBalancer addresses (playbooks/drill_partition.yml).
options:
  _input:
    description: The mesh plan.
    type: dict
    required: true
  region:
    description: The region to cut off.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Show what cutting off eu-west means
  ansible.builtin.debug:
    msg: "{{ edgemesh_plan | edgemesh.cluster_mesh.drill_targets('eu-west') }}"
"""

RETURN = r"""
_value:
  description: C(region), C(cut_clusters), C(cut_hosts), C(kept_clusters), C(peers) (sorted addresses).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import partition_drill


def drill_targets(plan, region):
    if not isinstance(plan, dict):
        raise AnsibleFilterError("drill_targets: the input must be the mesh plan")
    try:
        return partition_drill.targets(plan, str(region))
    except partition_drill.DrillError as exc:
        raise AnsibleFilterError("drill_targets: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"drill_targets": drill_targets}

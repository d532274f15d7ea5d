# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: drill_judge
author: edgemesh maintainers
version_added: 0.3.0
short_description: What the data-plane probe must show while a region is cut off
description:
  - Judges the cells of the data-plane probe (P(edgemesh.cluster_mesh.probe_report#filter))
    taken during the link-failure drill - the global service with affinity local answers in
    every cluster, each side of the cut still reaches itself, and nothing crosses the cut -
    and returns one message per violation.
options:
  _input:
    description: The mesh plan.
    type: dict
    required: true
  drill:
    description: The drill's targets (P(edgemesh.cluster_mesh.drill_targets#filter)).
    type: dict
    required: true
  cells:
    description: The probe report's C(cells) (source cluster to target to cell).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Judge the probe taken during the cut
  ansible.builtin.debug:
    msg: "{{ edgemesh_plan | edgemesh.cluster_mesh.drill_judge(edgemesh_drill, report.cells) }}"
"""

RETURN = r"""
_value:
  description: One message per violation; empty when the partition behaved as it should.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import partition_drill


def drill_judge(plan, drill, cells):
    if not all(isinstance(x, dict) for x in (plan, drill, cells)):
        raise AnsibleFilterError("drill_judge: give the plan, the drill targets and the cells")
    try:
        return partition_drill.judge_probe(plan, drill, cells)
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError("drill_judge: the drill targets lack %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"drill_judge": drill_judge}

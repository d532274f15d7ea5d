# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: probe_report
author: edgemesh maintainers
version_added: 0.3.0
short_description: The cluster x cluster reachability table of the data-plane probe
description:
  - Reads each cluster's probe Job log and says who reached whom - through the global
    Service with affinity local (column C(local)) and through each cluster's remote-only
    Service - with the latency, and lists every pair that did not work.
options:
  _input:
    description: The mesh plan.
    type: dict
    required: true
  logs:
    description: Cluster name to its probe Job's log (null when none could be read).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show the reachability table
  ansible.builtin.debug:
    msg: "{{ (edgemesh_plan | edgemesh.cluster_mesh.probe_report(logs)).table }}"
"""

RETURN = r"""
_value:
  description: C(table) (text), C(failures) (list of text), C(cells) (source to target to cell).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import dataplane_probe


def probe_report(plan, logs):
    if not isinstance(logs, dict):
        raise AnsibleFilterError("probe_report: logs must map clusters to their probe logs")
    try:
        return dataplane_probe.report(plan, logs)
    except dataplane_probe.ProbeError as exc:
        raise AnsibleFilterError("probe_report: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"probe_report": probe_report}

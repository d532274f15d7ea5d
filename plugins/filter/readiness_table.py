# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: readiness_table
short_description: Render kernel readiness reports of many hosts as one text table
version_added: "0.1.0"
description:
  - Takes the C(readiness) results of M(edgemesh.cluster_mesh.kernel_readiness) for many
    hosts and renders one fixed-width table (a row per host, a column per feature) followed
    by one line per missing item.
options:
  _input:
    description: Reports keyed by host name, or a list of reports (each names its C(host)).
    type: raw
    required: true
author:
  - edgemesh maintainers
"""

EXAMPLES = r"""
- name: Print one table for all hosts
  ansible.builtin.debug:
    msg: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, ['__node_prep_readiness', 'readiness'])))
             | edgemesh.cluster_mesh.readiness_table }}"
"""

RETURN = r"""
_value:
  description: The table as text, one line per host, then the missing items.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.kernel_readiness import (
    ReadinessError,
    render_table,
)


def readiness_table(reports):
    if isinstance(reports, list):
        keyed = {}
        for report in reports:
            if not isinstance(report, dict) or not report.get("host"):
                raise AnsibleFilterError(
                    "readiness_table: every report in a list needs a 'host', got %r" % (report,)
                )
            keyed[report["host"]] = report
        reports = keyed
    if not isinstance(reports, dict):
        raise AnsibleFilterError(
            "readiness_table: expected a dict of host -> report or a list of reports, got %s"
            % type(reports).__name__
        )
    try:
        return render_table(reports)
    except ReadinessError as exc:
        raise AnsibleFilterError("readiness_table: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"readiness_table": readiness_table}

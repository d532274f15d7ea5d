# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: verify_report
short_description: The clusters x checks table of playbooks/verify.yml and its failures
version_added: 0.2.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Lays out the results of P(edgemesh.cluster_mesh.verify_checks#filter) of every cluster
    as a fixed-width table, one row per cluster and one column per check (V(ok), V(FAIL), or
    V(-) where the check did not run), and lists every failed cell (cluster, check and
    detail, separated by colons); a cluster without results is listed as not checked.
  - The logic lives in C(plugins/module_utils/cilium_status.py).
options:
  _input:
    description: Cluster names, one per row.
    type: list
    elements: str
    required: true
  checks:
    description:
      - The checks of each cluster, in the order of the names (a missing or empty entry
        means the cluster was not checked).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Show the table, then fail with what is wrong (what playbooks/verify.yml does)
  vars:
    report: "{{ ['eu-core', 'us-core'] | edgemesh.cluster_mesh.verify_report([eu_checks, {}]) }}"
  block:
    - name: Show the table
      ansible.builtin.debug:
        msg: "{{ report.table }}"
    - name: Fail with what is wrong
      ansible.builtin.fail:
        msg: "{{ report.failures }}"
      when: report.failures | length > 0
"""

RETURN = r"""
_value:
  description: The table and the failures.
  type: dict
  contains:
    table:
      description: The lines of the table, a header first.
      type: list
      elements: str
    failures:
      description: One line per failed cell (cluster, check and detail, separated by colons), and one per cluster without results.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_status import report


def _check_cells(name, checks):
    for check, cell in checks.items():
        if not isinstance(cell, dict) or "ok" not in cell or "detail" not in cell:
            raise AnsibleFilterError(
                "verify_report: cluster %s: check %s is %r; allowed: a mapping with ok and detail"
                % (name, check, cell)
            )


def verify_report(names, checks):
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise AnsibleFilterError(
            "verify_report: expected a list of cluster names, got %r" % (names,)
        )
    if not isinstance(checks, list) or len(checks) > len(names):
        raise AnsibleFilterError(
            "verify_report: checks must be a list with at most one entry per cluster, got %r"
            % (checks,)
        )
    for name, entry in zip(names, checks):
        if entry is not None and not isinstance(entry, dict):
            raise AnsibleFilterError(
                "verify_report: cluster %s: checks are %r; allowed: a mapping" % (name, entry)
            )
        _check_cells(name, entry or {})
    return report(names, checks)


class FilterModule(object):
    def filters(self):
        return {"verify_report": verify_report}

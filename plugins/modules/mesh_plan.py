#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mesh_plan
short_description: Plan the Cilium Cluster Mesh and write every file of the plan in one step
version_added: 0.2.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - The step behind C(playbooks/plan.yml). Reads the inventory's group tree
    (C(ansible-inventory --list) on the play's inventory sources), the mesh-wide
    C(edgemesh_*) settings of the play host, the cluster-level C(edgemesh_*) and
    C(cilium_*) variables of each cluster (as the play sees them, extra vars included)
    and the previous state file; plans cluster IDs, pod/service CIDRs and clustermesh
    NodePorts; renders every artifact (C(plan.json), C(plan.md), C(summary.txt),
    C(<cluster>/cilium-values.yaml)) and the state file (0600); writes only what differs.
  - Any refusal fails the task with one message naming the cluster, key, value and what
    is allowed, before anything is written.
  - Every inventory source must have parsed - a file of an inventory directory, a
    C(group_vars)/C(host_vars) file beside a source, a missing path - else the task fails
    naming the file and line (Ansible itself only warns and plays on without them).
  - Files an earlier run wrote (listed in C(<output_dir>/plan-files.json)) that the plan no
    longer produces - those of clusters that left the plan - are removed; files this
    action never wrote (kubeconfigs, tokens, the mesh CA) are never touched.
  - Reads the live files C(<output_dir>/live/<cluster>.json) that C(playbooks/adopt_live.yml)
    wrote from the existing clusters' C(cilium-config); a live cluster keeps its cluster ID
    and pool CIDRs and a plan that contradicts them is refused (docs/planner.md, "Live
    clusters"). A live file that cannot be read fails the task naming it.
  - Returns what changed since the previous C(plan.json) (RV(changes), RV(change_summary)).
  - The logic lives in C(plugins/module_utils/) (C(mesh_planner), C(mesh_artifacts),
    C(cilium_values)); this is an action plugin that runs on the control node.
options:
  output_dir:
    description:
      - Directory of the plan's files (relative to the working directory).
      - Unset or empty means C(<inventory dir>/.edgemesh) beside the inventory sources
        (C(plugins/module_utils/mesh_paths.py), the same as the C(edgemesh.cluster_mesh.output_dir)
        filter); refused when the sources are in several directories.
    type: path
  state_file:
    description: The state file; empty means C(<output_dir>/mesh-state.json).
    type: path
  inventory_sources:
    description: Inventory sources to read the group tree from; default the play's.
    type: list
    elements: str
attributes:
  action:
    support: full
    description: Runs as an action plugin on the control node.
  check_mode:
    support: full
    description: Plans and reports which files would change; writes nothing.
  diff_mode:
    support: partial
    description:
      - Before/after of every changed or removed file, at most 50 files; files of mode
        0600 (the state file) are never shown.
  platform:
    support: full
    platforms: posix
    description: The control node.
"""

EXAMPLES = r"""
- name: Plan the mesh and write its files beside the inventory (<inventory dir>/.edgemesh)
  edgemesh.cluster_mesh.mesh_plan:
  register: plan

- name: Read the plan it wrote
  ansible.builtin.set_fact:
    edgemesh_plan: "{{ lookup('ansible.builtin.file', plan.output_dir ~ '/plan.json') | from_json }}"
"""

RETURN = r"""
plan:
  description:
    - The plan (docs/contracts.md), in check mode, when C(plan.json) is not written.
    - After a real run the plan is C(<output_dir>/plan.json).
  returned: check mode
  type: dict
summary:
  description: The lines of C(summary.txt).
  returned: success
  type: list
  elements: str
changed_files:
  description: Files (relative to O(output_dir), or absolute) written, or that would be.
  returned: success
  type: list
  elements: str
removed_files:
  description: Files of an earlier plan removed (in check mode, that would be).
  returned: success
  type: list
  elements: str
changes:
  description:
    - What changed since the previous C(plan.json) - C(first), C(added), C(removed)
      (now reserved), C(released), C(returned), C(clusters) (field -> [before, after]),
      C(peers) (added/removed per cluster), C(mesh) (key -> [before, after]).
  returned: success
  type: dict
change_summary:
  description: The same as lines, what C(playbooks/plan.yml) prints.
  returned: success
  type: list
  elements: str
output_dir:
  description: The absolute output directory.
  returned: success
  type: str
timings:
  description: Seconds spent reading the inventory, planning, rendering and writing.
  returned: success
  type: dict
  sample: {inventory: 0.5, plan: 0.1, render: 1.2, write: 0.2}
msg:
  description: A one-line summary, or the refusal.
  returned: always
  type: str
"""

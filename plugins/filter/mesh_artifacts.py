# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: mesh_artifacts
short_description: Render every file of the mesh plan, byte-stable
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Renders the files C(playbooks/plan.yml) writes under C(edgemesh_output_dir), as a
    mapping of relative path to text. The same plan always gives the same bytes.
  - C(plan.json) (sorted keys, two-space indent), C(plan.md) (a table and a Mermaid diagram
    of regions, clusters and mesh links), C(summary.txt) (the fixed-width table plan.yml
    prints), and per cluster C(<name>/cilium-values.yaml).
  - With O(state_file), the state file (derived from the plan, which carries the
    reservations of inactive clusters) is added with its content and mode V(0600), ready
    for M(edgemesh.cluster_mesh.write_files), so that plan.yml writes everything in one
    task.
options:
  _input:
    description:
      - The C(plan) returned by P(edgemesh.cluster_mesh.mesh_plan#filter), or that filter's
        whole result.
    type: dict
    required: true
  options:
    description:
      - The C(cilium_*) knobs of the Cilium values (routing mode, encryption, Hubble, ...).
      - Keys the Cilium values engine does not know are ignored, so all C(cilium_*)
        variables of a play may be passed as they are.
    type: dict
    default: {}
  paths:
    description:
      - Render only these relative paths (for example V(summary.txt)); all files when
        omitted. A path the plan does not produce is an error.
    type: list
    elements: str
  state_file:
    description:
      - Path of the state file to add to the result (mode V(0600)).
    type: str
requirements:
  - PyYAML
  - netaddr
"""

EXAMPLES = r"""
- name: Plan, render and write in one task (what playbooks/plan.yml does)
  edgemesh.cluster_mesh.write_files:
    dest: build
    files: >-
      {{ clusters | edgemesh.cluster_mesh.mesh_plan(settings, previous_state)
         | edgemesh.cluster_mesh.mesh_artifacts({}, state_file='build/mesh-state.json') }}
    return_content: [summary.txt]

- name: Render the plan's files
  ansible.builtin.set_fact:
    mesh_files: "{{ mesh.plan | edgemesh.cluster_mesh.mesh_artifacts({'cilium_hubble': true}) }}"

- name: Print the summary table (renders only that file)
  ansible.builtin.debug:
    msg: "{{ (mesh.plan | edgemesh.cluster_mesh.mesh_artifacts({}, ['summary.txt']))['summary.txt'] }}"
"""

RETURN = r"""
_value:
  description:
    - Relative path under the output directory -> file text; the state file (with
      O(state_file)) -> C({content, mode}).
  type: dict
  sample:
    plan.json: "{...}"
    eu-core/cilium-values.yaml: "cluster:\n  id: 1\n  name: eu-core\n"
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_artifacts import (
    ArtifactError,
    render_artifacts,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import plain


def mesh_artifacts(plan, options=None, paths=None, state_file=None):
    if not isinstance(plan, dict):
        raise AnsibleFilterError(
            "mesh_artifacts: the input must be the plan from mesh_plan, got %s"
            % type(plan).__name__
        )
    if options is not None and not isinstance(options, dict):
        raise AnsibleFilterError(
            "mesh_artifacts: options must be a mapping of cilium_* knobs, got %s"
            % type(options).__name__
        )
    if "plan" in plan and "state" in plan:
        plan = plan["plan"]
    if state_file is not None and not isinstance(state_file, str):
        raise AnsibleFilterError(
            "mesh_artifacts: state_file must be a path, got %s" % type(state_file).__name__
        )
    try:
        return render_artifacts(
            plain(plan),
            plain(options or {}),
            None if paths is None else plain(paths),
            None if state_file is None else str(state_file),
        )
    except ArtifactError as exc:
        raise AnsibleFilterError("mesh_artifacts: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"mesh_artifacts": mesh_artifacts}

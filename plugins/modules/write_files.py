#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: write_files
short_description: Write many files on the control node in one task, only where bytes differ
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Writes a set of text files under a base directory on the control node (the machine
    running Ansible), creating missing directories, in a single task. A loop of one
    M(ansible.builtin.copy) per file costs about half a second per item; this writes
    hundreds of files in well under a second.
  - A file is rewritten only when its bytes or its mode differ; the task reports
    C(changed) and the list of files that changed. It returns no file contents except
    those named in O(return_content), so its output shows no secret even without
    C(no_log).
  - Files are replaced atomically (a temporary file in the same directory, then a rename).
  - This is an action plugin; it runs on the control node whatever the play's hosts are.
options:
  dest:
    description:
      - Base directory. Relative paths are relative to the current working directory of
        the C(ansible-playbook) process.
    type: path
    required: true
  files:
    description:
      - The files, either a mapping of path to text, a mapping of path to
        C({content, mode}), or a list of C({path, content, mode}).
      - Relative paths are joined to O(dest) and must stay inside it; absolute paths are
        written where they point.
    type: raw
    required: true
  mode:
    description: Permission mode of files that set no mode of their own.
    type: raw
    default: "0644"
  directory_mode:
    description: Permission mode of directories the task creates.
    type: raw
    default: "0755"
  return_content:
    description:
      - Paths (as given in O(files)) whose text is returned in RV(contents), for example a
        summary to print. Never list a file holding secrets.
    type: list
    elements: str
    default: []
attributes:
  action:
    support: full
    description: Runs as an action plugin on the control node.
  check_mode:
    support: full
    description: Reports which files would change and writes nothing.
  diff_mode:
    support: none
    description: File contents may be secret, so no diff is shown.
  platform:
    support: full
    platforms: posix
    description: The control node.
notes:
  - Supports C(check_mode).
"""

EXAMPLES = r"""
- name: Write the plan's files and the state file (0600) in one task
  edgemesh.cluster_mesh.write_files:
    dest: build
    files:
      plan.json: "{{ plan | to_nice_json }}"
      mesh-state.json:
        content: "{{ state | to_nice_json }}"
        mode: "0600"

- name: The same with a list
  edgemesh.cluster_mesh.write_files:
    dest: /srv/mesh
    mode: "0640"
    files:
      - path: eu-core/k3s-config.yaml
        content: "cluster-cidr: 10.0.0.0/16\n"
"""

RETURN = r"""
dest:
  description: The absolute base directory.
  returned: always
  type: str
  sample: /home/me/mesh/build
changed_files:
  description: Paths (as given) whose bytes or mode differed and were written, or would be in check mode.
  returned: always
  type: list
  elements: str
  sample: [plan.json, eu-core/cilium-values.yaml]
created_directories:
  description: Directories that were created, or would be in check mode.
  returned: always
  type: list
  elements: str
unchanged:
  description: Number of files already up to date.
  returned: always
  type: int
  sample: 12
contents:
  description: Path -> text of the files named in O(return_content) (also in check mode).
  returned: always
  type: dict
  sample: {summary.txt: "CLUSTER  ID ..."}
msg:
  description: A one-line summary.
  returned: always
  type: str
"""

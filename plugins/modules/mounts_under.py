#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: mounts_under
short_description: List the mounts at or below given directories, in unmount order
version_added: "0.1.0"
description:
  - Reads the target's mount table (C(/proc/self/mountinfo)) and returns every mount point
    that is one of O(roots) or lies below one of them, deepest first, a mount stacked on
    another at the same path listed once per mount, top first.
  - Each root is resolved on the target first (symbolic links such as C(/var/run) ->
    C(/run) followed), since the kernel lists the resolved paths.
  - Never changes anything; unmount the returned paths in the order given, for example
    with M(ansible.posix.mount) O(ansible.posix.mount#module:state=unmounted).
options:
  roots:
    description:
      - Absolute directories; C(/) is refused (it would select every mount of the host).
    type: list
    elements: path
    required: true
  mountinfo_path:
    description:
      - Mount table to read, in the format of C(/proc/<pid>/mountinfo).
    type: path
    default: /proc/self/mountinfo
author:
  - edgemesh maintainers (@edgemesh)
attributes:
  check_mode:
    support: full
    description: Reads only; the result is the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
"""

EXAMPLES = r"""
- name: Find what Cilium mounted under its runtime directory
  edgemesh.cluster_mesh.mounts_under:
    roots: [/var/run/cilium]
  register: cilium_mounts

- name: Unmount them, deepest first
  ansible.posix.mount:
    path: "{{ item }}"
    state: unmounted
  loop: "{{ cilium_mounts.mounts }}"
"""

RETURN = r"""
mounts:
  description: Mount points at or below O(roots), in the order they can be unmounted.
  returned: always
  type: list
  elements: str
  sample: [/run/cilium/cgroupv2, /run/cilium/bpffs]
roots:
  description: The roots as resolved on the target.
  returned: always
  type: list
  elements: str
  sample: [/run/cilium]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mount_table import (
    MountTableError,
    mounts_under,
    normalise_root,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            roots=dict(type="list", elements="path", required=True),
            mountinfo_path=dict(type="path", default="/proc/self/mountinfo"),
        ),
        supports_check_mode=True,
    )
    path = module.params["mountinfo_path"]
    try:
        # Resolved on the target: the kernel lists /run/cilium, not /var/run/cilium.
        roots = [
            normalise_root(os.path.realpath(normalise_root(r))) for r in module.params["roots"]
        ]
    except MountTableError as exc:
        module.fail_json(msg="mounts_under: roots: %s" % exc)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        module.fail_json(msg="mounts_under: cannot read %s: %s" % (path, exc))
    try:
        mounts = mounts_under(text, roots)
    except MountTableError as exc:
        module.fail_json(msg="mounts_under: %s: %s" % (path, exc))
    module.exit_json(changed=False, mounts=mounts, roots=roots)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_files
short_description: Write several small text files on the target in one task
version_added: "0.2.0"
description:
  - Writes each listed file on the managed host, creating missing parent directories,
    and replaces a file only when its bytes differ (a temporary file in the same
    directory, then a rename). Mode, owner and group are set where they differ.
  - One task instead of a M(ansible.builtin.template) or M(ansible.builtin.copy) per file
    (and a M(ansible.builtin.file) per directory). Over a connection where every module
    run costs round trips (podman, SSH without pipelining) those runs are most of a role's time.
    Render the contents on the controller, for example with the
    P(ansible.builtin.template#lookup) lookup.
  - Returns which paths changed, so later tasks (a C(sysctl -p), a service restart) can
    run only for the files that did.
options:
  files:
    description: The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The complete text of the file.
        type: str
        required: true
      mode:
        description: Permission mode, as an octal string.
        type: str
        default: "0644"
      owner:
        description: Owner of the file (and of the directories this creates); unchanged when not given.
        type: str
      group:
        description: Group of the file (and of the directories this creates); unchanged when not given.
        type: str
  directory_mode:
    description: Permission mode of the parent directories the module creates.
    type: str
    default: "0755"
author:
  - edgemesh maintainers (@edgemesh)
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing.
  diff_mode:
    support: full
    description: Shows the old and new text of every file that changes.
notes:
  - Meant for configuration files of a few kilobytes; contents travel in the module arguments.
"""

EXAMPLES = r"""
- name: Write the sysctl and modules-load drop-ins
  edgemesh.cluster_mesh.host_files:
    files:
      - path: /etc/sysctl.d/90-example.conf
        content: "net.ipv4.ip_forward = 1\n"
        owner: root
        group: root
      - path: /etc/modules-load.d/example.conf
        content: "wireguard\n"
  register: written

- name: Apply the sysctls only when their file changed
  ansible.builtin.command: sysctl -p /etc/sysctl.d/90-example.conf
  when: "'/etc/sysctl.d/90-example.conf' in written.changed_paths"
  changed_when: true
"""

RETURN = r"""
changed_paths:
  description: Files (and created directories) that changed or would change, in the order given.
  returned: always
  type: list
  elements: str
  sample: ["/etc/sysctl.d/90-example.conf"]
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native


def _fail(module, path, what, exc):
    module.fail_json(msg="host_files: %s: %s: %s" % (path, what, to_native(exc)))


def _mode(module, text, name):
    try:
        return int(str(text), 8)
    except ValueError:
        module.fail_json(msg="host_files: %s %r is not an octal mode like 0644" % (name, text))


def ensure_directory(module, directory, spec, changed_paths):
    """Create the missing parents of a file (mode directory_mode, owner/group of the file)."""
    if os.path.isdir(directory):
        return
    parent = os.path.dirname(directory)
    if parent and parent != directory:
        ensure_directory(module, parent, spec, changed_paths)
    changed_paths.append(directory)
    if module.check_mode:
        return
    try:
        os.mkdir(directory, _mode(module, module.params["directory_mode"], "directory_mode"))
    except OSError as exc:
        _fail(module, directory, "cannot create the directory", exc)
    module.set_owner_if_different(directory, spec.get("owner"), False)
    module.set_group_if_different(directory, spec.get("group"), False)


def write_one(module, spec, changed_paths, diffs):
    path = spec["path"]
    if not os.path.isabs(path):
        module.fail_json(msg="host_files: path %r is not absolute" % path)
    wanted = to_bytes(spec["content"], errors="surrogate_or_strict")
    mode = _mode(module, spec["mode"], "mode of %s" % path)
    before = None
    if os.path.exists(path):
        if not os.path.isfile(path):
            module.fail_json(msg="host_files: %s exists and is not a regular file" % path)
        try:
            with open(path, "rb") as handle:
                before = handle.read()
        except (IOError, OSError) as exc:
            _fail(module, path, "cannot read", exc)
    ensure_directory(module, os.path.dirname(path), spec, changed_paths)
    changed = before != wanted
    if changed and module._diff:
        diffs.append(
            {
                "before_header": path,
                "after_header": path,
                "before": to_native(before or b"", errors="surrogate_or_strict"),
                "after": spec["content"],
            }
        )
    if changed and not module.check_mode:
        try:
            handle, tmp = tempfile.mkstemp(prefix=".host_files.", dir=os.path.dirname(path))
            with os.fdopen(handle, "wb") as out:
                out.write(wanted)
            os.chmod(tmp, mode)
        except (IOError, OSError) as exc:
            _fail(module, path, "cannot write", exc)
        module.atomic_move(tmp, path)
    if os.path.exists(path):
        changed = module.set_mode_if_different(path, mode, changed)
        changed = module.set_owner_if_different(path, spec.get("owner"), changed)
        changed = module.set_group_if_different(path, spec.get("group"), changed)
    if changed:
        changed_paths.append(path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    path=dict(type="path", required=True),
                    content=dict(type="str", required=True),
                    mode=dict(type="str", default="0644"),
                    owner=dict(type="str"),
                    group=dict(type="str"),
                ),
            ),
            directory_mode=dict(type="str", default="0755"),
        ),
        supports_check_mode=True,
    )
    changed_paths = []
    diffs = []
    for spec in module.params["files"]:
        write_one(module, spec, changed_paths, diffs)
    result = dict(changed=bool(changed_paths), changed_paths=changed_paths)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()

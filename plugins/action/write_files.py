# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write many files on the controller in one task (see plugins/modules/write_files.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.edgemesh.cluster_mesh.plugins.plugin_utils.file_sync import (
    normalise_files,
    parse_mode,
    sync_files,
)

ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "files": {"type": "raw", "required": True},
    "mode": {"type": "raw", "default": "0644"},
    "directory_mode": {"type": "raw", "default": "0755"},
    "return_content": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        dest = os.path.abspath(os.path.expanduser(args["dest"]))
        default_mode = parse_mode(args["mode"], "mode")
        directory_mode = parse_mode(args["directory_mode"], "directory_mode")
        wanted = list(args["return_content"])
        files = args["files"]
        contents = {}
        if wanted:
            by_path = dict((path, content) for path, content, _mode in normalise_files(files, 0))
            missing = [path for path in wanted if path not in by_path]
            if missing:
                raise AnsibleActionFail(
                    "return_content names %s, which are not in files" % ", ".join(missing)
                )
            contents = dict((path, by_path[path]) for path in wanted)
        changed, created, unchanged = sync_files(
            dest,
            args["files"],
            default_mode=default_mode,
            directory_mode=directory_mode,
            check_mode=bool(self._task.check_mode),
        )
        result.update(
            changed=bool(changed),
            dest=dest,
            changed_files=changed,
            created_directories=created,
            unchanged=unchanged,
            contents=contents,
        )
        if changed:
            result["msg"] = "%s %d file(s) under %s" % (
                "would write" if self._task.check_mode else "wrote",
                len(changed),
                dest,
            )
        else:
            result["msg"] = "all %d file(s) under %s are up to date" % (unchanged, dest)
        return result

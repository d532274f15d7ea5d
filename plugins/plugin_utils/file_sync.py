# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write many files on the controller at once: only what differs, atomically, check-mode safe.

Shared by the ``write_files`` and ``mesh_plan`` action plugins.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text


def parse_mode(value, where):
    """An int permission mode from '0600', '600' or an int (decimal 384 or octal 0o600)."""
    if isinstance(value, bool):
        raise AnsibleActionFail(
            "%s: mode %r is not a mode; allowed: an octal string like '0644'" % (where, value)
        )
    if isinstance(value, int):
        mode = value
    else:
        text = to_text(value).strip()
        try:
            mode = int(text, 8)
        except ValueError:
            raise AnsibleActionFail(
                "%s: mode %r is not a mode; allowed: an octal string like '0644'" % (where, value)
            )
    if not 0 <= mode <= 0o7777:
        raise AnsibleActionFail(
            "%s: mode %r is out of range; allowed: an octal string from '0000' to '7777'"
            % (where, value)
        )
    return mode


def normalise_files(files, default_mode):
    """[(path, content, mode)] from {path: text}, {path: {content, mode}} or a list."""
    items = []
    if isinstance(files, dict):
        for path in files:
            entry = files[path]
            if isinstance(entry, dict):
                items.append(dict(entry, path=path))
            else:
                items.append({"path": path, "content": entry})
    elif isinstance(files, (list, tuple)):
        for index, entry in enumerate(files):
            if not isinstance(entry, dict):
                raise AnsibleActionFail(
                    "files[%d] is not a mapping; allowed: {path, content, mode}" % index
                )
            items.append(entry)
    else:
        raise AnsibleActionFail(
            "files must be a mapping of path to content or a list of {path, content, mode}, "
            "got %s" % type(files).__name__
        )
    result = []
    for entry in items:
        path = entry.get("path")
        if not path or not isinstance(path, str):
            raise AnsibleActionFail("a file entry has no path: %r" % (sorted(entry),))
        unknown = sorted(set(entry) - set(("path", "content", "mode")))
        if unknown:
            raise AnsibleActionFail(
                "file %s: unknown key(s) %s; allowed: path, content, mode"
                % (path, ", ".join(unknown))
            )
        content = entry.get("content")
        if not isinstance(content, str):
            raise AnsibleActionFail(
                "file %s: content must be text, got %s" % (path, type(content).__name__)
            )
        mode = default_mode
        if entry.get("mode") is not None:
            mode = parse_mode(entry["mode"], "file %s" % path)
        result.append((path, content, mode))
    return result


def resolve(dest, path):
    """Absolute target of ``path`` (relative paths stay inside ``dest``)."""
    if os.path.isabs(path):
        return os.path.normpath(path)
    target = os.path.normpath(os.path.join(dest, path))
    if target != dest and not target.startswith(dest.rstrip(os.sep) + os.sep):
        raise AnsibleActionFail(
            "file %s: the path leaves dest %s; allowed: paths inside dest, or absolute paths"
            % (path, dest)
        )
    return target


def missing_dirs(directory):
    """Directories to create, outermost first."""
    missing = []
    while directory and not os.path.isdir(directory):
        if os.path.lexists(directory):
            raise AnsibleActionFail("%s exists and is not a directory" % directory)
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return list(reversed(missing))


def write_atomic(target, data, mode):
    directory = os.path.dirname(target)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(target), dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _secret(mode):
    """Files no group or other may read (0600: state, tokens) never go into a diff."""
    return not mode & 0o077


def _note_diff(diffs, path, current, data, mode):
    if diffs is None or _secret(mode):
        return
    diffs.append(
        {
            "before_header": path if current is not None else "%s (absent)" % path,
            "after_header": path,
            "before": to_text(current or b"", errors="surrogate_or_replace"),
            "after": to_text(data, errors="surrogate_or_replace"),
        }
    )


def sync_files(dest, files, default_mode=0o644, directory_mode=0o755, check_mode=False, diffs=None):
    """Write what differs; return (changed paths, created dirs, unchanged count).

    ``diffs`` (a list) receives one ``{before, after, before_header, after_header}`` per
    changed file that group and others may read (secret files are left out).
    """
    planned = []
    seen = {}
    for path, content, mode in normalise_files(files, default_mode):
        target = resolve(dest, path)
        if target in seen:
            raise AnsibleActionFail(
                "files %s and %s name the same file %s" % (seen[target], path, target)
            )
        seen[target] = path
        planned.append((target, path, to_bytes(content, errors="surrogate_or_strict"), mode))
    planned.sort()
    changed = []
    created_dirs = []
    unchanged = 0
    for target, path, data, mode in planned:
        try:
            current = None
            current_mode = None
            if os.path.lexists(target):
                st = os.lstat(target)
                if not stat.S_ISREG(st.st_mode):
                    raise AnsibleActionFail("%s exists and is not a regular file" % target)
                current_mode = stat.S_IMODE(st.st_mode)
                with open(target, "rb") as handle:
                    current = handle.read()
            if current == data and current_mode == mode:
                unchanged += 1
                continue
            changed.append(path)
            _note_diff(diffs, path, current, data, mode)
            if check_mode:
                for directory in missing_dirs(os.path.dirname(target)):
                    if directory not in created_dirs:
                        created_dirs.append(directory)
                continue
            for directory in missing_dirs(os.path.dirname(target)):
                os.mkdir(directory, directory_mode)
                os.chmod(directory, directory_mode)
                created_dirs.append(directory)
            if current == data:
                os.chmod(target, mode)
            else:
                write_atomic(target, data, mode)
        except (IOError, OSError) as exc:
            raise AnsibleActionFail("cannot write %s: %s" % (target, to_native(exc)))
    return changed, created_dirs, unchanged


MANIFEST = "plan-files.json"


def read_manifest(dest, name=MANIFEST):
    """The relative paths an earlier sync_owned call wrote under ``dest`` ([] if none)."""
    path = os.path.join(dest, name)
    if not os.path.isfile(path):
        return []
    try:
        with open(path, "r") as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        raise AnsibleActionFail(
            "%s is not the list of files an earlier plan wrote (%s); move it away and re-run"
            % (path, to_native(exc))
        )
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise AnsibleActionFail("%s has no 'files' list of paths; move it away and re-run" % path)
    return files


def manifest_text(paths):
    """The manifest of the relative paths written (what remove_stale may remove later)."""
    owned = sorted(p for p in paths if not os.path.isabs(p))
    return json.dumps({"format": 1, "files": owned}, indent=2, sort_keys=True) + "\n"


def _prune_dirs(dest, directory, check_mode):
    """Remove directories left empty under dest (never dest itself)."""
    while directory != dest and directory.startswith(dest.rstrip(os.sep) + os.sep):
        if check_mode or os.listdir(directory):
            return
        os.rmdir(directory)
        directory = os.path.dirname(directory)


def remove_stale(dest, stale, check_mode=False, diffs=None):
    """Remove the relative paths ``stale`` (files an earlier sync wrote, no longer planned)
    from ``dest``: regular files only, never outside ``dest``; return the paths removed (or
    that would be, in check mode)."""
    removed = []
    for path in sorted(stale):
        if os.path.isabs(path):
            continue
        target = resolve(dest, path)
        if not os.path.lexists(target):
            continue
        st = os.lstat(target)
        if not stat.S_ISREG(st.st_mode):
            continue
        removed.append(path)
        if diffs is not None and not _secret(stat.S_IMODE(st.st_mode)):
            with open(target, "rb") as handle:
                current = handle.read()
            diffs.append(
                {
                    "before_header": path,
                    "after_header": "%s (removed)" % path,
                    "before": to_text(current, errors="surrogate_or_replace"),
                    "after": "",
                }
            )
        if not check_mode:
            try:
                os.unlink(target)
                _prune_dirs(dest, os.path.dirname(target), check_mode)
            except (IOError, OSError) as exc:
                raise AnsibleActionFail("cannot remove %s: %s" % (target, to_native(exc)))
    return removed


def sync_owned(dest, files, check_mode=False, diffs=None, manifest=MANIFEST):
    """sync_files, plus a manifest of the relative paths written: a file an earlier call
    wrote that ``files`` no longer holds is removed. Files this never wrote (kubeconfigs,
    tokens, the mesh CA, readiness reports) are never touched.

    Returns (changed, removed, unchanged count)."""
    files = dict(files)
    stale = set(read_manifest(dest, manifest)) - set(files) - set([manifest])
    files[manifest] = manifest_text(files)
    changed, _created, unchanged = sync_files(dest, files, check_mode=check_mode, diffs=diffs)
    removed = remove_stale(dest, stale, check_mode=check_mode, diffs=diffs)
    return changed, removed, unchanged

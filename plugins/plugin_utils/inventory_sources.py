# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every inventory source the play was given parsed, or the reason why not (file and line).

Ansible only warns when an inventory source, or one file of an inventory directory, does
not parse, and plays on with what it could read; a mesh plan of the rest would rewrite
every other cluster's peer list without the lost clusters. ``source_problems`` finds such
sources cheaply, from what the play's InventoryManager already did:

* a path that does not exist;
* an inventory file (a file source, or a file Ansible considers inside a directory source,
  skipping what ``ansible.inventory.manager.IGNORED`` skips) that is missing from the
  manager's ``processed_sources`` (the files a plugin parsed); only such a file is parsed
  again, quietly, to report the plugins' errors with file, line and column;
* a ``group_vars``/``host_vars`` file beside a source that does not load: each is loaded
  with the play's DataLoader and the host_group_vars plugin's own arguments, so the
  loader's cache serves the later variable lookups and the check costs one read per file.

Facts relied on (ansible-core 2.16-2.19, ansible/inventory/manager.py and
ansible/plugins/vars/host_group_vars.py): ``InventoryData.processed_sources``,
``InventoryManager._fetch_inventory_plugins``, ``DataLoader.find_vars_files`` rules (hidden
and ``~`` files skipped, YAML extensions or none).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.inventory.manager import IGNORED
from ansible.module_utils.common.text.converters import to_bytes, to_text

try:  # ansible-core 2.19: plugins parse into a wrapper that tags their data with an origin
    from ansible.inventory.manager import _InventoryDataWrapper
except ImportError:  # pragma: no cover - older ansible-core
    _InventoryDataWrapper = None

VARS_DIRS = ("group_vars", "host_vars")


def _position(exc):
    """'path:line:column' of an Ansible or YAML error, or '' when it has none."""
    obj = getattr(exc, "obj", None)
    if getattr(obj, "line_num", None):  # 2.19: an Origin
        return "%s:%s:%s" % (obj.path, obj.line_num, obj.col_num or 1)
    try:
        from ansible._internal._datatag._tags import Origin

        origin = Origin.get_tag(obj)
    except Exception:  # pylint: disable=broad-except
        origin = None
    if origin is not None and origin.line_num:
        return "%s:%s:%s" % (origin.path, origin.line_num, origin.col_num or 1)
    pos = getattr(obj, "ansible_pos", None)  # older ansible-core: a YAML object
    if pos and pos[1]:
        return "%s:%s:%s" % pos
    cause = exc
    while cause is not None:
        mark = getattr(cause, "problem_mark", None)
        if mark is not None:
            return "line %d:%d" % (mark.line + 1, mark.column + 1)
        cause = cause.__cause__ or cause.__context__
    return ""


def _message(exc):
    text = to_text(getattr(exc, "message", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def describe(exc):
    """One line for an error: its message and, when known, where."""
    where = _position(exc)
    return "%s (at %s)" % (_message(exc), where) if where else _message(exc)


def inventory_files(source):
    """The files Ansible reads as inventory for one path source, sorted as it reads them."""
    if not os.path.isdir(source):
        return [source]
    found = []
    for name in sorted(os.listdir(source)):
        if IGNORED.search(to_bytes(name)):
            continue
        found.extend(inventory_files(os.path.join(source, name)))
    return found


def vars_files(source):
    """[(group_vars|host_vars, path)] beside a source (in it, for a directory)."""
    base = source if os.path.isdir(source) else os.path.dirname(source)
    found = []
    extensions = tuple(C.YAML_FILENAME_EXTENSIONS)
    for sub in VARS_DIRS:
        top = os.path.join(base, sub)
        if not os.path.isdir(top):
            continue
        for root, dirs, files in os.walk(top):
            dirs[:] = sorted(
                d for d in dirs if not d.startswith(".") and not os.path.splitext(d)[1]
            )
            for name in sorted(files):
                ext = os.path.splitext(name)[1]
                if name.startswith(".") or name.endswith("~") or (ext and ext not in extensions):
                    continue
                found.append((sub, os.path.join(root, name)))
    return found


def _load_vars(loader, path):
    try:
        loader.load_from_file(path, cache="all", unsafe=True, trusted_as_template=True)
    except TypeError:  # pragma: no cover - ansible-core before 2.19
        loader.load_from_file(path, unsafe=True)


def parse_errors(manager, loader, path):
    """The errors of each inventory plugin that wanted ``path`` and failed; [] if one parsed."""
    errors = []
    for plugin in manager._fetch_inventory_plugins():  # pylint: disable=protected-access
        name = to_text(getattr(plugin, "_load_name", "") or type(plugin).__name__)
        try:
            if not plugin.verify_file(path):
                continue
        except Exception:  # pylint: disable=broad-except
            continue
        data = InventoryData()
        if _InventoryDataWrapper is not None:
            data = _InventoryDataWrapper(data, target_plugin=plugin, origin=None)
        try:
            plugin.parse(data, loader, path, cache=False)
            return []
        except Exception as exc:  # pylint: disable=broad-except
            errors.append((name, exc))
    return errors


def _file_problem(manager, loader, path):
    errors = parse_errors(manager, loader, path)
    if not errors:
        return "inventory file %s: no inventory plugin parsed it" % path
    located = [(name, exc) for name, exc in errors if _position(exc)]
    name, exc = (located or errors)[0]
    return "inventory file %s does not parse (%s plugin): %s" % (path, name, describe(exc))


def _normal(path):
    return os.path.normpath(os.path.abspath(path))


def source_problems(manager, loader, sources, processed=None):
    """Messages for every source, inventory file and vars file that failed; [] when all parsed.

    ``processed``: the manager's ``processed_sources`` (files already parsed by the play);
    None parses every file again (for sources the play did not load).
    """
    done = None if processed is None else set(_normal(p) for p in processed if p)
    problems = []
    seen = set()
    for source in sources:
        if not source or "," in source:
            continue  # a host list, not a path
        if not os.path.exists(source):
            problems.append(
                "inventory source %s does not exist (check -i and the inventory setting)" % source
            )
            continue
        for path in inventory_files(source):
            if done is not None and _normal(path) in done:
                continue
            if done is None and not parse_errors(manager, loader, path):
                continue
            problems.append(_file_problem(manager, loader, path))
        for kind, path in vars_files(source):
            if path in seen:
                continue
            seen.add(path)
            try:
                _load_vars(loader, path)
            except AnsibleError as exc:
                problems.append("%s file %s does not load: %s" % (kind, path, describe(exc)))
    return list(dict.fromkeys(problems))

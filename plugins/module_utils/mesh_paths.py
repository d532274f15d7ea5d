# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a mesh keeps its files: the output (state) directory belongs to the inventory.

``output_dir(sources, configured)`` is the one place that decides it, for the ``mesh_plan``
and ``role_inputs`` actions and (through the ``edgemesh.cluster_mesh.output_dir`` filter)
every playbook:

* ``configured`` (``edgemesh_output_dir``) when set, relative to the working directory;
* else ``<inventory directory>/.edgemesh``: the directory of a directory source, or the
  parent directory of a file source. Ansible never parses an entry whose name starts with
  '.' as inventory (``IGNORED_ALWAYS`` in ansible/inventory/manager.py), so the directory
  can live inside an inventory directory;
* sources in different directories, or no path source at all (``-i host1,host2,``), leave
  no single place: refused, asking for ``edgemesh_output_dir``.

So two inventories never share a state file, a mesh CA or tokens by accident.
No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

DEFAULT_DIR_NAME = ".edgemesh"


class OutputDirError(Exception):
    """No single output directory follows from the inventory sources."""


def _is_path_source(source):
    # Ansible treats a source with a comma as a host list, not a path (InventoryManager).
    return isinstance(source, str) and bool(source) and "," not in source


def inventory_dirs(sources):
    """The distinct real directories of the path sources, in the order given."""
    dirs = []
    for source in sources:
        if not _is_path_source(source):
            continue
        path = os.path.realpath(source)
        directory = path if os.path.isdir(path) else os.path.dirname(path)
        if directory not in dirs:
            dirs.append(directory)
    return dirs


def output_dir(sources, configured=None):
    """The absolute output directory of the mesh (see the module docstring)."""
    if configured:
        if not isinstance(configured, str):
            raise OutputDirError(
                "edgemesh_output_dir is %r (%s); allowed: a directory path"
                % (configured, type(configured).__name__)
            )
        return os.path.realpath(configured)
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, (list, tuple)):
        raise OutputDirError(
            "the inventory sources must be a list of paths (ansible_inventory_sources), got %s"
            % type(sources).__name__
        )
    dirs = inventory_dirs(sources)
    if not dirs:
        raise OutputDirError(
            "edgemesh_output_dir is not set and no inventory source is a file or directory "
            "(sources: %s); set edgemesh_output_dir to the mesh's own directory"
            % (", ".join(str(s) for s in sources) or "none")
        )
    if len(dirs) > 1:
        raise OutputDirError(
            "edgemesh_output_dir is not set and the inventory sources are in %d directories "
            "(%s), so the mesh's state has no single home; set edgemesh_output_dir "
            "(e.g. -e edgemesh_output_dir=%s)"
            % (len(dirs), ", ".join(dirs), os.path.join(dirs[0], DEFAULT_DIR_NAME))
        )
    return os.path.join(dirs[0], DEFAULT_DIR_NAME)

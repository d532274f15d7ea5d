# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which mounts lie under given directories, read from a /proc/<pid>/mountinfo text.

Stdlib only (the mounts_under module imports this on the target). The format is the
kernel's (Documentation/filesystems/proc.rst, "/proc/<pid>/mountinfo"): one mount a line,
``id parent major:minor root mount_point options [optional...] - fstype source super``,
with space, tab, newline and backslash in paths written as octal escapes (\\040 ...).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import posixpath
import re

MountEntry = collections.namedtuple(
    "MountEntry", ["mount_id", "parent_id", "mount_point", "fstype"]
)

_OCTAL_RE = re.compile(r"\\([0-7]{3})")


class MountTableError(Exception):
    """A mountinfo text or a root that cannot be used; the message says which and why."""


def unescape(field):
    """'/run/my\\040dir' -> '/run/my dir' (the kernel's octal escapes in mountinfo)."""
    return _OCTAL_RE.sub(lambda match: chr(int(match.group(1), 8)), field)


def parse_line(line, number):
    """One mountinfo line -> MountEntry; MountTableError naming the line when malformed."""
    fields = line.split(" ")
    if len(fields) < 10 or "-" not in fields[6:] or not (fields[0] + fields[1]).isdigit():
        raise MountTableError("mountinfo line %d is not a mount entry: %r" % (number, line))
    separator = fields.index("-", 6)
    if separator + 1 >= len(fields):
        raise MountTableError("mountinfo line %d has no filesystem type: %r" % (number, line))
    return MountEntry(int(fields[0]), int(fields[1]), unescape(fields[4]), fields[separator + 1])


def parse_mountinfo(text):
    """Whole mountinfo text -> [MountEntry] in the kernel's order (blank lines skipped)."""
    return [
        parse_line(line, number)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]


def normalise_root(root):
    """An absolute directory other than '/', without trailing or doubled slashes."""
    if not isinstance(root, str) or not root.startswith("/"):
        raise MountTableError("root %r is not an absolute path" % (root,))
    path = posixpath.normpath(root)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if path == "/":
        raise MountTableError("root %r would select every mount of the host" % (root,))
    return path


def is_under(path, roots):
    """True when path is one of roots or lies below one of them (whole path components)."""
    return any(path == root or path.startswith(root + "/") for root in roots)


def mounts_under(mountinfo_text, roots):
    """Mount points at or below any of roots, in the order they can be unmounted.

    Deepest first; among equally deep ones the later mount first, so a mount stacked on
    another at the same path is listed (once per mount) above the one it hides.
    """
    wanted = [normalise_root(root) for root in roots]
    entries = list(enumerate(parse_mountinfo(mountinfo_text)))
    chosen = [(index, entry) for index, entry in entries if is_under(entry.mount_point, wanted)]
    chosen.sort(key=lambda item: (item[1].mount_point.count("/"), item[0]), reverse=True)
    return [item[1].mount_point for item in chosen]

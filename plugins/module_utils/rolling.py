# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Order of a rolling Kubernetes upgrade (k3s or kubeadm).

Pure Python, no Ansible import. ``rolling_order(nodes, target)`` takes the nodes with the
version each one runs now and returns the ones to upgrade, in the order to upgrade them:
servers (control planes) first, then agents (workers), one at a time; within a role by
cluster name, then host name. Nodes already at the target are skipped; nodes without an
installed version are not part of a running cluster and are skipped too (the bootstrap
playbook installs them). A downgrade, or a jump of more than one minor version, is refused,
as Kubernetes supports neither.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

ROLES = ("server", "agent")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:\+k3s(\d+))?$")


class RollingError(Exception):
    """A node list or version that cannot be upgraded."""


def parse_version(text):
    """``v1.33.5+k3s1`` -> ``(1, 33, 5, 1)``; ``v1.33.5`` -> ``(1, 33, 5, 0)``."""
    match = _VERSION.match(str(text).strip()) if text is not None else None
    if not match:
        raise RollingError(
            "version %r is not a Kubernetes release (vX.Y.Z or vX.Y.Z+k3sN)" % (text,)
        )
    return tuple(int(part or 0) for part in match.groups())


def check_step(host, current, target):
    """Refuse a downgrade and a jump over a minor version for one node."""
    cur, tgt = parse_version(current), parse_version(target)
    if cur > tgt:
        raise RollingError(
            "host %s runs %s, newer than the target %s: downgrades are not supported"
            % (host, current, target)
        )
    if cur[0] != tgt[0] or tgt[1] - cur[1] > 1:
        raise RollingError(
            "host %s runs %s; %s skips a minor version (upgrade one minor at a time)"
            % (host, current, target)
        )


def rolling_order(nodes, target, versions=None, cluster=None):
    """Return ``[{"host", "cluster", "role", "from", "to"}, ...]`` in upgrade order.

    ``nodes`` is a list of mappings with ``host``, ``role`` (``server`` or ``agent``),
    ``version`` (installed version, or empty/None when nothing is installed) and an
    optional ``cluster``. ``versions`` (host -> installed version) overrides the nodes'
    ``version`` (so the plan's node list can be used as is); ``cluster`` names the cluster
    of nodes that carry none.
    """
    parse_version(target)
    if not isinstance(nodes, (list, tuple)):
        raise RollingError("nodes must be a list, got %s" % type(nodes).__name__)
    if versions is not None and not isinstance(versions, dict):
        raise RollingError(
            "versions must be a mapping of host to version, got %s" % type(versions).__name__
        )
    versions = versions or {}
    seen = set()
    todo = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not node.get("host"):
            raise RollingError("node #%d has no host: %r" % (index, node))
        host = str(node["host"])
        if host in seen:
            raise RollingError("host %s is listed twice" % host)
        seen.add(host)
        role = node.get("role", "agent")
        if role not in ROLES:
            raise RollingError("host %s has role %r; allowed: %s" % (host, role, ", ".join(ROLES)))
        current = versions.get(host, node.get("version"))
        if not current:
            continue
        if parse_version(current) == parse_version(target):
            continue
        check_step(host, current, target)
        todo.append(
            {
                "host": host,
                "cluster": str(node.get("cluster") or cluster or ""),
                "role": role,
                "from": str(current),
                "to": str(target),
            }
        )
    todo.sort(key=lambda n: (ROLES.index(n["role"]), n["cluster"], n["host"]))
    return todo

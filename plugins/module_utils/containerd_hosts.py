# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry mirrors of containerd: one ``hosts.toml`` per registry under ``config_path``.

containerd's CRI plugin reads ``<config_path>/<registry>/hosts.toml`` (containerd
docs/hosts.md, the same in 1.6, 1.7 and 2.x): ``server`` is the registry itself, each
``[host."<url>"]`` a mirror tried first, in file order, with its ``capabilities``,
``skip_verify`` and ``ca``. The directory ``_default`` applies to every registry without its
own. With ``server`` pointing at the mirror too, an air-gapped node never leaves it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from collections.abc import Mapping

# A registry as containerd names its hosts directory: host[:port], or _default.
_REGISTRY_RE = re.compile(r"^(_default|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?)$")
_URL_RE = re.compile(r"^https?://[^\s\"/]+(/[^\s\"]*)?$")
# The upstream of docker.io images is not docker.io itself (containerd docs/hosts.md).
_SERVERS = {"docker.io": "https://registry-1.docker.io"}
CAPABILITIES = ("pull", "resolve", "push")
OPTIONS = ("mirrors", "server", "skip_verify", "ca", "capabilities")
HEADER = "# Managed by edgemesh.cluster_mesh; local changes are overwritten.\n"


class HostsError(ValueError):
    """A mirror entry cannot be rendered; the message names the registry, key and value."""


def _bad(registry, key, value, allowed):
    return HostsError("registry %s: %s is %r; allowed: %s" % (registry, key, value, allowed))


def _url(registry, key, value):
    if not isinstance(value, str) or not _URL_RE.match(value):
        raise _bad(registry, key, value, "an http:// or https:// URL")
    return value


def _entry(registry, entry):
    """The checked options of one registry (a list of mirror URLs is short for mirrors)."""
    if isinstance(entry, list):
        entry = {"mirrors": entry}
    if not isinstance(entry, Mapping):
        raise _bad(registry, "the entry", entry, "a list of mirror URLs or a mapping")
    unknown = sorted(set(entry) - set(OPTIONS))
    if unknown:
        raise _bad(registry, "the key", unknown[0], ", ".join(OPTIONS))
    mirrors = entry.get("mirrors", [])
    if not isinstance(mirrors, list) or not mirrors:
        raise _bad(registry, "mirrors", mirrors, "a non-empty list of URLs")
    caps = entry.get("capabilities", ["pull", "resolve"])
    if not isinstance(caps, list) or not caps or not set(caps) <= set(CAPABILITIES):
        raise _bad(registry, "capabilities", caps, "a list of " + ", ".join(CAPABILITIES))
    skip = entry.get("skip_verify", False)
    if not isinstance(skip, bool):
        raise _bad(registry, "skip_verify", skip, "true or false")
    ca = entry.get("ca", "")
    if not isinstance(ca, str) or (ca and not ca.startswith("/")):
        raise _bad(registry, "ca", ca, "an absolute path on the node, or empty")
    return {
        "mirrors": [_url(registry, "a mirror", m) for m in mirrors],
        "server": _url(registry, "server", entry["server"]) if entry.get("server") else "",
        "capabilities": caps,
        "skip_verify": skip,
        "ca": ca,
    }


def hosts_toml(registry, entry):
    """The text of ``<config_path>/<registry>/hosts.toml``."""
    if not isinstance(registry, str) or not _REGISTRY_RE.match(registry):
        raise HostsError("registry %r is not a registry host[:port] or _default" % (registry,))
    found = _entry(registry, entry)
    server = found["server"] or _SERVERS.get(registry, "https://" + registry)
    lines = []
    if registry != "_default" or found["server"]:
        lines.append("server = %s" % json.dumps(server))
    for mirror in found["mirrors"]:
        lines += ["", "[host.%s]" % json.dumps(mirror)]
        lines.append("  capabilities = %s" % json.dumps(found["capabilities"]))
        if found["skip_verify"]:
            lines.append("  skip_verify = true")
        if found["ca"]:
            lines.append("  ca = %s" % json.dumps(found["ca"]))
    return HEADER + "\n".join(lines).lstrip("\n") + "\n"


def hosts_files(mirrors, config_path):
    """{``<config_path>/<registry>/hosts.toml``: text} of every registry in ``mirrors``."""
    if not isinstance(mirrors, Mapping):
        raise HostsError(
            "the mirrors are %r; allowed: a mapping of registry to mirrors" % (mirrors,)
        )
    if not isinstance(config_path, str) or not config_path.startswith("/"):
        raise HostsError("config_path is %r; allowed: an absolute path" % (config_path,))
    base = config_path.rstrip("/")
    return dict(
        ("%s/%s/hosts.toml" % (base, registry), hosts_toml(registry, mirrors[registry]))
        for registry in sorted(mirrors)
    )

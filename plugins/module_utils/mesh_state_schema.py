# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one schema of the planner's state file (docs/contracts.md, "state").

``parse_state`` is the only validator of a state: the planner reads the previous state
through it, the ``mesh_state`` module checks what it stores in and reads from the state
Secret through it. ``dump_state`` is the only writer of its text.

The rules are the union of what the planner and the Secret backend each refused before
they shared this module: a format of 1; ``max_connected_clusters`` and cluster IDs as
``mesh_rules`` states them; cluster names by ``mesh_rules.cluster_name_problem``; a
NodePort by ``mesh_rules.is_nodeport`` (or none recorded yet); CIDRs that are network
addresses written the way the planner writes them, at most one per address family and
kind; no two clusters with one ID; no two CIDRs (of any clusters and kinds) that overlap;
no key the schema does not know. ``cilium_version`` (optional) is the Cilium version the
cluster was last planned with, a supported minor written as the planner writes it. Every problem is collected and raised at once as one
``StateError``.

Canonical form (what ``to_dict`` and ``dump_state`` give): every entry holds ``id`` and
``active``; ``pod_cidrs``/``service_cidrs`` are left out when empty and
``clustermesh_nodeport`` when not recorded (a state recovered from live clusters may lack
them); CIDR lists keep their order (IPv4 first as the planner writes them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import json
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules

try:
    from netaddr import AddrFormatError, IPNetwork

    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without netaddr
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = exc

STATE_FORMAT = 1
STATE_KEYS = ("clusters", "format", "max_connected_clusters")
ENTRY_KEYS = (
    "active",
    "cilium_version",
    "clustermesh_nodeport",
    "id",
    "pod_cidrs",
    "service_cidrs",
)
KINDS = ("pod", "service")
CIDR_ALLOWED = "a network address/prefix written as the planner writes it"


class StateError(ValueError):
    """The state cannot be used. ``problems`` lists each fault; the message joins them.

    Each problem reads ``<where>: <what>``, e.g. ``state file: cluster 'x': id 0 is not
    allowed; allowed: 1-255``; problems are joined with ``"; "``.
    """

    def __init__(self, where, problems):
        self.where = where
        self.problems = ["%s: %s" % (where, p) for p in problems]
        super().__init__("; ".join(self.problems))


def cidr_key(kind):
    """'pod' -> 'pod_cidrs', the key of a kind's CIDR list in a state entry."""
    return "%s_cidrs" % kind


@dataclass(frozen=True)
class StateEntry:
    """One cluster's reservation: its ID, CIDRs and clustermesh NodePort."""

    name: str
    id: int
    pod_cidrs: Tuple[str, ...] = ()
    service_cidrs: Tuple[str, ...] = ()
    clustermesh_nodeport: Optional[int] = None
    active: bool = True
    cilium_version: Optional[str] = None

    def __post_init__(self):
        object.__setattr__(self, "pod_cidrs", tuple(self.pod_cidrs))
        object.__setattr__(self, "service_cidrs", tuple(self.service_cidrs))

    def cidrs(self, kind):
        return self.pod_cidrs if kind == "pod" else self.service_cidrs

    def networks(self):
        """{(kind, family): IPNetwork} of the entry's CIDRs (kind 'pod'/'service', family 4/6)."""
        _require_netaddr("state")
        nets = {}
        for kind in KINDS:
            for text in self.cidrs(kind):
                net = IPNetwork(text)
                nets[(kind, net.version)] = net
        return nets

    def to_dict(self):
        out = {"id": self.id, "active": self.active}
        for kind in KINDS:
            if self.cidrs(kind):
                out[cidr_key(kind)] = list(self.cidrs(kind))
        if self.clustermesh_nodeport is not None:
            out["clustermesh_nodeport"] = self.clustermesh_nodeport
        if self.cilium_version is not None:
            out["cilium_version"] = self.cilium_version
        return out


@dataclass(frozen=True)
class MeshState:
    """The whole state: format, the mesh's maxConnectedClusters and the entries by name."""

    format: int = STATE_FORMAT
    max_connected_clusters: int = mesh_rules.DEFAULT_MAX_CONNECTED_CLUSTERS
    clusters: Dict[str, StateEntry] = field(default_factory=dict)

    def to_dict(self):
        return {
            "format": self.format,
            "max_connected_clusters": self.max_connected_clusters,
            "clusters": dict((n, self.clusters[n].to_dict()) for n in sorted(self.clusters)),
        }


def to_dict(state):
    """The canonical plain-data form of a MeshState (what dump_state serialises)."""
    return state.to_dict()


def dump_state(state, where="state to write"):
    """Byte-stable text of a state: sorted keys, two-space indent, final newline.

    ``state`` is a MeshState or a mapping (checked by ``parse_state`` first, so that only a
    valid state is ever written). For what the planner writes this is the same text as
    ``json.dumps(state, sort_keys=True, indent=2) + "\\n"`` of its mapping.
    """
    checked = parse_state(state, where)
    return json.dumps(checked.to_dict(), sort_keys=True, indent=2) + "\n"


def parse_state(data, where="state file"):
    """A MeshState from a mapping, JSON text (str/bytes) or a MeshState.

    ``None``, empty or blank text and ``{}`` give the empty state (format 1, 255, no
    clusters). Raises StateError naming every fault; the first word of each problem is
    ``where`` (the planner uses "state file", the Secret backend the Secret and key).
    """
    if isinstance(data, MeshState):
        data = data.to_dict()
    data = _decode(data, where)
    if data is None:
        return MeshState()
    _require_netaddr(where)
    problems = []
    for key in sorted(set(data) - set(STATE_KEYS)):
        problems.append(_unknown_key(key, STATE_KEYS))
    mcc = _max_connected(data, problems)
    clusters = _clusters_mapping(data, problems)
    entries = {}
    nets = []
    for name in sorted(clusters):
        entry = _entry(name, clusters[name], mcc, problems, nets)
        if entry is not None:
            entries[name] = entry
    _unique_ids(entries, problems)
    _disjoint(nets, problems)
    if problems:
        raise StateError(where, problems)
    return MeshState(STATE_FORMAT, mcc, entries)


# --------------------------------------------------------------------------- helpers


def _require_netaddr(where):
    if not HAS_NETADDR:
        raise StateError(
            where,
            [
                "the Python library netaddr is required to read the state (install it with: "
                "pip install netaddr): %s" % NETADDR_IMPORT_ERROR
            ],
        )


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _decode(data, where):
    """The state object, or None for an empty state; structural faults raise at once."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if data is None or (isinstance(data, str) and not data.strip()):
        return None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise StateError(
                where, ["not valid JSON (%s); allowed: a file this planner wrote" % exc]
            )
    if not isinstance(data, dict):
        raise StateError(where, ["expected a JSON object, got %s" % type(data).__name__])
    if not data:
        return None
    if "format" not in data:
        raise StateError(where, ["format is missing; allowed: %d" % STATE_FORMAT])
    if not _is_int(data["format"]) or data["format"] != STATE_FORMAT:
        raise StateError(
            where, ["format %r is not supported; allowed: %d" % (data["format"], STATE_FORMAT)]
        )
    return data


def _unknown_key(key, allowed, at=""):
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = "; did you mean %r?" % close[0] if close else ";"
    return "%sunknown key %r%s allowed: %s" % (at, key, hint, ", ".join(allowed))


def _max_connected(data, problems):
    """The state's maxConnectedClusters, or None when it is missing or not allowed."""
    allowed = " or ".join(str(v) for v in mesh_rules.MAX_CONNECTED_CLUSTERS)
    if "max_connected_clusters" not in data:
        problems.append("max_connected_clusters is missing; allowed: %s" % allowed)
        return None
    mcc = data["max_connected_clusters"]
    try:
        if not _is_int(mcc):
            raise mesh_rules.RuleError(
                "max_connected_clusters %r is not allowed; allowed: %s" % (mcc, allowed)
            )
        mesh_rules.cluster_id_range(mcc)
    except mesh_rules.RuleError as exc:
        problems.append(str(exc))
        return None
    return mcc


def _clusters_mapping(data, problems):
    if "clusters" not in data:
        problems.append("'clusters' is missing; allowed: an object keyed by cluster name")
        return {}
    clusters = data["clusters"]
    if not isinstance(clusters, dict):
        problems.append(
            "'clusters' must be an object keyed by cluster name, got %s" % type(clusters).__name__
        )
        return {}
    return clusters


def _entry(name, raw, mcc, problems, nets):
    """A StateEntry, or None when the entry has a fault (each one appended to problems)."""
    before = len(problems)
    problem = mesh_rules.cluster_name_problem(name)
    if problem:
        problems.append("cluster name %s" % problem)
    at = "cluster '%s': " % name
    if not isinstance(raw, dict):
        problems.append("%sexpected an object, got %s" % (at, type(raw).__name__))
        return None
    for key in sorted(set(raw) - set(ENTRY_KEYS)):
        problems.append(_unknown_key(key, ENTRY_KEYS, at))
    cid = _entry_id(raw, mcc, at, problems)
    port = raw.get("clustermesh_nodeport")
    if port is not None and not mesh_rules.is_nodeport(port):
        problems.append(
            "%sclustermesh_nodeport %r is not allowed; allowed: %d-%d"
            % ((at, port) + mesh_rules.NODEPORT_RANGE)
        )
    active = raw.get("active", True)
    if not isinstance(active, bool):
        problems.append("%sactive %r is not allowed; allowed: true or false" % (at, active))
    cidrs = dict((kind, _entry_cidrs(name, raw, kind, at, problems, nets)) for kind in KINDS)
    version = _entry_cilium_version(raw, at, problems)
    if len(problems) > before:
        return None
    return StateEntry(name, cid, cidrs["pod"], cidrs["service"], port, active, version)


def _entry_cilium_version(raw, at, problems):
    """The Cilium version the cluster was last planned with (X.Y.Z of a supported minor)."""
    version = raw.get("cilium_version")
    if version is None:
        return None
    try:
        normalized = mesh_rules.normalize_cilium_version(version)
    except mesh_rules.RuleError as exc:
        problems.append("%scilium_version: %s" % (at, exc))
        return None
    if normalized != version:
        problems.append(
            "%scilium_version %r is not written canonically; allowed: %r"
            % (at, version, normalized)
        )
        return None
    return version


def _entry_id(raw, mcc, at, problems):
    first, last = mesh_rules.cluster_id_range(mcc or max(mesh_rules.MAX_CONNECTED_CLUSTERS))
    if "id" not in raw:
        problems.append("%sid is missing; allowed: %d-%d" % (at, first, last))
        return None
    cid = raw["id"]
    if not _is_int(cid) or not first <= cid <= last:
        problems.append("%sid %r is not allowed; allowed: %d-%d" % (at, cid, first, last))
        return None
    return cid


def canonical_cidr(text):
    """(IPNetwork, None) for a CIDR written as the planner writes it, else (None, why not)."""
    if not isinstance(text, str) or "/" not in text:
        return None, "is not a CIDR (address/prefix)"
    try:
        net = IPNetwork(text)
    except (AddrFormatError, ValueError, TypeError):
        return None, "is not a valid CIDR"
    canonical = "%s/%d" % (net.network, net.prefixlen)
    if net.ip != net.network:
        return None, "has host bits set (the network address is %s)" % canonical
    if text != canonical:
        return None, "is not written canonically (the planner writes %s)" % canonical
    return net, None


def _entry_cidrs(name, raw, kind, at, problems, nets):
    key = cidr_key(kind)
    items = raw.get(key, [])
    if not isinstance(items, list):
        problems.append(
            "%s%s %r is not a list; allowed: a list of CIDRs, one per address family"
            % (at, key, items)
        )
        return ()
    by_family = {}
    for item in items:
        net, problem = canonical_cidr(item)
        if problem:
            problems.append(
                "%s%s entry %r %s; allowed: %s" % (at, key, item, problem, CIDR_ALLOWED)
            )
            continue
        by_family.setdefault(net.version, []).append(net)
        nets.append((net, name, kind))
    for family, found in sorted(by_family.items()):
        if len(found) > 1:
            problems.append(
                "%s%s holds two CIDRs of one address family (IPv%d: %s); allowed: one per "
                "address family" % (at, key, family, ", ".join(str(n) for n in found))
            )
    return tuple(items)


def _unique_ids(entries, problems):
    holder = {}
    for name in sorted(entries):
        cid = entries[name].id
        if cid in holder:
            problems.append(
                "cluster ID %d is claimed by clusters '%s' and '%s'; allowed: a unique cluster "
                "ID per cluster" % (cid, holder[cid], name)
            )
        else:
            holder[cid] = name


def _disjoint(nets, problems):
    """One problem per CIDR that overlaps the widest CIDR before it (in address order)."""

    def label(claim):
        net, name, kind = claim
        return "cluster '%s' %s CIDR %s" % (name, kind, net)

    ordered = sorted(nets, key=lambda c: (c[0].version, c[0].first, -c[0].last, c[1], c[2]))
    widest = None
    for claim in ordered:
        net = claim[0]
        if widest is not None and widest[0].version == net.version:
            if net.first <= widest[0].last:
                problems.append(
                    "%s overlaps %s; allowed: disjoint pod and service CIDRs across the mesh"
                    % (label(widest), label(claim))
                )
        if widest is None or widest[0].version != net.version or net.last > widest[0].last:
            widest = claim

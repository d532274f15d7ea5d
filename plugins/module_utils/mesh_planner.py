# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Cluster Mesh planner: cluster IDs, pod/service CIDRs and clustermesh NodePorts.

Pure Python (no Ansible import) so that it is fast, unit-testable and reusable; every
address computation goes through netaddr.

Entry points:

* ``clusters_from_inventory(inventory)`` turns the parsed output of
  ``ansible-inventory --list`` into the cluster list of docs/contracts.md.
* ``plan_mesh(clusters, settings, state)`` returns ``{"plan": ..., "state": ...}``;
  ``live=`` (the live files of playbooks/adopt_live.yml) keeps running clusters' IDs and
  pool CIDRs, checked with live_config's reinstall rules.

Both raise ``PlanError`` with a message that names the cluster, the key, the bad value and
what is allowed.  Nothing is returned when anything is wrong (no partial plans).

Allocation order (see docs/planner.md): values recorded in the state file first, then
pins from the inventory, then the lowest free value for every remaining cluster, taking
clusters in name order.  The output depends only on the content of the inputs, never on
their order.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import json
import re

try:
    from netaddr import AddrFormatError, IPAddress, IPNetwork

    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without netaddr
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = exc

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    cilium_values,
    live_config,
    mesh_rules,
    mesh_state_schema,
    plan_types,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_rules import (
    CLUSTER_GROUP,
    DISTRIBUTIONS,
    MAX_CONNECTED_CLUSTERS,
    NODE_ROLES,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_rules import (
    NODEPORT_RANGE as NODEPORT_LIMITS,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_rules import REGION_RE

STATE_FORMAT = mesh_state_schema.STATE_FORMAT

DEFAULTS = {
    "edgemesh_cilium_version": mesh_rules.DEFAULT_CILIUM_VERSION,
    "edgemesh_max_connected_clusters": mesh_rules.DEFAULT_MAX_CONNECTED_CLUSTERS,
    "edgemesh_pod_cidr_pool": ["10.0.0.0/8"],
    "edgemesh_service_cidr_pool": ["172.16.0.0/12"],
    "edgemesh_pod_cidr_prefix": 16,
    "edgemesh_service_cidr_prefix": 20,
    "edgemesh_pod_cidr_pool_v6": [],
    "edgemesh_service_cidr_pool_v6": [],
    "edgemesh_pod_cidr_prefix_v6": 56,
    "edgemesh_service_cidr_prefix_v6": 112,
    "edgemesh_reserved_cidrs": [],
    "edgemesh_release_clusters": [],
    "edgemesh_remove_clusters": [],
    "edgemesh_clustermesh_nodeport_range": list(mesh_rules.NODEPORT_RANGE),
    "edgemesh_clustermesh_nodeport_first": 32379,
}

# Mesh-wide settings without a planner default (read by the action, the roles or the
# planner's safety checks); with DEFAULTS they make MESH_KEYS.
OTHER_SETTINGS = (
    "edgemesh_output_dir",
    "edgemesh_state_file",
    "edgemesh_state_rebuild",
    "edgemesh_allow_unknown_vars",
)
# Settings that hold for the whole mesh: a cluster's hosts must see the mesh-wide value.
MESH_KEYS = tuple(sorted(DEFAULTS)) + OTHER_SETTINGS
# edgemesh_state_rebuild values: where a lost state may be rebuilt from.
STATE_REBUILD_SOURCES = ("plan", "live")

# Cluster-level inventory variables (group vars of a cluster group).
CLUSTER_KEYS = (
    "edgemesh_cluster_name",
    "edgemesh_region",
    "edgemesh_distribution",
    "edgemesh_cluster_id",
    "edgemesh_pod_cidr",
    "edgemesh_pod_cidr_v6",
    "edgemesh_service_cidr",
    "edgemesh_service_cidr_v6",
    "edgemesh_clustermesh_nodeport",
    "edgemesh_max_connected_clusters",
    # Access to the cluster (docs/contracts.md: api_endpoint, paths, init_host).
    "edgemesh_api_endpoint",
    "edgemesh_control_plane_endpoint",
    "edgemesh_extra_cert_sans",
    "edgemesh_k3s_init_server",
    "edgemesh_kubeconfig",
    "edgemesh_kube_context",
)

# Allowed per-cluster block prefixes: (kind, family) -> (shortest, longest).
# Service CIDRs: kube-apiserver refuses a v4 range larger than /12 and a v6 range larger
# than /108; the 10th address (cluster DNS) needs at least 16 addresses.
PREFIX_LIMITS = {
    ("pod", 4): (8, 24),
    ("pod", 6): (32, 120),
    ("service", 4): (12, 28),
    ("service", 6): (108, 124),
}

# The Cilium values options an inventory may set, mesh-wide or per cluster.
CILIUM_KEYS = tuple("cilium_" + name for name in cilium_values.INVENTORY_OPTIONS)

# Node-level variables (host vars).
NODE_KEYS = ("edgemesh_node_ip", "ansible_host", "edgemesh_node_role", "edgemesh_node_ip_v6")
# Every inventory variable clusters_from_inventory reads.
INVENTORY_KEYS = NODE_KEYS + CLUSTER_KEYS + CILIUM_KEYS
# Mesh-wide settings a cluster's hosts may not set to a value of their own (read too).
CLUSTER_SETTING_KEYS = tuple(k for k in MESH_KEYS if k not in CLUSTER_KEYS)
INVENTORY_KEYS += CLUSTER_SETTING_KEYS

KINDS = ("pod", "service")
FAMILIES = (4, 6)


class PlanError(Exception):
    """A refusal: the inventory, the settings or the state file cannot be planned."""


def require_netaddr():
    if not HAS_NETADDR:
        raise PlanError(
            "the Python library netaddr is required on the control node "
            "(install it with: pip install netaddr): %s" % NETADDR_IMPORT_ERROR
        )


# --------------------------------------------------------------------------- helpers


def dump_state(state):
    """Byte-stable text of the state file: sorted keys, two-space indent, final newline."""
    return json.dumps(state, sort_keys=True, indent=2) + "\n"


def plain(data):
    """A deep copy made of plain dict/list/str/int/float/bool/None (no subclasses).

    Templating engines hand over subclasses of the builtin types (tagged strings, lazy
    containers); the plan must be plain data so that json and yaml render it exactly.
    """
    if isinstance(data, dict):
        return dict((plain(k), plain(v)) for k, v in data.items())
    if isinstance(data, (list, tuple, set, frozenset)):
        return [plain(v) for v in data]
    if isinstance(data, bool) or data is None:
        return bool(data) if data is not None else None
    if isinstance(data, int):
        return int(data)
    if isinstance(data, float):
        return float(data)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    if isinstance(data, str):
        return str(data)
    return str(data)


def _pool_key(kind, family):
    return "edgemesh_%s_cidr_pool%s" % (kind, "_v6" if family == 6 else "")


def _prefix_key(kind, family):
    return "edgemesh_%s_cidr_prefix%s" % (kind, "_v6" if family == 6 else "")


def _pin_key(kind, family):
    return "edgemesh_%s_cidr%s" % (kind, "_v6" if family == 6 else "")


def _as_int(value):
    """An int from an int or a string of digits (INI inventories give strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r"^\s*-?\d+\s*$", value):
        return int(value)
    return None


def _as_list(value):
    """A list of strings from a list or a comma-separated string."""
    if value is None:
        return None
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


def _parse_cidr(value):
    """IPNetwork for a strict CIDR string, or an error text."""
    if not isinstance(value, str) or "/" not in value:
        return None, "is not a CIDR (address/prefix)"
    try:
        net = IPNetwork(value.strip())
    except (AddrFormatError, ValueError, TypeError):
        return None, "is not a valid CIDR"
    if net.ip != net.network:
        return None, "has host bits set (the network address is %s/%d)" % (
            net.network,
            net.prefixlen,
        )
    return net, None


def _parse_ip(value):
    if not isinstance(value, str):
        return None
    try:
        return IPAddress(value.strip())
    except (AddrFormatError, ValueError, TypeError):
        return None


def _cidr_text(net):
    return "%s/%d" % (net.network, net.prefixlen)


def _ip_sort_key(text):
    addr = IPAddress(text)
    return (addr.version, int(addr))


class _Taken:
    """Sorted, merged integer ranges [first, last] already in use in one address family."""

    def __init__(self):
        self.starts = []
        self.ends = []

    def add(self, first, last):
        starts, ends = self.starts, self.ends
        lo = bisect.bisect_left(ends, first - 1)
        hi = bisect.bisect_right(starts, last + 1)
        if lo < hi:
            first = min(first, starts[lo])
            last = max(last, ends[hi - 1])
        starts[lo:hi] = [first]
        ends[lo:hi] = [last]

    def overlap_end(self, first, last):
        """The end of the last taken range that overlaps [first, last], else None."""
        idx = bisect.bisect_right(self.starts, last) - 1
        if idx >= 0 and self.ends[idx] >= first:
            return self.ends[idx]
        return None


# ------------------------------------------------------------------------ inventory


def clusters_from_inventory(inventory, resolve=None):
    """The cluster list of docs/contracts.md from parsed ``ansible-inventory --list``.

    Clusters are the direct children of ``edgemesh_clusters``; a cluster's hosts are the
    hosts of its group and of every group nested below it.  Cluster-level ``edgemesh_*``
    variables and the Cilium values options (``cilium_<option>``) are read from the hosts'
    merged variables and must agree on every host.

    ``resolve(host, key, raw_value)`` (optional) gives the value a play sees (templated,
    extra vars applied); ``ansible-inventory --list`` shows raw inventory values only.
    """
    if not isinstance(inventory, dict) or "_meta" not in inventory:
        raise PlanError(
            "the input is not the output of 'ansible-inventory --list' "
            "(a mapping with '_meta' and one entry per group)"
        )
    hostvars = (inventory.get("_meta") or {}).get("hostvars") or {}
    root = inventory.get(CLUSTER_GROUP)
    if not isinstance(root, dict):
        raise PlanError(
            "the inventory has no group '%s' (is -i the right path, and did every inventory "
            "file parse? ansible-inventory only warns about a source it cannot read); "
            "allowed: one child group of '%s' per cluster" % (CLUSTER_GROUP, CLUSTER_GROUP)
        )
    if root.get("hosts"):
        raise PlanError(
            "host(s) %s are direct members of '%s'; allowed: hosts only inside a cluster "
            "group that is a child of '%s'"
            % (", ".join(sorted(root["hosts"])), CLUSTER_GROUP, CLUSTER_GROUP)
        )
    cluster_groups = sorted(root.get("children") or [])
    if not cluster_groups:
        raise PlanError(
            "group '%s' has no child groups (it exists, but is empty); allowed: one child "
            "group per cluster" % CLUSTER_GROUP
        )

    def walk(group, path):
        entry = inventory.get(group) or {}
        hosts = set(entry.get("hosts") or [])
        for child in entry.get("children") or []:
            if child in cluster_set:
                raise PlanError(
                    "cluster group '%s' is nested inside cluster group '%s'; allowed: "
                    "cluster groups side by side under '%s'" % (child, path[0], CLUSTER_GROUP)
                )
            if child in path:
                continue
            hosts |= walk(child, path + (child,))
        return hosts

    cluster_set = set(cluster_groups)
    owner = {}
    owner_errors = []
    errors = []
    result = []
    for group in cluster_groups:
        hosts = sorted(walk(group, (group,)))
        for host in hosts:
            if host in owner:
                owner_errors.append(
                    "host '%s' is in cluster groups '%s' and '%s'; allowed: one cluster per host"
                    % (host, owner[host], group)
                )
            else:
                owner[host] = group
        cluster_vars = _agreed(group, hosts, hostvars, CLUSTER_KEYS, resolve, errors)
        cilium = _agreed(group, hosts, hostvars, CILIUM_KEYS, resolve, errors)
        mesh_wide = _agreed(group, hosts, hostvars, CLUSTER_SETTING_KEYS, resolve, errors)
        nodes = [_inventory_node(host, hostvars.get(host) or {}, resolve) for host in hosts]
        entry = {"group": group, "vars": cluster_vars, "nodes": nodes}
        if cilium:
            entry["cilium"] = dict((k[len("cilium_") :], v) for k, v in cilium.items())
        if mesh_wide:
            entry["settings"] = mesh_wide
        result.append(entry)
    if owner_errors or errors:
        # A host in two clusters also makes its clusters disagree: name the cause first.
        raise PlanError("; ".join(owner_errors + errors))
    return result


def _inventory_node(host, hv, resolve):
    """{host, ip, ip_v6, role} of one host from its variables (resolved where given)."""
    if resolve:
        hv = dict((key, resolve(host, key, hv[key])) for key in NODE_KEYS if key in hv)
    ip = hv.get("edgemesh_node_ip") or hv.get("ansible_host")
    if not ip and _parse_ip(host) is not None:
        ip = host
    return {
        "host": host,
        "ip": str(ip) if ip else None,
        "ip_v6": str(hv.get("edgemesh_node_ip_v6") or ""),
        "role": hv.get("edgemesh_node_role", "agent"),
    }


def _agreed(group, hosts, hostvars, keys, resolve, errors):
    """{key: value} of the keys set on the cluster's hosts, one value for all of them."""
    found = {}
    for key in keys:
        first = None
        others = []
        for host in hosts:
            hv = hostvars.get(host) or {}
            if key not in hv:
                continue
            if first is None:
                first = host
            elif hv[key] != hostvars[first][key] and not others:
                others.append(host)
        if others:
            seen = {}
            for host in hosts:
                hv = hostvars.get(host) or {}
                if key in hv:
                    seen.setdefault(json.dumps(hv[key], sort_keys=True, default=str), host)
            values = sorted(seen.items(), key=lambda item: item[1])
            errors.append(
                "cluster group '%s': hosts disagree on the cluster-level variable %s (%s); "
                "allowed: one value for the whole cluster, set in the group's vars"
                % (group, key, ", ".join("%s=%s" % (h, v) for v, h in values))
            )
        elif first is not None:
            raw = hostvars[first][key]
            found[key] = resolve(first, key, raw) if resolve else raw
    return found


# ------------------------------------------------------------------------- settings


def _settings(raw):
    """Validated mesh-wide settings, defaults filled in; PlanError lists every problem."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise PlanError("settings must be a mapping of edgemesh_* variables, got %r" % (raw,))

    def get(key):
        value = raw.get(key)
        return DEFAULTS[key] if value is None else value

    cfg = {}
    errors = []
    _version_settings(get, cfg, errors)
    _pool_settings(get, cfg, errors)
    _reserved_settings(get, cfg, errors)
    _lifecycle_settings(get, cfg, errors, raw.get)
    _nodeport_settings(get, cfg, errors)
    if errors:
        raise PlanError("; ".join(errors))
    return cfg


def _version_settings(get, cfg, errors):
    version = get("edgemesh_cilium_version")
    try:
        cfg["cilium_version"] = mesh_rules.normalize_cilium_version(version)
        cfg["cilium_minor"] = mesh_rules.cilium_minor(version)
    except mesh_rules.RuleError:
        errors.append(
            "edgemesh_cilium_version %r is not supported; allowed: %s"
            % (version, mesh_rules.supported_versions_text())
        )
    else:
        problem = mesh_rules.known_cilium_patch_problem(cfg["cilium_version"])
        if problem:
            errors.append("edgemesh_cilium_version %s" % problem)
    mcc = _as_int(get("edgemesh_max_connected_clusters"))
    if mcc not in MAX_CONNECTED_CLUSTERS:
        errors.append(
            "edgemesh_max_connected_clusters %r is not allowed; allowed: %s"
            % (
                get("edgemesh_max_connected_clusters"),
                " or ".join(str(v) for v in MAX_CONNECTED_CLUSTERS),
            )
        )
    cfg["max_connected_clusters"] = mcc


def _pool_settings(get, cfg, errors):
    for family in FAMILIES:
        for kind in KINDS:
            pkey = _prefix_key(kind, family)
            prefix = _as_int(get(pkey))
            lo, hi = PREFIX_LIMITS[(kind, family)]
            if prefix is None or not lo <= prefix <= hi:
                errors.append(
                    "%s %r is not allowed; allowed: an integer from %d to %d"
                    % (pkey, get(pkey), lo, hi)
                )
                prefix = None
            cfg[pkey] = prefix
            key = _pool_key(kind, family)
            cfg[key] = _pool(key, get(key), family, pkey, prefix, errors)
    for family in FAMILIES:
        has_pod = bool(cfg[_pool_key("pod", family)])
        has_svc = bool(cfg[_pool_key("service", family)])
        if has_pod != has_svc:
            errors.append(
                "%s and %s must both be set or both be empty (IPv%d needs pod and service CIDRs)"
                % (_pool_key("pod", family), _pool_key("service", family), family)
            )
    if not errors and not cfg[_pool_key("pod", 4)] and not cfg[_pool_key("pod", 6)]:
        errors.append(
            "edgemesh_pod_cidr_pool and edgemesh_pod_cidr_pool_v6 are both empty; "
            "allowed: at least one address family"
        )
    cfg["families"] = [f for f in FAMILIES if cfg.get(_pool_key("pod", f))]


def _pool(key, value, family, pkey, prefix, errors):
    """The disjoint networks of one pool setting."""
    items = _as_list(value)
    if items is None:
        errors.append("%s %r is not a list of CIDRs" % (key, value))
        items = []
    pools = []
    for item in items:
        net, problem = _parse_cidr(item)
        if problem:
            errors.append(
                "%s entry %r %s; allowed: IPv%d network CIDRs" % (key, item, problem, family)
            )
        elif net.version != family:
            errors.append(
                "%s entry %r is IPv%d; allowed: IPv%d CIDRs only" % (key, item, net.version, family)
            )
        elif prefix is not None and net.prefixlen > prefix:
            errors.append(
                "%s /%d is larger than %s entry %s; allowed: a prefix of %d or longer, "
                "or a larger pool" % (pkey, prefix, key, item, net.prefixlen)
            )
        else:
            pools.append(net)
    pools_sorted = sorted(pools, key=lambda n: n.first)
    for left, right in zip(pools_sorted, pools_sorted[1:]):
        if right.first <= left.last:
            errors.append(
                "%s entries %s and %s overlap; allowed: disjoint CIDRs"
                % (key, _cidr_text(left), _cidr_text(right))
            )
    return pools


def _reserved_settings(get, cfg, errors):
    reserved = []
    items = _as_list(get("edgemesh_reserved_cidrs"))
    if items is None:
        errors.append(
            "edgemesh_reserved_cidrs %r is not a list of CIDRs" % (get("edgemesh_reserved_cidrs"),)
        )
        items = []
    for item in items:
        net, problem = _parse_cidr(item)
        if problem:
            errors.append(
                "edgemesh_reserved_cidrs entry %r %s; allowed: network CIDRs" % (item, problem)
            )
        else:
            reserved.append(net)
    cfg["reserved"] = sorted(reserved, key=lambda n: (n.version, n.first, n.prefixlen))


def _lifecycle_settings(get, cfg, errors, raw_get):
    """Clusters removed or released on purpose, and where a lost state is rebuilt from."""
    release = _as_list(get("edgemesh_release_clusters"))
    if release is None or not all(isinstance(x, str) for x in release):
        errors.append(
            "edgemesh_release_clusters %r is not a list of cluster names"
            % (get("edgemesh_release_clusters"),)
        )
        release = []
    cfg["release"] = sorted(set(release))
    remove = _as_list(get("edgemesh_remove_clusters"))
    if remove is None or not all(isinstance(x, str) for x in remove):
        errors.append(
            "edgemesh_remove_clusters %r is not a list of cluster names"
            % (get("edgemesh_remove_clusters"),)
        )
        remove = []
    cfg["remove"] = sorted(set(remove))
    rebuild = raw_get("edgemesh_state_rebuild")
    if rebuild not in (None, "") and rebuild not in STATE_REBUILD_SOURCES:
        errors.append(
            "edgemesh_state_rebuild %r is not allowed; allowed: %s (see docs/planner.md, "
            "'Lost state')" % (rebuild, " or ".join(STATE_REBUILD_SOURCES))
        )
    cfg["rebuild"] = rebuild or None


def _nodeport_settings(get, cfg, errors):
    rng = get("edgemesh_clustermesh_nodeport_range")
    if isinstance(rng, str):
        rng = rng.split("-")
    bounds = [_as_int(x) for x in rng] if isinstance(rng, (list, tuple)) else []
    if (
        len(bounds) != 2
        or None in bounds
        or not NODEPORT_LIMITS[0] <= bounds[0] <= bounds[1] <= NODEPORT_LIMITS[1]
    ):
        errors.append(
            "edgemesh_clustermesh_nodeport_range %r is not allowed; allowed: 'FIRST-LAST' "
            "inside %d-%d" % ((get("edgemesh_clustermesh_nodeport_range"),) + NODEPORT_LIMITS)
        )
        bounds = list(NODEPORT_LIMITS)
    cfg["nodeport_range"] = bounds
    first = _as_int(get("edgemesh_clustermesh_nodeport_first"))
    if first is None or not bounds[0] <= first <= bounds[1]:
        errors.append(
            "edgemesh_clustermesh_nodeport_first %r is not allowed; allowed: a port inside "
            "edgemesh_clustermesh_nodeport_range %d-%d"
            % (get("edgemesh_clustermesh_nodeport_first"), bounds[0], bounds[1])
        )
        first = bounds[0]
    cfg["nodeport_first"] = first


# ---------------------------------------------------------------------------- state


def _load_state(state, cfg):
    """{name: {"id", "nets", "port", "active"}} from a previous state (dict, JSON text or
    empty), checked by the one state schema (mesh_state_schema)."""
    try:
        parsed = mesh_state_schema.parse_state(state, "state file")
    except mesh_state_schema.StateError as exc:
        raise PlanError(str(exc))
    if parsed.clusters and parsed.max_connected_clusters != cfg["max_connected_clusters"]:
        raise PlanError(
            "edgemesh_max_connected_clusters %r contradicts the state file, which records %r "
            "for the running mesh; allowed: %r (Cilium cannot change maxConnectedClusters of a "
            "running cluster, and every cluster must use the same value)"
            % (
                cfg["max_connected_clusters"],
                parsed.max_connected_clusters,
                parsed.max_connected_clusters,
            )
        )
    errors = []
    result = {}
    for name, entry in sorted(parsed.clusters.items()):
        if entry.id > cfg["max_connected_clusters"]:
            errors.append(
                "state file: cluster '%s': id %r is not allowed; allowed: 1-%d"
                % (name, entry.id, cfg["max_connected_clusters"])
            )
        result[name] = {
            "id": entry.id,
            "nets": entry.networks(),
            "port": entry.clustermesh_nodeport,
            "active": entry.active,
            "cilium_version": entry.cilium_version,
        }
    if errors:
        raise PlanError("; ".join(errors))
    return result


# --------------------------------------------------------------------- the clusters


def _where(cluster):
    if cluster.get("name"):
        return "cluster '%s' (group %s)" % (cluster["name"], cluster["group"])
    return "cluster group '%s'" % cluster["group"]


def _validate_clusters(clusters, cfg):
    """Normalised cluster records, or PlanError listing every problem found."""
    if not isinstance(clusters, (list, tuple)):
        raise PlanError("clusters must be a list (the output of inventory_clusters)")
    errors = []
    out = []
    for index, raw in enumerate(clusters):
        if not isinstance(raw, dict):
            errors.append("clusters[%d] is not a mapping with group, vars and nodes" % index)
            continue
        out.append(_validate_cluster(raw, index, cfg, errors))
    _check_across_clusters(out, errors)
    if errors:
        raise PlanError("; ".join(errors))
    return sorted(out, key=lambda c: c["name"])


def _validate_cluster(raw, index, cfg, errors):
    group = str(raw.get("group") or "clusters[%d]" % index)
    cvars = raw.get("vars") or {}
    cl = {"group": group, "name": None, "pins": {}}
    name = cvars.get("edgemesh_cluster_name")
    if name is None or name == "":
        errors.append(
            "cluster group '%s': edgemesh_cluster_name is not set; allowed: %s"
            % (group, mesh_rules.CLUSTER_NAME_ALLOWED)
        )
    elif not mesh_rules.is_cluster_name(name):
        errors.append(
            "cluster group '%s': edgemesh_cluster_name %s"
            % (group, mesh_rules.cluster_name_problem(name))
        )
    else:
        cl["name"] = name
    where = _where(cl)
    region = cvars.get("edgemesh_region")
    if region is None or region == "":
        errors.append("%s: edgemesh_region is not set; allowed: a region name" % where)
    elif not isinstance(region, str) or not REGION_RE.match(region):
        errors.append(
            "%s: edgemesh_region %r is not allowed; allowed: letters, digits, '-', '_', '.'"
            % (where, region)
        )
    cl["region"] = region
    dist = cvars.get("edgemesh_distribution") or "k3s"
    if dist not in DISTRIBUTIONS:
        errors.append(
            "%s: edgemesh_distribution %r is not allowed; allowed: %s"
            % (where, dist, " or ".join(DISTRIBUTIONS))
        )
    cl["distribution"] = dist
    mcc = cvars.get("edgemesh_max_connected_clusters")
    if mcc is not None and _as_int(mcc) != cfg["max_connected_clusters"]:
        errors.append(
            "%s: edgemesh_max_connected_clusters %r differs from the mesh-wide value %r; "
            "allowed: %r (Cilium requires the same maxConnectedClusters on every cluster)"
            % (where, mcc, cfg["max_connected_clusters"], cfg["max_connected_clusters"])
        )
    _id_and_port_pins(cl, where, cvars, cfg, errors)
    _cidr_pins(cl, where, cvars, cfg, errors)
    cl["nodes"] = _cluster_nodes(where, raw.get("nodes") or [], errors)
    _cluster_access(cl, where, cvars, errors)
    cl["cilium"] = _cilium_options(where, raw.get("cilium") or {}, errors)
    return cl


def _cilium_options(where, options, errors):
    """The cluster's Cilium values options, checked by the values engine, as given."""
    try:
        normalized = cilium_values.normalize_options(options)
    except cilium_values.CiliumValuesError as exc:
        errors.append("%s: cilium_* option: %s" % (where, exc))
        return {}
    return dict((key, normalized[key]) for key in sorted(options))


def _id_and_port_pins(cl, where, cvars, cfg, errors):
    pin = cvars.get("edgemesh_cluster_id")
    if pin is not None:
        cid = _as_int(pin)
        if cid is None or not 1 <= cid <= cfg["max_connected_clusters"]:
            errors.append(
                "%s: edgemesh_cluster_id %r is out of range; allowed: 1-%d "
                "(edgemesh_max_connected_clusters is %d)"
                % (where, pin, cfg["max_connected_clusters"], cfg["max_connected_clusters"])
            )
        else:
            cl["pins"]["id"] = cid
    pin = cvars.get("edgemesh_clustermesh_nodeport")
    if pin is not None:
        port = _as_int(pin)
        lo, hi = cfg["nodeport_range"]
        if port is None or not lo <= port <= hi:
            errors.append(
                "%s: edgemesh_clustermesh_nodeport %r is not allowed; allowed: %d-%d "
                "(edgemesh_clustermesh_nodeport_range)" % (where, pin, lo, hi)
            )
        else:
            cl["pins"]["port"] = port


def _cidr_pins(cl, where, cvars, cfg, errors):
    for kind in KINDS:
        for family in FAMILIES:
            key = _pin_key(kind, family)
            pin = cvars.get(key)
            if pin is None or pin == "":
                continue
            net, problem = _parse_cidr(pin)
            if problem:
                errors.append(
                    "%s: %s %r %s; allowed: an IPv%d network CIDR inside %s"
                    % (where, key, pin, problem, family, _pool_key(kind, family))
                )
                continue
            if net.version != family:
                errors.append(
                    "%s: %s %r is IPv%d; allowed: an IPv%d CIDR (use %s)"
                    % (where, key, pin, net.version, family, _pin_key(kind, net.version))
                )
                continue
            problem = _check_in_pool(net, kind, family, cfg)
            if problem:
                errors.append("%s: %s %s" % (where, key, problem))
                continue
            cl["pins"][(kind, family)] = net


def _node_address(where, host, key, value, family, errors):
    """The IPAddress of a node's address setting, or None after recording why not."""
    addr = _parse_ip(value)
    if addr is None:
        errors.append(
            "%s: host '%s' address %r is not an IP address; allowed: an IPv%s address in %s"
            % (where, host, value, "4 or IPv6" if family is None else family, key)
        )
    elif family is not None and addr.version != family:
        errors.append(
            "%s: host '%s' %s %r is IPv%d; allowed: an IPv%d address"
            % (where, host, key, value, addr.version, family)
        )
        addr = None
    return addr


def _cluster_nodes(where, nodes, errors):
    cl_nodes = []
    for node in nodes:
        host = node.get("host") if isinstance(node, dict) else None
        if not host:
            errors.append("%s: node %r has no host name" % (where, node))
            continue
        role = node.get("role") or "agent"
        if role not in NODE_ROLES:
            errors.append(
                "%s: host '%s' has edgemesh_node_role %r; allowed: server or agent"
                % (where, host, role)
            )
        ip = node.get("ip")
        addr = None
        if not ip:
            errors.append(
                "%s: host '%s' has no address; allowed: set edgemesh_node_ip or "
                "ansible_host to its IP address" % (where, host)
            )
        else:
            addr = _node_address(where, host, "edgemesh_node_ip or ansible_host", ip, None, errors)
            ip = str(addr) if addr is not None else ip
        ip_v6 = node.get("ip_v6") or ""
        addr_v6 = None
        if ip_v6:
            addr_v6 = _node_address(where, host, "edgemesh_node_ip_v6", ip_v6, 6, errors)
            ip_v6 = str(addr_v6) if addr_v6 is not None else ip_v6
        cl_nodes.append(
            {
                "host": str(host),
                "ip": ip,
                "ip_v6": ip_v6,
                "role": role,
                "addr": addr,
                "addrs": [a for a in (addr, addr_v6) if a is not None],
            }
        )
    if not any(n["role"] == "server" for n in cl_nodes):
        errors.append(
            "%s: no host has edgemesh_node_role 'server'; allowed: at least one server per "
            "cluster (hosts: %s)" % (where, ", ".join(n["host"] for n in cl_nodes) or "none")
        )
    return sorted(cl_nodes, key=lambda n: n["host"])


def _cluster_access(cl, where, cvars, errors):
    """The API endpoint, init server, certificate SANs and kubeconfig of one cluster."""
    servers = [n["host"] for n in cl["nodes"] if n["role"] == "server"]
    init = cvars.get("edgemesh_k3s_init_server") or ""
    if init and init not in servers:
        errors.append(
            "%s: edgemesh_k3s_init_server %r is not a server of this cluster; allowed: %s"
            % (where, init, ", ".join(servers) or "a host with edgemesh_node_role server")
        )
    cl["init_host"] = init if init in servers else (servers[0] if servers else "")
    texts = {}
    for key in ("edgemesh_control_plane_endpoint", "edgemesh_api_endpoint"):
        value = cvars.get(key) or ""
        if not isinstance(value, str):
            errors.append("%s: %s %r is not host[:port]" % (where, key, value))
            value = ""
        texts[key] = value.strip()
    cl["control_plane_endpoint"] = texts["edgemesh_control_plane_endpoint"]
    chosen = texts["edgemesh_api_endpoint"] or texts["edgemesh_control_plane_endpoint"]
    cl["api_endpoint"] = None
    if chosen:
        cl["api_endpoint"] = _endpoint(where, chosen, errors)
    for key, field in (
        ("edgemesh_kubeconfig", "kubeconfig"),
        ("edgemesh_kube_context", "kube_context"),
    ):
        value = cvars.get(key) or ""
        if not isinstance(value, str):
            errors.append(
                "%s: %s %r is not a string; allowed: a path or name" % (where, key, value)
            )
            value = ""
        cl[field] = value
    sans = _as_list(cvars.get("edgemesh_extra_cert_sans") or [])
    if sans is None or not all(isinstance(x, str) and x for x in sans):
        errors.append(
            "%s: edgemesh_extra_cert_sans %r is not a list of names or addresses"
            % (where, cvars.get("edgemesh_extra_cert_sans"))
        )
        sans = []
    cl["extra_cert_sans"] = [str(x) for x in sans]


_HOST_PORT_RE = re.compile(r"^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s\[\]]+))(?::(\d+))?$")


def _endpoint(where, text, errors):
    """{host, port} from 'host', 'host:port', '[v6]' or '[v6]:port'; a bare v6 address too."""
    if _parse_ip(text) is not None and ":" in text:
        return {"host": str(_parse_ip(text)), "port": plan_types.DEFAULT_API_PORT}
    match = _HOST_PORT_RE.match(text)
    port = int(match.group(3)) if match and match.group(3) else plan_types.DEFAULT_API_PORT
    if not match or not 1 <= port <= 65535:
        errors.append(
            "%s: API endpoint %r is not allowed; allowed: host, host:port or [IPv6]:port "
            "with a port from 1 to 65535" % (where, text)
        )
        return None
    return {"host": match.group(1) or match.group(2), "port": port}


def _check_across_clusters(out, errors):
    seen_names = {}
    seen_hosts = {}
    seen_ips = {}
    for cl in out:
        if cl["name"]:
            if cl["name"] in seen_names:
                errors.append(
                    "edgemesh_cluster_name %r is used by groups '%s' and '%s'; allowed: a unique "
                    "name per cluster" % (cl["name"], seen_names[cl["name"]], cl["group"])
                )
            else:
                seen_names[cl["name"]] = cl["group"]
        for node in cl["nodes"]:
            other = seen_hosts.get(node["host"])
            if other is not None and other != cl["group"]:
                errors.append(
                    "host '%s' is in clusters '%s' and '%s'; allowed: one cluster per host"
                    % (node["host"], other, cl["group"])
                )
            seen_hosts.setdefault(node["host"], cl["group"])
            for addr in node["addrs"]:
                key = (addr.version, int(addr))
                if key in seen_ips:
                    errors.append(
                        "hosts '%s' and '%s' (%s) share the address %s; allowed: a unique "
                        "address per node" % (seen_ips[key], node["host"], _where(cl), addr)
                    )
                else:
                    seen_ips[key] = node["host"]


def _check_in_pool(net, kind, family, cfg):
    lo, hi = PREFIX_LIMITS[(kind, family)]
    pools = cfg[_pool_key(kind, family)]
    if not pools:
        return "%s is set but %s is empty; allowed: no IPv%d %s CIDR" % (
            _cidr_text(net),
            _pool_key(kind, family),
            family,
            kind,
        )
    if not lo <= net.prefixlen <= hi:
        return "%s has prefix /%d; allowed: /%d to /%d" % (_cidr_text(net), net.prefixlen, lo, hi)
    for pool in pools:
        if pool.first <= net.first and net.last <= pool.last:
            return None
    return "%s lies outside %s (%s); allowed: a CIDR inside the pool" % (
        _cidr_text(net),
        _pool_key(kind, family),
        ", ".join(_cidr_text(p) for p in pools),
    )


# ---------------------------------------------------------------------- the planner


def plan_mesh(clusters, settings=None, state=None, previous_plan=None, artifacts=(), live=None):
    """Plan the whole mesh.  See the module docstring and docs/contracts.md.

    ``previous_plan`` (the last plan.json, a mapping or its text) and ``artifacts`` (paths
    of earlier outputs found: plan.json, the mesh CA, kubeconfigs) guard a lost state: a
    missing or empty state with artifacts present is refused unless
    ``edgemesh_state_rebuild: plan`` rebuilds it from ``previous_plan`` (or ``live``: from
    the live files).  ``live`` maps a cluster name to the data of its running
    ``cilium-config`` (None: no Cilium there yet), as playbooks/adopt_live.yml wrote it.
    """
    require_netaddr()
    cfg = _settings(settings)
    state = _state_or_rebuild(state, cfg, previous_plan, artifacts)
    prev = _load_state(state, cfg)
    inv = _validate_clusters(clusters, cfg)
    _check_cluster_settings(clusters, settings or {})
    inv_names = set(c["name"] for c in inv)
    lives = _live_configs(live, inv_names)
    if cfg["rebuild"] == "live":
        _check_live_rebuild(inv, lives, previous_plan, artifacts)
    kept = _release(prev, inv_names, cfg)
    _check_cilium_versions(inv, kept, cfg)
    inactive = sorted(n for n in kept if n not in inv_names)
    _check_capacity(inv, inactive, cfg)
    _live_pins(inv, lives, kept, cfg)
    records = _records(inv, kept, inactive, cfg)
    _check_live_ids(records, lives, kept, inv)
    _check_unique(records, inv_names)

    # Address claims: no overlap among clusters, with reserved ranges or with node addresses.
    claims = []
    for name in sorted(records):
        for (kind, family), net in sorted(records[name]["nets"].items()):
            claims.append((net.first, net.last, family, name, kind, net))
    _check_claims(claims, cfg, inv, inv_names, records)

    # Taken address space per family: reserved, node addresses, claims.
    taken = {4: _Taken(), 6: _Taken()}
    for net in cfg["reserved"]:
        taken[net.version].add(net.first, net.last)
    for cl in inv:
        for node in cl["nodes"]:
            for addr in node["addrs"]:
                taken[addr.version].add(int(addr), int(addr))
    for first, last, family, _name, _kind, _net in claims:
        taken[family].add(first, last)

    # Allocate: IDs, then CIDRs (pods first, then services, per family), then ports.
    _allocate_ids(records)
    for family in cfg["families"]:
        for kind in KINDS:
            _allocate_cidrs(records, inv, kind, family, cfg, taken[family])
    _allocate_ports(records, cfg)
    result = _assemble(inv, records, inactive, cfg)
    _check_reinstall(result["plan"], lives)
    return result


def _release(prev, inv_names, cfg):
    """The state entries kept: a cluster that left the inventory must be removed on purpose
    (edgemesh_remove_clusters, or already inactive); released ones are dropped."""
    errors = []
    for key in ("edgemesh_remove_clusters", "edgemesh_release_clusters"):
        listed = cfg["remove" if key == "edgemesh_remove_clusters" else "release"]
        errors += [
            "%s names '%s', which is still in the inventory; allowed: only clusters whose "
            "group left the inventory" % (key, name)
            for name in listed
            if name in inv_names
        ]
    for name in sorted(prev):
        if name in inv_names or not prev[name]["active"] or name in cfg["remove"]:
            continue
        hint = ""
        if name in cfg["release"]:
            hint = " (edgemesh_release_clusters alone is not enough: list it in both)"
        errors.append(
            "cluster '%s' is in the state file but not in the inventory%s; planning without it "
            "would drop it from every peer list; allowed: restore its group (did an inventory "
            "file fail to parse?), or remove it on purpose with edgemesh_remove_clusters: "
            "['%s']" % (name, hint, name)
        )
    if errors:
        raise PlanError("; ".join(errors))
    return dict((n, e) for n, e in prev.items() if n not in cfg["release"])


def _state_or_rebuild(state, cfg, previous_plan, artifacts):
    """The state to plan from: as given, or rebuilt from the previous plan on request."""
    try:
        parsed = mesh_state_schema.parse_state(state, "state file")
    except mesh_state_schema.StateError as exc:
        raise PlanError(str(exc))
    if parsed.clusters:
        if cfg["rebuild"]:
            raise PlanError(
                "edgemesh_state_rebuild is %r but the state file holds %d cluster(s); allowed: "
                "unset it (it only rebuilds a missing or empty state)"
                % (cfg["rebuild"], len(parsed.clusters))
            )
        return state
    if cfg["rebuild"] == "plan":
        return _state_from_previous_plan(previous_plan)
    if cfg["rebuild"] == "live":
        return ""  # the live clusters' pins rebuild it (plan_mesh, _check_live_rebuild)
    found = sorted(set(str(a) for a in artifacts or ()))
    if found:
        raise PlanError(
            "the state file is missing or empty, but earlier artifacts of a mesh exist (%s); "
            "planning now would renumber every cluster (new IDs, CIDRs and NodePorts); "
            "allowed: restore the state file from its backup, or set edgemesh_state_rebuild: "
            "plan to rebuild it from the previous plan.json, or edgemesh_state_rebuild: live "
            "to rebuild it from the live clusters' cilium-config (run playbooks/adopt_live.yml "
            "first; see docs/planner.md, 'Lost state'), or use another edgemesh_output_dir "
            "for a new mesh" % ", ".join(found)
        )
    return state


def _state_from_previous_plan(previous_plan):
    if previous_plan is None or previous_plan == "":
        raise PlanError(
            "edgemesh_state_rebuild is 'plan' but there is no previous plan.json in the output "
            "directory; allowed: put the last plan.json back, or restore the state file"
        )
    try:
        if isinstance(previous_plan, (str, bytes)):
            previous_plan = json.loads(previous_plan)
        rebuilt = state_from_plan(previous_plan)
        mesh_state_schema.parse_state(rebuilt, "state rebuilt from plan.json")
    except mesh_state_schema.StateError as exc:
        raise PlanError(str(exc))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PlanError(
            "edgemesh_state_rebuild: plan.json is not a plan this planner wrote (%s: %s); "
            "allowed: the plan.json of the last plan.yml run" % (type(exc).__name__, exc)
        )
    return rebuilt


# ------------------------------------------------------------------ live clusters

# The pins live_config.pins gives, as the planner's pin keys.
_LIVE_PIN_KEYS = (
    ("edgemesh_cluster_id", "id"),
    ("edgemesh_pod_cidr", ("pod", 4)),
    ("edgemesh_pod_cidr_v6", ("pod", 6)),
)


def _live_file(name):
    return "%s/%s.json" % (live_config.LIVE_DIR, name)


def _live_configs(live, inv_names):
    """{cluster: LiveConfig or None (no Cilium yet)} for the inventory clusters read live."""
    if live is None:
        return {}
    if not isinstance(live, dict):
        raise PlanError("live must map cluster names to their cilium-config data")
    errors = []
    result = {}
    for name in sorted(n for n in live if n in inv_names):
        try:
            result[name] = live_config.read_live(live[name], _live_file(name))
        except live_config.LiveConfigError as exc:
            errors.append(
                "cluster '%s': %s; allowed: re-run playbooks/adopt_live.yml" % (name, exc)
            )
    if errors:
        raise PlanError("; ".join(errors))
    return result


def _live_pin_values(cl, live, cfg, errors):
    """[(variable, pin key, value)] of a live cluster, each checked like an inventory pin."""
    where = _where(cl)
    try:
        pins = live_config.pins(live)
    except live_config.LiveConfigError as exc:
        errors.append("%s: %s (%s)" % (where, exc, _live_file(cl["name"])))
        return []
    found = []
    for var, key in _LIVE_PIN_KEYS:
        if var not in pins:
            continue
        value = pins[var]
        if key == "id":
            if not 1 <= value <= cfg["max_connected_clusters"]:
                errors.append(
                    "%s: the running cluster's cilium-config cluster-id %d (%s) is out of "
                    "range; allowed: 1-%d (edgemesh_max_connected_clusters), or reinstall Cilium "
                    "with an ID in range"
                    % (where, value, _live_file(cl["name"]), cfg["max_connected_clusters"])
                )
                continue
            found.append((var, key, value))
            continue
        net, problem = _parse_cidr(value)
        if not problem and net.version not in cfg["families"]:
            problem = "is IPv%d but %s is empty; allowed: set the IPv%d pools" % (
                net.version,
                _pool_key("pod", net.version),
                net.version,
            )
        problem = problem or _check_in_pool(net, "pod", net.version, cfg)
        if problem:
            errors.append(
                "%s: the running cluster's cilium-config pool CIDR %s (%s) %s"
                % (where, value, _live_file(cl["name"]), problem)
            )
            continue
        found.append((var, key, net))
    return found


def _live_pins(inv, lives, kept, cfg):
    """A live cluster's ID and first pool CIDRs become its pins; an inventory pin or a state
    entry that says otherwise is refused (live wins only when nothing else disagrees)."""
    errors = []
    for cl in inv:
        live = lives.get(cl["name"])
        if live is None:
            continue
        entry = kept.get(cl["name"])
        for var, key, value in _live_pin_values(cl, live, cfg, errors):
            recorded = None
            if entry is not None:
                recorded = entry["id"] if key == "id" else entry["nets"].get(key)
            problem = _live_conflict(cl, var, value, cl["pins"].get(key), recorded)
            if problem:
                errors.append(problem)
                continue
            cl["pins"][key] = value
            cl.setdefault("pin_sources", {})[key] = "live cilium-config, %s" % _live_file(
                cl["name"]
            )
    if errors:
        raise PlanError("; ".join(errors))


def _live_conflict(cl, var, live_value, pinned, recorded):
    """The refusal when the inventory pin or the state entry differs from the live value."""

    def text(value):
        return value if isinstance(value, int) else _cidr_text(value)

    where, source = _where(cl), _live_file(cl["name"])
    if pinned is not None and pinned != live_value:
        return (
            "%s: %s %s (inventory) differs from the running cluster's cilium-config value %s "
            "(%s); changing it needs a reinstall of Cilium; allowed: %s: %s (or remove the "
            "pin), or reinstall Cilium and re-run playbooks/adopt_live.yml"
            % (where, var, text(pinned), text(live_value), source, var, text(live_value))
        )
    if recorded is not None and recorded != live_value:
        return (
            "%s: the state file records %s %s, but the running cluster's cilium-config has %s "
            "(%s); allowed: correct the state file (or move it away and rebuild it with "
            "edgemesh_state_rebuild: live), or reinstall Cilium with %s and re-run "
            "playbooks/adopt_live.yml"
            % (where, var, text(recorded), text(live_value), source, text(recorded))
        )
    return None


def _check_live_ids(records, lives, kept, inv):
    """A live cluster-id that another cluster holds is refused, naming both."""
    pinned = dict((cl["name"], cl["pins"].get("id")) for cl in inv)
    errors = []
    reported = set()
    for name in sorted(lives):
        live = lives[name]
        if live is None or not live.cluster_id:
            continue
        for other in sorted(records):
            if other == name or records[other]["id"] != live.cluster_id:
                continue
            if (other, name) in reported:
                continue
            reported.add((name, other))
            errors.append(
                "cluster ID %d: cluster '%s' runs with it (cilium-config cluster-id, %s) and "
                "cluster '%s' holds it (%s); allowed: a unique cluster ID per cluster: give "
                "'%s' another ID, or reinstall Cilium on one of them with a free ID and re-run "
                "playbooks/adopt_live.yml"
                % (
                    live.cluster_id,
                    name,
                    _live_file(name),
                    other,
                    _id_holder(other, live.cluster_id, lives, kept, pinned),
                    other,
                )
            )
    if errors:
        raise PlanError("; ".join(errors))


def _id_holder(name, cid, lives, kept, pinned):
    other_live = lives.get(name)
    if other_live is not None and other_live.cluster_id == cid:
        return "its running cilium-config has the same cluster-id, %s" % _live_file(name)
    entry = kept.get(name)
    if entry is not None and entry["id"] == cid:
        if name not in pinned:
            return (
                "the state file keeps it for a cluster that left the inventory; release it "
                "with edgemesh_release_clusters"
            )
        return "the state file"
    return "edgemesh_cluster_id in the inventory"


def _check_reinstall(plan, lives):
    """Cilium's reinstall rules (live_config.reinstall_changes) on every live cluster's
    planned Helm values (cilium_values, the values the cilium role applies)."""
    ctx = cilium_values.context(plan)
    problems = []
    for name in sorted(lives):
        if lives[name] is None:
            continue
        values = cilium_values.cluster_values(ctx, name)
        problems += [
            "%s (%s)" % (msg, _live_file(name))
            for msg in live_config.reinstall_changes(name, values, lives[name])
        ]
    if problems:
        raise PlanError("; ".join(problems))


def _check_live_rebuild(inv, lives, previous_plan, artifacts):
    """edgemesh_state_rebuild: live: the live clusters keep their IDs and pod CIDRs; any
    other cluster is planned fresh only if no earlier artifact of it exists."""
    if not lives:
        raise PlanError(
            "edgemesh_state_rebuild is 'live' but there is no live file of an inventory "
            "cluster in the output directory (%s/<cluster>.json); allowed: run "
            "playbooks/adopt_live.yml first (it reads every cluster whose group sets "
            "edgemesh_kubeconfig)" % live_config.LIVE_DIR
        )
    traces = _cluster_traces(previous_plan, artifacts)
    errors = []
    for cl in inv:
        name = cl["name"]
        if lives.get(name) is not None or not traces.get(name):
            continue
        why = (
            "%s says it has no Cilium yet" % _live_file(name)
            if name in lives
            else ("no %s" % _live_file(name))
        )
        errors.append(
            "%s: edgemesh_state_rebuild is 'live' but the cluster has no live cilium-config "
            "(%s) and earlier artifacts of it exist (%s); planning it fresh could renumber "
            "it; allowed: set edgemesh_kubeconfig on its group and re-run "
            "playbooks/adopt_live.yml, restore the state file, or use edgemesh_state_rebuild: "
            "plan" % (_where(cl), why, ", ".join(traces[name]))
        )
    if errors:
        raise PlanError("; ".join(errors))


def _cluster_traces(previous_plan, artifacts):
    """{cluster: [earlier artifacts of it]}: its entry in plan.json, its kubeconfig."""
    traces = {}
    plan = previous_plan
    if isinstance(plan, (str, bytes)):
        try:
            plan = json.loads(plan)
        except ValueError:
            plan = None
    entries = plan.get("clusters") if isinstance(plan, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            traces.setdefault(entry["name"], []).append("plan.json")
    for path in sorted(set(str(a) for a in artifacts or ())):
        parts = path.replace("\\", "/").rstrip("/").split("/")
        if len(parts) >= 2 and parts[-1] == "kubeconfig":
            traces.setdefault(parts[-2], []).append(path)
    return traces


def _check_cluster_settings(clusters, settings):
    """Mesh-wide settings seen with a value of their own by one cluster's hosts: refused,
    because the planner and the playbooks read them on the control node only."""
    errors = []
    for raw in clusters if isinstance(clusters, (list, tuple)) else ():
        seen = (raw.get("settings") if isinstance(raw, dict) else None) or {}
        for key in sorted(seen):
            wanted = settings.get(key)
            if wanted is None:
                wanted = DEFAULTS.get(key)
            if plain(seen[key]) == plain(wanted):
                continue
            errors.append(
                "cluster group '%s': %s is %s for this cluster's hosts but %s for the mesh; "
                "allowed: set it once for the whole mesh (group_vars/all or extra vars); "
                "a per-cluster value is not supported"
                % (raw.get("group"), key, json.dumps(seen[key]), json.dumps(wanted))
            )
    if errors:
        raise PlanError("; ".join(errors))


def _check_cilium_versions(inv, kept, cfg):
    """Each cluster's move from the Cilium version the state records to the planned one."""
    errors = []
    for cl in inv:
        recorded = (kept.get(cl["name"]) or {}).get("cilium_version")
        if not recorded:
            continue
        problem = mesh_rules.cilium_upgrade_problem(recorded, cfg["cilium_version"])
        if problem:
            errors.append(
                "%s: edgemesh_cilium_version %s (the state file records %s for this cluster)"
                % (_where(cl), problem, recorded)
            )
    if errors:
        raise PlanError("; ".join(errors))


def _check_capacity(inv, inactive, cfg):
    """Capacity of IDs, asked before anything is allocated."""
    mcc = cfg["max_connected_clusters"]
    asked = len(inv) + len(inactive)
    if asked > mcc:
        raise PlanError(
            "%d clusters need a cluster ID (%d in the inventory, %d kept in the state file: %s) "
            "but edgemesh_max_connected_clusters %d allows IDs 1-%d; allowed: at most %d "
            "clusters (set edgemesh_max_connected_clusters to %d on a new mesh, or release "
            "clusters with edgemesh_release_clusters)"
            % (
                asked,
                len(inv),
                len(inactive),
                ", ".join(inactive) or "none",
                mcc,
                mcc,
                mcc,
                MAX_CONNECTED_CLUSTERS[-1],
            )
        )


def _records(inv, kept, inactive, cfg):
    """name -> {"id", "nets": {(kind, family): net}, "port", "source"}: state, then pins."""
    records = {}
    for name in inactive:
        entry = kept[name]
        records[name] = {
            "id": entry["id"],
            "nets": dict(entry["nets"]),
            "port": entry["port"],
            "source": {},
            "cilium_version": entry.get("cilium_version"),
        }
    errors = []
    for cl in inv:
        rec = _record_from_state(cl, kept.get(cl["name"]), cfg, errors)
        _apply_pins(cl, rec, errors)
        records[cl["name"]] = rec
    if errors:
        raise PlanError("; ".join(errors))
    return records


def _record_from_state(cl, entry, cfg, errors):
    where = _where(cl)
    rec = {"id": None, "nets": {}, "port": None, "source": {}}
    if entry is None:
        return rec
    rec["id"] = entry["id"]
    rec["port"] = entry["port"]
    for (kind, family), net in entry["nets"].items():
        if family not in cfg["families"]:
            errors.append(
                "%s: the state file records %s CIDR %s but %s is empty; allowed: keep "
                "the IPv%d pools while the cluster exists"
                % (where, kind, _cidr_text(net), _pool_key(kind, family), family)
            )
            continue
        problem = _check_in_pool(net, kind, family, cfg)
        if problem:
            errors.append(
                "%s: the state file records %s CIDR %s, which no longer fits: %s"
                % (where, kind, _cidr_text(net), problem)
            )
        rec["nets"][(kind, family)] = net
        rec["source"][(kind, family)] = "state file"
    return rec


def _apply_pins(cl, rec, errors):
    where = _where(cl)
    for key, value in sorted(cl["pins"].items(), key=lambda kv: str(kv[0])):
        if key == "id":
            current, label = rec["id"], "edgemesh_cluster_id"
        elif key == "port":
            current, label = rec["port"], "edgemesh_clustermesh_nodeport"
        else:
            current, label = rec["nets"].get(key), cl.get("pin_sources", {}).get(key)
            label = label or _pin_key(*key)
        if current is not None and current != value:
            shown = _cidr_text(value) if key not in ("id", "port") else value
            held = _cidr_text(current) if key not in ("id", "port") else current
            errors.append(
                "%s: %s %s contradicts the state file, which records %s for this running "
                "cluster; allowed: %s (or remove the pin)" % (where, label, shown, held, held)
            )
            continue
        if key == "id":
            rec["id"] = value
        elif key == "port":
            rec["port"] = value
        else:
            rec["nets"][key] = value
            rec["source"][key] = cl.get("pin_sources", {}).get(key) or _pin_key(*key)


def _check_unique(records, inv_names):
    """Unique IDs and ports among everything already decided."""
    errors = []
    for what, field in (("cluster ID", "id"), ("clustermesh NodePort", "port")):
        holder = {}
        for name in sorted(records):
            value = records[name][field]
            if value is None:
                continue
            if value in holder:
                other = holder[value]
                errors.append(
                    "%s %d is claimed by clusters '%s' and '%s'%s; allowed: a unique %s per "
                    "cluster" % (what, value, other, name, _held_note(other, name, inv_names), what)
                )
            else:
                holder[value] = name
    if errors:
        raise PlanError("; ".join(errors))


def _allocate_ids(records):
    used_ids = set(r["id"] for r in records.values() if r["id"] is not None)
    next_id = 1
    for name in sorted(records):
        rec = records[name]
        if rec["id"] is not None:
            continue
        while next_id in used_ids:
            next_id += 1
        rec["id"] = next_id
        used_ids.add(next_id)


def _allocate_ports(records, cfg):
    lo, hi = cfg["nodeport_range"]
    first = cfg["nodeport_first"]
    port_order = list(range(first, hi + 1)) + list(range(lo, first))
    used_ports = set(r["port"] for r in records.values() if r["port"] is not None)
    cursor = 0
    for name in sorted(records):
        rec = records[name]
        if rec["port"] is not None:
            continue
        while cursor < len(port_order) and port_order[cursor] in used_ports:
            cursor += 1
        if cursor >= len(port_order):
            raise PlanError(
                "edgemesh_clustermesh_nodeport_range %d-%d is exhausted: %d clusters fit, %d "
                "asked (first without a port: '%s'); allowed: a wider range"
                % (lo, hi, len(port_order), len(records), name)
            )
        rec["port"] = port_order[cursor]
        used_ports.add(rec["port"])


def _held_note(first, second, inv_names):
    notes = []
    for name in (first, second):
        if name not in inv_names:
            notes.append("'%s' left the inventory but is kept in the state file" % name)
    if notes:
        return " (%s; release it with edgemesh_release_clusters)" % "; ".join(notes)
    return ""


def _check_claims(claims, cfg, inv, inv_names, records):
    errors = []

    def label(claim):
        name, kind, net = claim[3], claim[4], claim[5]
        source = records[name]["source"].get((kind, net.version), "state file")
        if name not in inv_names:
            source = "state file; the cluster left the inventory, release it with "
            source += "edgemesh_release_clusters"
        return "cluster '%s' %s CIDR %s (%s)" % (name, kind, _cidr_text(net), source)

    ordered = sorted(claims, key=lambda c: (c[2], c[0], c[1], c[3], c[4]))
    widest = None
    for claim in ordered:
        if widest is not None and widest[2] == claim[2] and claim[0] <= widest[1]:
            errors.append(
                "%s overlaps %s; allowed: disjoint pod and service CIDRs across the mesh"
                % (label(widest), label(claim))
            )
        if widest is None or widest[2] != claim[2] or claim[1] > widest[1]:
            widest = claim
    reserved = {4: _Taken(), 6: _Taken()}
    for net in cfg["reserved"]:
        reserved[net.version].add(net.first, net.last)
    nodes = {4: [], 6: []}
    for cl in inv:
        for node in cl["nodes"]:
            for addr in node["addrs"]:
                nodes[addr.version].append((int(addr), node["host"], cl["name"]))
    for family in nodes:
        nodes[family].sort()
    node_keys = dict((family, [n[0] for n in nodes[family]]) for family in nodes)
    for claim in ordered:
        first, last, family = claim[0], claim[1], claim[2]
        if reserved[family].overlap_end(first, last) is not None:
            hits = [
                _cidr_text(r)
                for r in cfg["reserved"]
                if r.version == family and r.first <= last and r.last >= first
            ]
            errors.append(
                "%s overlaps edgemesh_reserved_cidrs %s; allowed: a CIDR outside the reserved "
                "ranges" % (label(claim), ", ".join(hits))
            )
        keys = node_keys[family]
        idx = bisect.bisect_left(keys, first)
        if idx < len(keys) and keys[idx] <= last:
            _addr, host, owner = nodes[family][idx]
            errors.append(
                "%s contains the address %s of host '%s' (cluster '%s'); allowed: pod and "
                "service CIDRs that hold no node address"
                % (label(claim), str(IPAddress(keys[idx], family)), host, owner)
            )
    if errors:
        raise PlanError("; ".join(errors))


def _allocate_cidrs(records, inv, kind, family, cfg, taken):
    prefix = cfg[_prefix_key(kind, family)]
    pools = cfg[_pool_key(kind, family)]
    bits = 32 if family == 4 else 128
    size = 1 << (bits - prefix)
    cursors = [pool.first for pool in pools]
    active = set(c["name"] for c in inv)
    need = [n for n in sorted(records) if n in active and (kind, family) not in records[n]["nets"]]
    for position, name in enumerate(need):
        found = None
        for index, pool in enumerate(pools):
            start = cursors[index]
            while start + size - 1 <= pool.last:
                end = taken.overlap_end(start, start + size - 1)
                if end is None:
                    found = start
                    break
                start = ((end + 1 + size - 1) // size) * size
            cursors[index] = start
            if found is not None:
                break
        if found is None:
            holders = sum(1 for r in records.values() if (kind, family) in r["nets"])
            wanting = len(need) - position
            raise PlanError(
                "%s (%s) is exhausted with /%d blocks (%s): %d clusters fit, %d asked (%d more "
                "needed, first: cluster '%s'); allowed: a larger pool, a longer %s, or fewer "
                "reserved ranges"
                % (
                    _pool_key(kind, family),
                    ", ".join(_cidr_text(p) for p in pools),
                    prefix,
                    "reserved ranges and node addresses excluded",
                    holders,
                    holders + wanting,
                    wanting,
                    name,
                    _prefix_key(kind, family),
                )
            )
        net = IPNetwork("%s/%d" % (IPAddress(found, family), prefix))
        records[name]["nets"][(kind, family)] = net
        taken.add(net.first, net.last)


def _assemble(inv, records, inactive, cfg):
    names = [c["name"] for c in inv]
    clusters = [_cluster_plan(cl, records[cl["name"]], names, cfg) for cl in inv]
    plan = {"mesh": _mesh_plan(inv, records, inactive, cfg), "clusters": clusters}
    return {"plan": plan, "state": state_from_plan(plan)}


def _cluster_plan(cl, rec, names, cfg):
    """The plan of one cluster (docs/contracts.md), as plain data."""
    first_svc = rec["nets"][("service", cfg["families"][0])]
    nodes = [plan_types.Node(n["host"], n["ip"], n["role"], n["ip_v6"]) for n in cl["nodes"]]
    servers = [n for n in nodes if n.role == "server"]
    init_ip = next(n.ip for n in servers if n.host == cl["init_host"])
    endpoint = cl["api_endpoint"] or {"host": init_ip, "port": plan_types.DEFAULT_API_PORT}
    cluster = plan_types.ClusterPlan(
        name=cl["name"],
        group=cl["group"],
        id=rec["id"],
        region=cl["region"],
        distribution=cl["distribution"],
        pod_cidrs=[_cidr_text(rec["nets"][("pod", f)]) for f in cfg["families"]],
        service_cidrs=[_cidr_text(rec["nets"][("service", f)]) for f in cfg["families"]],
        cluster_dns=str(IPAddress(first_svc.first + 10, first_svc.version)),
        clustermesh_nodeport=rec["port"],
        servers=sorted((n.ip for n in servers), key=_ip_sort_key),
        agents=sorted((n.ip for n in nodes if n.role == "agent"), key=_ip_sort_key),
        nodes=nodes,
        peers=[n for n in names if n != cl["name"]],
        api_endpoint=plan_types.Endpoint(endpoint["host"], endpoint["port"]),
        init_host=cl["init_host"],
        server_hosts=[n.host for n in servers],
        agent_hosts=[n.host for n in nodes if n.role == "agent"],
        paths=plan_types.ClusterPaths.for_cluster(cl["name"]),
        control_plane_endpoint=cl["control_plane_endpoint"],
        extra_cert_sans=cl["extra_cert_sans"],
        kubeconfig=cl["kubeconfig"],
        kube_context=cl["kube_context"],
        cilium=cl["cilium"],
    )
    return plan_types.to_dict(cluster)


def _mesh_plan(inv, records, inactive, cfg):
    regions = {}
    for cl in inv:
        regions.setdefault(cl["region"], []).append(cl["name"])

    def pool_texts(kind, family):
        return [_cidr_text(p) for p in cfg[_pool_key(kind, family)]]

    mesh = {
        "cilium_version": cfg["cilium_version"],
        "cilium_minor": cfg["cilium_minor"],
        "max_connected_clusters": cfg["max_connected_clusters"],
        "pod_cidr_pool": pool_texts("pod", 4),
        "pod_cidr_pool_v6": pool_texts("pod", 6),
        "service_cidr_pool": pool_texts("service", 4),
        "service_cidr_pool_v6": pool_texts("service", 6),
        "pod_cidr_prefix": cfg["edgemesh_pod_cidr_prefix"],
        "service_cidr_prefix": cfg["edgemesh_service_cidr_prefix"],
        "pod_cidr_prefix_v6": cfg["edgemesh_pod_cidr_prefix_v6"],
        "service_cidr_prefix_v6": cfg["edgemesh_service_cidr_prefix_v6"],
        "ip_families": ["ipv%d" % f for f in cfg["families"]],
        "reserved_cidrs": [_cidr_text(n) for n in cfg["reserved"]],
        "clustermesh_nodeport_range": list(cfg["nodeport_range"]),
        "regions": dict((r, sorted(n)) for r, n in sorted(regions.items())),
        "inactive_clusters": {},
    }
    for name in inactive:
        rec = records[name]
        nets = rec["nets"]
        mesh["inactive_clusters"][name] = {
            "id": rec["id"],
            "pod_cidrs": [_cidr_text(nets[k]) for k in sorted(nets) if k[0] == "pod"],
            "service_cidrs": [_cidr_text(nets[k]) for k in sorted(nets) if k[0] == "service"],
            "clustermesh_nodeport": rec["port"],
        }
        if rec.get("cilium_version"):
            mesh["inactive_clusters"][name]["cilium_version"] = rec["cilium_version"]
    return mesh


def state_from_plan(plan):
    """The state file's content, derived from a plan alone.

    Active clusters come from ``plan.clusters``; clusters that left the inventory but are
    still reserved come from ``plan.mesh.inactive_clusters``. So the plan is the one source
    of truth and the state written next to it can always be recomputed from it.
    """
    clusters = {}
    for cluster in plan["clusters"]:
        clusters[cluster["name"]] = {
            "id": cluster["id"],
            "pod_cidrs": list(cluster["pod_cidrs"]),
            "service_cidrs": list(cluster["service_cidrs"]),
            "clustermesh_nodeport": cluster["clustermesh_nodeport"],
            "active": True,
            "cilium_version": plan["mesh"]["cilium_version"],
        }
    for name, entry in (plan["mesh"].get("inactive_clusters") or {}).items():
        clusters[name] = dict(entry, active=False)
    return {
        "format": STATE_FORMAT,
        "max_connected_clusters": plan["mesh"]["max_connected_clusters"],
        "clusters": dict((name, clusters[name]) for name in sorted(clusters)),
    }

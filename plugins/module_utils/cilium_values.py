# -*- coding: utf-8 -*-
# Copyright (c) edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Complete Cilium Helm values of one cluster of the mesh, computed from the plan.

Pure Python (netaddr for address math, no Ansible import) so that the artifact renderer,
the ``cilium_values`` filter and the unit tests share one engine.

``cluster_values(plan, cluster_name, options=None) -> dict``

* ``plan`` is the planner's plan (see docs/contracts.md).
* ``options`` holds the ``cilium_*`` role knobs; keys may be given with or without the
  ``cilium_`` prefix (``routing_mode`` or ``cilium_routing_mode``). Unknown keys are an
  error, absent keys take the defaults in ``DEFAULT_OPTIONS``.

Every emitted key exists in the chart of the plan's Cilium version (1.18, 1.19, 1.20);
the unit tests check this against the flattened chart defaults of each version.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:  # pragma: no cover - exercised only without netaddr
    netaddr = None
    HAS_NETADDR = False

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    api_endpoints,
    mesh_rules,
    plan_types,
)

DEFAULT_OPTIONS = {
    # datapath
    "routing_mode": "tunnel",  # tunnel | native
    "tunnel_protocol": "vxlan",  # vxlan | geneve (tunnel mode)
    "auto_direct_node_routes": False,  # native mode, nodes of a cluster share one L2
    "native_routing_cidr": None,  # override of the computed ipv4NativeRoutingCIDR
    "native_routing_cidr_v6": None,  # override of the computed ipv6NativeRoutingCIDR
    "pod_cidr_mask_size": 24,  # per-node v4 block carved from the cluster's pod CIDR
    "pod_cidr_mask_size_v6": None,  # per-node v6 block; None = pool prefix + 16 (max 120)
    "kube_proxy_replacement": True,  # k8sServiceHost/Port: api_endpoints.agent_endpoint
    # encryption
    "encryption": True,
    "encryption_type": "wireguard",
    "node_encryption": False,
    # observability
    "hubble": True,
    "hubble_relay": True,
    "hubble_ui": False,
    # control plane sizing
    "operator_replicas": None,  # None = 1 on single-node clusters, else 2
    "clustermesh_apiserver_replicas": None,  # None = 1 on single-node clusters, else 2 + PDB
    # mesh
    "clustermesh_addresses": {},  # {cluster: ip}: LoadBalancer + LB IPAM pool + L2 announcement
    "clustermesh_lb_port": 2379,
    "mesh_profile": None,  # None = the chart's defaults; lan | wan | flaky (mesh_rules)
    "policy_default_local_cluster": None,  # None = the chart version's default
    "cert_method": "cronJob",  # cronJob (certgen, stable across upgrades) | certmanager n/a
    # shared trust: PEM text of the mesh CA (the key stays out of rendered artifacts)
    "ca_cert": None,
    "ca_key": None,
    # free-form values merged last (deep merge), for keys this engine does not manage
    "extra_values": {},
}
# Options that come only from the role at install time, never from the inventory.
SECRET_OPTIONS = ("ca_cert", "ca_key")
# Every other option is an inventory variable cilium_<name>, mesh-wide or per cluster.
INVENTORY_OPTIONS = tuple(sorted(k for k in DEFAULT_OPTIONS if k not in SECRET_OPTIONS))

_BOOL_OPTIONS = (
    "auto_direct_node_routes",
    "kube_proxy_replacement",
    "encryption",
    "node_encryption",
    "hubble",
    "hubble_relay",
    "hubble_ui",
)


class CiliumValuesError(ValueError):
    """Bad plan or options; the message names the cluster/key/value at fault."""


def _fail(msg):
    raise CiliumValuesError(msg)


def normalize_options(options):
    """Defaults + given options (``cilium_`` prefix optional), checked."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        _fail("options must be a dict, got %s" % type(options).__name__)
    result = copy.deepcopy(DEFAULT_OPTIONS)
    for key, value in options.items():
        name = key[len("cilium_") :] if str(key).startswith("cilium_") else str(key)
        if name not in DEFAULT_OPTIONS:
            _fail("unknown option %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_OPTIONS))))
        result[name] = value
    for name in _BOOL_OPTIONS:
        result[name] = _as_bool(result[name], name)
    pdlc = result["policy_default_local_cluster"]
    if pdlc is not None and pdlc != "":
        result["policy_default_local_cluster"] = _as_bool(pdlc, "policy_default_local_cluster")
    else:
        result["policy_default_local_cluster"] = None
    for name in (
        "pod_cidr_mask_size",
        "pod_cidr_mask_size_v6",
        "clustermesh_lb_port",
        "clustermesh_apiserver_replicas",
        "operator_replicas",
    ):
        result[name] = _as_int(result[name])
    if result["routing_mode"] not in ("tunnel", "native"):
        _fail("option routing_mode must be tunnel or native, got %r" % (result["routing_mode"],))
    if result["tunnel_protocol"] not in ("vxlan", "geneve"):
        _fail(
            "option tunnel_protocol must be vxlan or geneve, got %r" % (result["tunnel_protocol"],)
        )
    if result["encryption_type"] != "wireguard":
        _fail("option encryption_type must be wireguard, got %r" % (result["encryption_type"],))
    if result["cert_method"] != "cronJob":
        _fail(
            "option cert_method must be cronJob (certgen; 'helm' re-issues certificates on "
            "every upgrade), got %r" % (result["cert_method"],)
        )
    for name in ("clustermesh_addresses", "extra_values"):
        if result[name] is None:
            result[name] = {}
        if not isinstance(result[name], dict):
            _fail("option %s must be a dict, got %r" % (name, result[name]))
    for name, low, high in (
        ("pod_cidr_mask_size", 1, 32),
        ("clustermesh_lb_port", 1, 65535),
    ):
        _check_int(result[name], name, low, high)
    if result["pod_cidr_mask_size_v6"] is not None:
        _check_int(result["pod_cidr_mask_size_v6"], "pod_cidr_mask_size_v6", 1, 128)
    for name in ("operator_replicas", "clustermesh_apiserver_replicas"):
        if result[name] is not None:
            _check_int(result[name], name, 1, 10)
    if (result["ca_cert"] is None) != (result["ca_key"] is None):
        _fail("options ca_cert and ca_key must be given together")
    for name in ("ca_cert", "ca_key"):
        if result[name] is not None:
            if not isinstance(result[name], str) or "-----BEGIN " not in result[name]:
                # never echo the value: it may be a private key
                _fail("option %s must be PEM text" % name)
    return result


_TRUE = ("true",)
_FALSE = ("false",)


def _as_bool(value, name):
    """Booleans, or "true"/"false" strings (``-e key=true`` gives a string)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    _fail("option %s must be a boolean, got %r" % (name, value))


def _as_int(value):
    """Digit strings become integers (``-e key=26`` gives a string); the rest is checked later."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if value == "":
        return None
    return value


def _check_int(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _fail("option %s must be an integer in %d..%d, got %r" % (name, low, high, value))


def _network(text, where):
    if not HAS_NETADDR:
        _fail("the netaddr Python library is required: pip install netaddr")
    try:
        net = netaddr.IPNetwork(str(text))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        _fail("%s: %r is not a CIDR" % (where, text))
    if net.ip != net.network:
        _fail("%s: %s has host bits set (network is %s)" % (where, text, net.cidr))
    return net


def _address(text, where):
    if not HAS_NETADDR:
        _fail("the netaddr Python library is required: pip install netaddr")
    try:
        return netaddr.IPAddress(str(text))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        _fail("%s: %r is not an IP address" % (where, text))


def covering_cidr(cidrs):
    """One CIDR covering all given CIDRs of one family (merged first, then spanned)."""
    merged = netaddr.cidr_merge([netaddr.IPNetwork(c) for c in cidrs])
    if len(merged) == 1:
        return str(merged[0])
    return str(netaddr.spanning_cidr(merged))


def _split_families(cidrs, where):
    v4, v6 = [], []
    for text in cidrs:
        net = _network(text, where)
        (v4 if net.version == 4 else v6).append(net)
    return v4, v6


def _mask_size(pool_nets, family, opts, name):
    prefix = max(n.prefixlen for n in pool_nets)
    if family == 4:
        mask = opts["pod_cidr_mask_size"]
        if mask <= prefix:
            _fail(
                "cluster %s: cilium_pod_cidr_mask_size %d must be longer than the pod CIDR "
                "prefix /%d" % (name, mask, prefix)
            )
        return mask
    mask = opts["pod_cidr_mask_size_v6"]
    if mask is None:
        mask = min(prefix + 16, 120)
    if mask <= prefix or mask - prefix > 16:
        _fail(
            "cluster %s: cilium_pod_cidr_mask_size_v6 %d must be 1..16 bits longer than the "
            "v6 pod CIDR prefix /%d" % (name, mask, prefix)
        )
    return mask


def _peer_entry(peer, opts, name):
    """(ips, port) under which the peer's clustermesh-apiserver is reached."""
    address = opts["clustermesh_addresses"].get(peer.name)
    if address:
        _address(address, "cluster %s: clustermesh address of peer %s" % (name, peer.name))
        return [str(address)], opts["clustermesh_lb_port"]
    if not peer.servers:
        _fail("cluster %s: servers is missing or not a non-empty list" % peer.name)
    # NodePort exposure answers on every node: list them all, so that a peer whose servers
    # are down is still reached through its agents (the chart writes one hostAlias per IP).
    ips = node_ips(peer)
    for ip in ips:
        _address(ip, "cluster %s: server address" % peer.name)
    if not mesh_rules.is_nodeport(peer.clustermesh_nodeport):
        _fail(
            "cluster %s: clustermesh_nodeport %r is not a NodePort (%d..%d)"
            % ((peer.name, peer.clustermesh_nodeport) + mesh_rules.NODEPORT_RANGE)
        )
    return ips, peer.clustermesh_nodeport


def node_ips(cluster):
    """Every node IP of a cluster (primary addresses), servers first, without repeats."""
    ips = []
    for ip in [str(i) for i in cluster.servers] + [str(i) for i in cluster.agents]:
        if ip not in ips:
            ips.append(ip)
    return ips


def _node_count(cluster):
    return len(cluster.nodes) or len(node_ips(cluster))


def _mesh_clusters(rules, cluster, by_name, opts, cache):
    entries = []
    peers = cluster.peers
    if peers is None:
        peers = [n for n in by_name if n != cluster.name]
    for peer_name in sorted(str(p) for p in peers):
        if peer_name == cluster.name:
            _fail("cluster %s: lists itself as a peer" % cluster.name)
        if peer_name not in by_name:
            _fail("cluster %s: peer %s is not in plan.clusters" % (cluster.name, peer_name))
        if peer_name not in cache:
            ips, port = _peer_entry(by_name[peer_name], opts, cluster.name)
            if rules.clusters_as_map:
                cache[peer_name] = {"ips": ips, "port": port}
            else:
                cache[peer_name] = {"name": peer_name, "ips": ips, "port": port}
        entries.append((peer_name, cache[peer_name]))
    # Every cluster's values share these entry objects (rendering reuses their text);
    # cluster_values copies the values before merging extra_values into them.
    if not rules.clusters_as_map:
        return [entry for _name, entry in entries]
    # The chart takes a dict keyed by cluster name (the recommended form: names are unique
    # by construction and several values files deep-merge).
    return dict(entries)


def _deep_merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class _Context(object):
    """The typed plan and what every cluster's values share (peer entries, pod CIDRs)."""

    def __init__(self, plan):
        try:
            self.plan = plan_types.Plan.from_dict(plan)
        except plan_types.PlanShapeError as exc:
            _fail(str(exc))
        self.mesh = self.plan.mesh
        try:
            version = mesh_rules.normalize_cilium_version(self.mesh.get("cilium_version"))
            self.rules = mesh_rules.minor_rules(version)
        except mesh_rules.RuleError as exc:
            _fail("plan.mesh.cilium_version: %s" % exc)
        if not self.plan.clusters:
            _fail("plan.clusters must be a non-empty list")
        self.by_name = dict((c.name, c) for c in self.plan.clusters)
        if len(self.by_name) != len(self.plan.clusters):
            _fail("plan.clusters: a cluster appears twice")
        self.peer_cache = {}
        self.pods = None

    def all_pods(self):
        if self.pods is None:
            self.pods = ([], [])
            for other in self.plan.clusters:
                o4, o6 = _split_families(other.pod_cidrs, "cluster %s: pod_cidrs" % other.name)
                self.pods[0].extend(o4)
                self.pods[1].extend(o6)
        return self.pods


def context(plan):
    """A shared context for rendering many clusters of one plan (see cluster_values)."""
    return plan if isinstance(plan, _Context) else _Context(plan)


def cluster_options(plan_cluster, options):
    """DEFAULT_OPTIONS < the plan's options of this cluster < ``options``, checked."""
    merged = dict(plan_cluster.cilium or {})
    for key, value in (options or {}).items():
        merged[key[len("cilium_") :] if str(key).startswith("cilium_") else key] = value
    return normalize_options(merged)


def cluster_values(plan, cluster_name, options=None):
    """The complete Helm values of cluster ``cluster_name`` for the plan's Cilium version.

    ``plan`` is the plan (dict), or ``context(plan)`` when many clusters are rendered.
    ``options`` are added over the cluster's options in the plan (the role adds the CA).
    """
    if options is not None and not isinstance(options, dict):
        _fail("options must be a dict, got %s" % type(options).__name__)
    ctx = context(plan)
    if cluster_name not in ctx.by_name:
        _fail(
            "cluster %s is not in the plan (clusters: %s)"
            % (cluster_name, ", ".join(sorted(ctx.by_name)))
        )
    cluster = ctx.by_name[cluster_name]
    opts = cluster_options(cluster, options)
    _check_identity(ctx, cluster)
    values = _identity_and_ipam(cluster, opts)
    _routing(values, ctx, opts)
    _kube_proxy_and_encryption(values, cluster, opts)
    _hubble(values, opts)
    _clustermesh(values, ctx, cluster, opts)
    # Shared trust: every cluster gets the same CA; certgen (cronJob method) issues the
    # clustermesh-apiserver and Hubble certificates from it inside the cluster and reuses
    # them, so a Helm upgrade with unchanged values renders unchanged manifests.
    values["certgen"] = {"tolerations": _control_plane_tolerations()}
    if opts["ca_cert"] is not None:
        values["tls"] = {"ca": {"cert": _b64(opts["ca_cert"]), "key": _b64(opts["ca_key"])}}
        values["certgen"]["generateCA"] = False
    if opts["extra_values"]:
        values = _deep_merge(copy.deepcopy(values), opts["extra_values"])
    return values


def _check_identity(ctx, cluster):
    name = cluster.name
    problem = mesh_rules.cluster_name_problem(name)
    if problem:
        _fail("cluster %s: name %s" % (name, problem))
    max_clusters = ctx.mesh.get("max_connected_clusters", mesh_rules.DEFAULT_MAX_CONNECTED_CLUSTERS)
    try:
        first, last = mesh_rules.cluster_id_range(max_clusters)
    except mesh_rules.RuleError as exc:
        _fail("plan.mesh.%s" % exc)
    if not first <= cluster.id <= last:
        _fail("cluster %s: id %d is outside %d..%d" % (name, cluster.id, first, last))
    if not cluster.servers:
        _fail("cluster %s: servers is missing or not a non-empty list" % name)
    for ip in cluster.servers:
        _address(ip, "cluster %s: server address" % name)


def _identity_and_ipam(cluster, opts):
    name = cluster.name
    pod_v4, pod_v6 = _split_families(cluster.pod_cidrs, "cluster %s: pod_cidrs" % name)
    if not pod_v4 and not pod_v6:
        _fail("cluster %s: no pod CIDR" % name)
    values = {
        "cluster": {"name": name, "id": cluster.id},
        "ipam": {"mode": "cluster-pool", "operator": {}},
        "ipv4": {"enabled": bool(pod_v4)},
        "ipv6": {"enabled": bool(pod_v6)},
        "rollOutCiliumPods": True,
        "operator": {"rollOutPods": True},
    }
    ipam_operator = values["ipam"]["operator"]
    if pod_v4:
        ipam_operator["clusterPoolIPv4PodCIDRList"] = [str(n) for n in pod_v4]
        ipam_operator["clusterPoolIPv4MaskSize"] = _mask_size(pod_v4, 4, opts, name)
        values["enableIPv4Masquerade"] = True
    if pod_v6:
        ipam_operator["clusterPoolIPv6PodCIDRList"] = [str(n) for n in pod_v6]
        ipam_operator["clusterPoolIPv6MaskSize"] = _mask_size(pod_v6, 6, opts, name)
        values["enableIPv6Masquerade"] = True
    values["operator"]["replicas"] = _replicas(cluster, opts["operator_replicas"])
    return values


def _replicas(cluster, chosen):
    """The option when set, else 1 on a single-node cluster and 2 on larger ones."""
    if chosen is not None:
        return chosen
    return 1 if _node_count(cluster) <= 1 else 2


def _control_plane_tolerations():
    """Tolerate the control-plane taint, so control-plane-only clusters schedule the pod."""
    taint = mesh_rules.CONTROL_PLANE_TAINT
    return [{"key": taint["key"], "operator": "Exists", "effect": taint["effect"]}]


def _routing(values, ctx, opts):
    """Tunnel (VXLAN/Geneve), or native with a routing CIDR covering every cluster's pod
    CIDRs, so traffic to remote clusters' pods is not masqueraded."""
    if opts["routing_mode"] == "tunnel":
        values["routingMode"] = "tunnel"
        values["tunnelProtocol"] = opts["tunnel_protocol"]
        return
    values["routingMode"] = "native"
    values["autoDirectNodeRoutes"] = opts["auto_direct_node_routes"]
    all_pods = ctx.all_pods()
    for index, (family, key) in enumerate(
        ((4, "native_routing_cidr"), (6, "native_routing_cidr_v6"))
    ):
        if not values["ipv%d" % family]["enabled"]:
            continue
        cidr = opts[key] or covering_cidr(all_pods[index])
        net = _network(cidr, "option %s" % key)
        for other in all_pods[index]:
            if other not in net:
                _fail("option %s %s does not cover pod CIDR %s" % (key, net, other))
        values["ipv%dNativeRoutingCIDR" % family] = str(net)


def _kube_proxy_and_encryption(values, cluster, opts):
    if opts["kube_proxy_replacement"]:
        values["kubeProxyReplacement"] = True
        # Every node's own loopback, never one server (api_endpoints explains why and how).
        endpoint = api_endpoints.agent_endpoint(cluster)
        values["k8sServiceHost"] = endpoint.host
        values["k8sServicePort"] = endpoint.port
        values["bpf"] = {"masquerade": True}
    else:
        values["kubeProxyReplacement"] = False
    values["encryption"] = {"enabled": opts["encryption"]}
    if opts["encryption"]:
        values["encryption"]["type"] = opts["encryption_type"]
        values["encryption"]["nodeEncryption"] = opts["node_encryption"]


def _hubble(values, opts):
    hubble = {"enabled": opts["hubble"]}
    if opts["hubble"]:
        # The relay serves TLS with a certificate certgen issues from the mesh CA (tls.ca),
        # which its clients (hubble-ui, the hubble CLI given the CA) trust; 1.20 warns
        # when it is off.
        hubble["relay"] = {
            "enabled": opts["hubble_relay"],
            "tls": {"server": {"enabled": opts["hubble_relay"]}},
            "tolerations": _control_plane_tolerations(),
        }
        hubble["ui"] = {"enabled": opts["hubble_relay"] and opts["hubble_ui"]}
        if hubble["ui"]["enabled"]:
            hubble["ui"]["tolerations"] = _control_plane_tolerations()
        hubble["tls"] = {"enabled": True, "auto": {"enabled": True, "method": opts["cert_method"]}}
    values["hubble"] = hubble


def _clustermesh(values, ctx, cluster, opts):
    name = cluster.name
    own_address = opts["clustermesh_addresses"].get(name)
    if own_address:
        _address(own_address, "cluster %s: clustermesh address" % name)
        service = {"type": "LoadBalancer", "loadBalancerIP": str(own_address)}
        # Bare metal: LB IPAM assigns the address from the pool loadbalancer_objects builds,
        # the agents answer ARP/NDP for it (L2 announcements).
        values["l2announcements"] = {"enabled": True}
    else:
        if not mesh_rules.is_nodeport(cluster.clustermesh_nodeport):
            _fail(
                "cluster %s: clustermesh_nodeport %r is not a NodePort (%d..%d)"
                % ((name, cluster.clustermesh_nodeport) + mesh_rules.NODEPORT_RANGE)
            )
        service = {"type": "NodePort", "nodePort": cluster.clustermesh_nodeport}
    pdlc = opts["policy_default_local_cluster"]
    # The peer entries depend on the options (LoadBalancer addresses): cache per option set.
    cache = ctx.peer_cache.setdefault(
        (repr(sorted(opts["clustermesh_addresses"].items())), opts["clustermesh_lb_port"]), {}
    )
    profile = _profile(values, ctx, opts)
    values["clustermesh"] = {
        "useAPIServer": True,
        "maxConnectedClusters": ctx.mesh.get(
            "max_connected_clusters", mesh_rules.DEFAULT_MAX_CONNECTED_CLUSTERS
        ),
        "policyDefaultLocalCluster": (
            ctx.rules.policy_default_local_cluster if pdlc is None else pdlc
        ),
        "apiserver": _apiserver(cluster, opts, service, profile),
        "config": {
            "enabled": True,
            "clusters": _mesh_clusters(ctx.rules, cluster, ctx.by_name, opts, cache),
        },
    }
    if profile and ctx.rules.minor in mesh_rules.CACHE_TTL_MINORS:
        values["clustermesh"]["cacheTTL"] = profile["cache_ttl"]


def _profile(values, ctx, opts):
    """The resilience profile's settings (None without one); the agents' sync timeout is
    an agent option without a chart value: it goes to cilium-config through extraConfig."""
    name = opts["mesh_profile"]
    if name in (None, ""):
        return None
    if name not in mesh_rules.MESH_PROFILES:
        _fail(
            "option mesh_profile is %r; allowed: %s"
            % (name, ", ".join(sorted(mesh_rules.MESH_PROFILES)))
        )
    profile = mesh_rules.MESH_PROFILES[name]
    values["extraConfig"] = {"clustermesh-sync-timeout": profile["sync_timeout"]}
    return profile


def _apiserver(cluster, opts, service, profile=None):
    chosen = opts["clustermesh_apiserver_replicas"]
    if chosen is None and profile and _node_count(cluster) > 1:
        chosen = min(profile["apiserver_replicas"], _node_count(cluster))
    replicas = _replicas(cluster, chosen)
    return {
        "replicas": replicas,
        # with 2+ replicas a drain keeps one serving (the chart's maxUnavailable is 1)
        "podDisruptionBudget": {"enabled": replicas >= 2},
        "service": service,
        "tls": {"auto": {"enabled": True, "method": opts["cert_method"]}},
        "tolerations": _control_plane_tolerations(),
    }


# The Service of the clustermesh-apiserver as the chart labels it (all three minors).
_APISERVER_SELECTOR = {"matchLabels": {"k8s-app": "clustermesh-apiserver"}}
MANAGED_LABELS = {"app.kubernetes.io/managed-by": "edgemesh.cluster_mesh"}


def loadbalancer_objects(plan, cluster_name, options=None):
    """The Cilium objects that make a LoadBalancer clustermesh-apiserver answer on bare metal.

    Empty unless ``clustermesh_addresses`` names this cluster. Else: a
    CiliumLoadBalancerIPPool holding exactly that address for the clustermesh-apiserver
    Service (LB IPAM assigns it) and a CiliumL2AnnouncementPolicy making the agents answer
    ARP/NDP for it (the values enable ``l2announcements``). Cluster-scoped, named
    ``edgemesh-clustermesh-apiserver``, labelled ``MANAGED_LABELS``.
    """
    ctx = context(plan)
    if cluster_name not in ctx.by_name:
        _fail(
            "cluster %s is not in the plan (clusters: %s)"
            % (cluster_name, ", ".join(sorted(ctx.by_name)))
        )
    opts = cluster_options(ctx.by_name[cluster_name], options)
    address = opts["clustermesh_addresses"].get(cluster_name)
    if not address:
        return []
    ip = _address(address, "cluster %s: clustermesh address" % cluster_name)
    metadata = {"name": "edgemesh-clustermesh-apiserver", "labels": dict(MANAGED_LABELS)}
    pool = {
        "apiVersion": mesh_rules.LB_IP_POOL_API_VERSION,
        "kind": "CiliumLoadBalancerIPPool",
        "metadata": copy.deepcopy(metadata),
        "spec": {
            "blocks": [{"cidr": "%s/%d" % (ip, 32 if ip.version == 4 else 128)}],
            "serviceSelector": copy.deepcopy(_APISERVER_SELECTOR),
        },
    }
    policy = {
        "apiVersion": mesh_rules.L2_ANNOUNCEMENT_API_VERSION,
        "kind": "CiliumL2AnnouncementPolicy",
        "metadata": copy.deepcopy(metadata),
        "spec": {
            "serviceSelector": copy.deepcopy(_APISERVER_SELECTOR),
            "loadBalancerIPs": True,
            "externalIPs": False,
        },
    }
    return [pool, policy]


# Lines helm prints on stderr that say nothing wrong: from 1.19 the mesh peers are a map
# keyed by cluster name while the chart's default is an empty list, so helm notes that it
# drops the default (helm 4: "destination for ... is a table. Ignoring non-table value
# ([])"; helm 3: "cannot overwrite table with non table for ...").
_HARMLESS_STDERR = (
    ("clustermesh.config.clusters", "Ignoring non-table value ([])"),
    ("clustermesh.config.clusters", "cannot overwrite table with non table"),
)


def helm_warnings(stderr):
    """The lines of helm's stderr worth reporting (blank and known-harmless lines dropped)."""
    lines = []
    for line in str(stderr or "").splitlines():
        if not line.strip():
            continue
        if any(a in line and b in line for a, b in _HARMLESS_STDERR):
            continue
        lines.append(line.strip())
    return lines

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
import re

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:  # pragma: no cover - exercised only without netaddr
    netaddr = None
    HAS_NETADDR = False

SUPPORTED_MINORS = ("1.18", "1.19", "1.20")

# Default of clustermesh.policyDefaultLocalCluster in each chart: policies without an
# explicit io.cilium.k8s.policy.cluster selector match only the local cluster from 1.19.
POLICY_DEFAULT_LOCAL_CLUSTER = {"1.18": False, "1.19": True, "1.20": True}

DEFAULT_OPTIONS = {
    # datapath
    "routing_mode": "tunnel",  # tunnel | native
    "tunnel_protocol": "vxlan",  # vxlan | geneve (tunnel mode)
    "auto_direct_node_routes": False,  # native mode, nodes of a cluster share one L2
    "native_routing_cidr": None,  # override of the computed ipv4NativeRoutingCIDR
    "native_routing_cidr_v6": None,  # override of the computed ipv6NativeRoutingCIDR
    "pod_cidr_mask_size": 24,  # per-node v4 block carved from the cluster's pod CIDR
    "pod_cidr_mask_size_v6": None,  # per-node v6 block; None = pool prefix + 16 (max 120)
    "kube_proxy_replacement": True,
    "api_endpoints": {},  # {cluster: "host:port"} override of k8sServiceHost/Port
    "api_port": 6443,  # API port of k3s and kubeadm servers
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
    "clustermesh_apiserver_replicas": 1,
    # mesh
    "clustermesh_addresses": {},  # {cluster: ip}: expose clustermesh-apiserver as LoadBalancer
    "clustermesh_lb_port": 2379,
    "policy_default_local_cluster": None,  # None = the chart version's default
    "cert_method": "cronJob",  # cronJob (certgen, stable across upgrades) | certmanager n/a
    # shared trust: PEM text of the mesh CA (the key stays out of rendered artifacts)
    "ca_cert": None,
    "ca_key": None,
    # free-form values merged last (deep merge), for keys this engine does not manage
    "extra_values": {},
}

_BOOL_OPTIONS = (
    "auto_direct_node_routes",
    "kube_proxy_replacement",
    "encryption",
    "node_encryption",
    "hubble",
    "hubble_relay",
    "hubble_ui",
)
_CLUSTER_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


class CiliumValuesError(ValueError):
    """Bad plan or options; the message names the cluster/key/value at fault."""


def _fail(msg):
    raise CiliumValuesError(msg)


def version_minor(version):
    """'1.19.6' -> '1.19'; raise for versions the engine does not support."""
    text = str(version or "").strip().lstrip("v")
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$", text)
    if not m:
        _fail("cilium version %r is not of the form X.Y.Z" % (version,))
    minor = "%s.%s" % (m.group(1), m.group(2))
    if minor not in SUPPORTED_MINORS:
        _fail(
            "cilium version %s is not supported (supported: %s)"
            % (text, ", ".join(x + ".x" for x in SUPPORTED_MINORS))
        )
    return minor


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
        "api_port",
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
    for name in ("api_endpoints", "clustermesh_addresses", "extra_values"):
        if result[name] is None:
            result[name] = {}
        if not isinstance(result[name], dict):
            _fail("option %s must be a dict, got %r" % (name, result[name]))
    for name, low, high in (
        ("pod_cidr_mask_size", 1, 32),
        ("api_port", 1, 65535),
        ("clustermesh_lb_port", 1, 65535),
        ("clustermesh_apiserver_replicas", 1, 10),
    ):
        _check_int(result[name], name, low, high)
    if result["pod_cidr_mask_size_v6"] is not None:
        _check_int(result["pod_cidr_mask_size_v6"], "pod_cidr_mask_size_v6", 1, 128)
    if result["operator_replicas"] is not None:
        _check_int(result["operator_replicas"], "operator_replicas", 1, 10)
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


def _clusters_by_name(plan):
    if not isinstance(plan, dict):
        _fail("plan must be a dict, got %s" % type(plan).__name__)
    clusters = plan.get("clusters")
    if not isinstance(clusters, list) or not clusters:
        _fail("plan.clusters must be a non-empty list")
    by_name = {}
    for index, cluster in enumerate(clusters):
        if not isinstance(cluster, dict) or not cluster.get("name"):
            _fail("plan.clusters[%d] has no name" % index)
        name = str(cluster["name"])
        if name in by_name:
            _fail("plan.clusters: cluster %s appears twice" % name)
        by_name[name] = cluster
    return by_name


def _require(cluster, key, kind):
    value = cluster.get(key)
    if not isinstance(value, kind) or (kind is list and not value):
        _fail(
            "cluster %s: %s is missing or not a%s %s"
            % (cluster.get("name"), key, " non-empty" if kind is list else "", kind.__name__)
        )
    return value


def _split_host_port(text, where):
    text = str(text).strip()
    m = re.match(r"^\[([^\]]+)\](?::(\d+))?$", text) or re.match(r"^([^:]+)(?::(\d+))?$", text)
    if not m:
        _fail("%s: %r is not host[:port]" % (where, text))
    port = int(m.group(2)) if m.group(2) else None
    if port is not None and not 1 <= port <= 65535:
        _fail("%s: port %d out of range" % (where, port))
    return m.group(1), port


def api_endpoint(cluster, opts):
    """(host, port) the agents use to reach the Kubernetes API without kube-proxy.

    k3s: a server's address and 6443 (an agent's local 127.0.0.1 proxy listens on 6444
    and exists only on agents, so it cannot serve servers and agents alike).
    kubeadm: the controlPlaneEndpoint (a VIP/LB for HA control planes), else the first
    server and 6443. ``api_endpoints`` in the options overrides both.
    """
    name = cluster["name"]
    servers = _require(cluster, "servers", list)
    override = opts["api_endpoints"].get(name)
    if override is None and cluster.get("distribution") == "kubeadm":
        override = cluster.get("control_plane_endpoint")
    if override is None:
        override = cluster.get("api_endpoint")
    if override:
        host, port = _split_host_port(override, "cluster %s: API endpoint" % name)
        return host, port or opts["api_port"]
    return str(servers[0]), opts["api_port"]


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
    address = opts["clustermesh_addresses"].get(peer["name"]) or peer.get("clustermesh_address")
    if address:
        _address(address, "cluster %s: clustermesh address of peer %s" % (name, peer["name"]))
        return [str(address)], opts["clustermesh_lb_port"]
    ips = [str(ip) for ip in _require(peer, "servers", list)]
    for ip in ips:
        _address(ip, "cluster %s: server address" % peer["name"])
    port = peer.get("clustermesh_nodeport")
    if isinstance(port, bool) or not isinstance(port, int) or not 30000 <= port <= 32767:
        _fail(
            "cluster %s: clustermesh_nodeport %r is not a NodePort (30000..32767)"
            % (peer["name"], port)
        )
    return ips, port


def _mesh_clusters(minor, cluster, by_name, opts):
    name = cluster["name"]
    peers = cluster.get("peers")
    if peers is None:
        peers = sorted(n for n in by_name if n != name)
    if not isinstance(peers, list):
        _fail("cluster %s: peers must be a list" % name)
    entries = []
    for peer_name in sorted(str(p) for p in peers):
        if peer_name == name:
            _fail("cluster %s: lists itself as a peer" % name)
        if peer_name not in by_name:
            _fail("cluster %s: peer %s is not in plan.clusters" % (name, peer_name))
        ips, port = _peer_entry(by_name[peer_name], opts, name)
        entries.append((peer_name, ips, port))
    if minor == "1.18":
        # 1.18 charts accept only the list form.
        return [{"name": n, "ips": ips, "port": port} for n, ips, port in entries]
    # From 1.19 the chart takes a dict keyed by cluster name (the recommended form: names
    # are unique by construction and several values files deep-merge).
    return dict((n, {"ips": ips, "port": port}) for n, ips, port in entries)


def _deep_merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def cluster_values(plan, cluster_name, options=None):
    """The complete Helm values of cluster ``cluster_name`` for the plan's Cilium version."""
    opts = normalize_options(options)
    if not isinstance(plan, dict) or not isinstance(plan.get("mesh"), dict):
        _fail("plan.mesh is missing")
    mesh = plan["mesh"]
    minor = version_minor(mesh.get("cilium_version"))
    by_name = _clusters_by_name(plan)
    if cluster_name not in by_name:
        _fail(
            "cluster %s is not in the plan (clusters: %s)"
            % (cluster_name, ", ".join(sorted(by_name)))
        )
    cluster = by_name[cluster_name]
    name = str(cluster["name"])
    if not _CLUSTER_NAME_RE.match(name):
        _fail(
            "cluster %s: name must be 1-32 lowercase letters, digits or '-', starting and "
            "ending with a letter or digit" % name
        )
    max_clusters = mesh.get("max_connected_clusters", 255)
    if max_clusters not in (255, 511):
        _fail("plan.mesh.max_connected_clusters must be 255 or 511, got %r" % (max_clusters,))
    cluster_id = cluster.get("id")
    if isinstance(cluster_id, bool) or not isinstance(cluster_id, int):
        _fail("cluster %s: id %r is not an integer" % (name, cluster_id))
    if not 1 <= cluster_id <= max_clusters:
        _fail("cluster %s: id %d is outside 1..%d" % (name, cluster_id, max_clusters))

    pod_v4, pod_v6 = _split_families(
        _require(cluster, "pod_cidrs", list), "cluster %s: pod_cidrs" % name
    )
    if not pod_v4 and not pod_v6:
        _fail("cluster %s: no pod CIDR" % name)
    servers = _require(cluster, "servers", list)
    for ip in servers:
        _address(ip, "cluster %s: server address" % name)
    nodes = cluster.get("nodes")
    node_count = (
        len(nodes)
        if isinstance(nodes, list) and nodes
        else (len(servers) + len(cluster.get("agents") or []))
    )

    values = {
        "cluster": {"name": name, "id": cluster_id},
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

    # Routing: tunnel (VXLAN/Geneve) or native with a routing CIDR covering every cluster's
    # pod CIDRs, so traffic to remote clusters' pods is not masqueraded.
    if opts["routing_mode"] == "tunnel":
        values["routingMode"] = "tunnel"
        values["tunnelProtocol"] = opts["tunnel_protocol"]
    else:
        values["routingMode"] = "native"
        values["autoDirectNodeRoutes"] = opts["auto_direct_node_routes"]
        all_v4, all_v6 = [], []
        for other in by_name.values():
            o4, o6 = _split_families(
                _require(other, "pod_cidrs", list), "cluster %s: pod_cidrs" % other["name"]
            )
            all_v4.extend(o4)
            all_v6.extend(o6)
        if pod_v4:
            cidr = opts["native_routing_cidr"] or covering_cidr(all_v4)
            net = _network(cidr, "option native_routing_cidr")
            for other in all_v4:
                if other not in net:
                    _fail("option native_routing_cidr %s does not cover pod CIDR %s" % (net, other))
            values["ipv4NativeRoutingCIDR"] = str(net)
        if pod_v6:
            cidr = opts["native_routing_cidr_v6"] or covering_cidr(all_v6)
            net = _network(cidr, "option native_routing_cidr_v6")
            for other in all_v6:
                if other not in net:
                    _fail(
                        "option native_routing_cidr_v6 %s does not cover pod CIDR %s" % (net, other)
                    )
            values["ipv6NativeRoutingCIDR"] = str(net)

    if opts["kube_proxy_replacement"]:
        host, port = api_endpoint(cluster, opts)
        values["kubeProxyReplacement"] = True
        values["k8sServiceHost"] = host
        values["k8sServicePort"] = port
        values["bpf"] = {"masquerade": True}
    else:
        values["kubeProxyReplacement"] = False

    values["encryption"] = {"enabled": opts["encryption"]}
    if opts["encryption"]:
        values["encryption"]["type"] = opts["encryption_type"]
        values["encryption"]["nodeEncryption"] = opts["node_encryption"]

    values["operator"]["replicas"] = (
        opts["operator_replicas"]
        if opts["operator_replicas"] is not None
        else (1 if node_count <= 1 else 2)
    )

    hubble = {"enabled": opts["hubble"]}
    if opts["hubble"]:
        hubble["relay"] = {"enabled": opts["hubble_relay"]}
        hubble["ui"] = {"enabled": opts["hubble_relay"] and opts["hubble_ui"]}
        hubble["tls"] = {"enabled": True, "auto": {"enabled": True, "method": opts["cert_method"]}}
    values["hubble"] = hubble

    own_address = opts["clustermesh_addresses"].get(name) or cluster.get("clustermesh_address")
    if own_address:
        _address(own_address, "cluster %s: clustermesh address" % name)
        service = {"type": "LoadBalancer", "loadBalancerIP": str(own_address)}
    else:
        nodeport = cluster.get("clustermesh_nodeport")
        if (
            isinstance(nodeport, bool)
            or not isinstance(nodeport, int)
            or not (30000 <= nodeport <= 32767)
        ):
            _fail(
                "cluster %s: clustermesh_nodeport %r is not a NodePort (30000..32767)"
                % (name, nodeport)
            )
        service = {"type": "NodePort", "nodePort": nodeport}
    pdlc = opts["policy_default_local_cluster"]
    values["clustermesh"] = {
        "useAPIServer": True,
        "maxConnectedClusters": max_clusters,
        "policyDefaultLocalCluster": POLICY_DEFAULT_LOCAL_CLUSTER[minor] if pdlc is None else pdlc,
        "apiserver": {
            "replicas": opts["clustermesh_apiserver_replicas"],
            "service": service,
            "tls": {"auto": {"enabled": True, "method": opts["cert_method"]}},
        },
        "config": {
            "enabled": True,
            "clusters": _mesh_clusters(minor, cluster, by_name, opts),
        },
    }

    # Shared trust: every cluster gets the same CA; certgen (cronJob method) issues the
    # clustermesh-apiserver and Hubble certificates from it inside the cluster and reuses
    # them, so a Helm upgrade with unchanged values renders unchanged manifests.
    if opts["ca_cert"] is not None:
        values["tls"] = {"ca": {"cert": _b64(opts["ca_cert"]), "key": _b64(opts["ca_key"])}}
        values["certgen"] = {"generateCA": False}

    if opts["extra_values"]:
        _deep_merge(values, opts["extra_values"])
    return values


def mesh_values(plan, options=None):
    """{cluster name: values} for every cluster of the plan."""
    return dict(
        (name, cluster_values(plan, name, options)) for name in sorted(_clusters_by_name(plan))
    )


def flatten(values, prefix=""):
    """Dotted keys of a values dict, stopping at lists and at mesh cluster maps.

    ``clustermesh.config.clusters`` is a free-form map (cluster names as keys) from 1.19,
    so it counts as one key, as in the chart's own defaults list.
    """
    keys = {}
    for key, value in values.items():
        dotted = "%s.%s" % (prefix, key) if prefix else str(key)
        if isinstance(value, dict) and value and dotted != "clustermesh.config.clusters":
            keys.update(flatten(value, dotted))
        else:
            keys[dotted] = value
    return keys


def redact(values):
    """A copy of the values with the CA key replaced, for display."""
    result = copy.deepcopy(values)
    ca = result.get("tls", {}).get("ca", {})
    if "key" in ca:
        ca["key"] = "<redacted>"
    return result

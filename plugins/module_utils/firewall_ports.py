# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which ports a node's host firewall must accept, and which firewall to put them in.

``node_ports(role, distribution, ...)`` is the decision: a sorted list of ``PortRule``
(first port, last port, protocol, why), from the node's role, the distribution and the
Cilium datapath options. ``options_ports`` reads those options the way the values engine
names them (``cilium_`` prefix optional). ``choose_backend`` picks firewalld, ufw or
nftables from what runs on the host. docs/node_prep.md explains each port.

Sources (read for the facts, 2026):

* Cilium "System Requirements", section *Firewall Rules*
  (https://docs.cilium.io/en/stable/operations/system_requirements/#firewall-rules):
  4240/tcp cilium-health between all nodes (ICMP echo is the optional alternative),
  8472/udp VXLAN, 6081/udp Geneve, 51871/udp WireGuard, 4244/tcp Hubble server; the
  other ports it lists listen on 127.0.0.1, serve pods (Hubble Relay 4245, mutual
  authentication 4250) or Prometheus (9962-9964), none of which this mesh opens.
* Kubernetes "Ports and Protocols"
  (https://kubernetes.io/docs/reference/networking/ports-and-protocols/): control plane
  6443/tcp, etcd 2379-2380/tcp, kubelet 10250/tcp on every node; kube-scheduler 10259 and
  kube-controller-manager 10257 are used by "Self" only (kubeadm binds them to 127.0.0.1,
  as it binds etcd's metrics listener 2381).
* K3s "Requirements", *Inbound Rules for K3s Nodes*
  (https://docs.k3s.io/installation/requirements#inbound-rules-for-k3s-nodes): 6443/tcp is
  the K3s supervisor and the Kubernetes API, 2379-2380/tcp embedded etcd between servers,
  10250/tcp kubelet; 2381 (etcd metrics), 10257 and 10259 are local ports. Flannel's
  ports are not needed: this mesh disables flannel.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    cilium_values,
    mesh_rules,
)

PROTOCOLS = ("tcp", "udp")
FIREWALLS = ("auto", "firewalld", "ufw", "nftables", "none")

KUBELET_PORT = 10250
CILIUM_HEALTH_PORT = 4240
HUBBLE_SERVER_PORT = 4244
TUNNEL_PORTS = {"vxlan": 8472, "geneve": 6081}
WIREGUARD_PORT = 51871
ETCD_PORTS = (2379, 2380)
# The API port of k3s and kubeadm servers unless their roles are told otherwise
# (k3s_api_port, kubeadm_api_port); the k3s supervisor shares it.
DEFAULT_API_PORT = 6443

# The Cilium options that change the port set, as the values engine names them.
DATAPATH_OPTIONS = ("routing_mode", "tunnel_protocol", "encryption", "encryption_type", "hubble")

_PORT_SPEC_RE = re.compile(r"^(\d+)(?:-(\d+))?/([a-z]+)$")


class FirewallPortsError(ValueError):
    """A bad input; the message names the key, the value and what is allowed."""


class PortRule(namedtuple("PortRule", "first last proto why")):
    """Accept ``proto`` destination ports ``first``..``last`` (one port when equal)."""

    @property
    def port(self):
        if self.first == self.last:
            return str(self.first)
        return "%d-%d" % (self.first, self.last)

    def as_dict(self):
        """The form tasks use: firewalld's ``port/proto`` and ufw's ``first:last``."""
        return {
            "port": self.port,
            "first": self.first,
            "last": self.last,
            "proto": self.proto,
            "why": self.why,
            "firewalld": "%s/%s" % (self.port, self.proto),
            "ufw": self.port.replace("-", ":"),
        }


def _choice(name, value, allowed):
    if value not in allowed:
        raise FirewallPortsError(
            "%s %r is not allowed; allowed: %s" % (name, value, ", ".join(allowed))
        )
    return value


def _port_number(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise FirewallPortsError("%s %r is not allowed; allowed: a port 1-65535" % (name, value))
    return value


def parse_port_spec(spec, name="extra port"):
    """'8080/tcp', '30000-32767/udp' or {port, proto, why} -> PortRule."""
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - {"port", "proto", "why"})
        if unknown or "port" not in spec or "proto" not in spec:
            raise FirewallPortsError(
                "%s %r is not allowed; allowed: 'PORT/PROTO', 'FIRST-LAST/PROTO' or a mapping "
                "with port, proto and an optional why" % (name, spec)
            )
        text = "%s/%s" % (spec["port"], spec["proto"])
        why = str(spec.get("why") or "%s %s" % (name, text))
    else:
        text = str(spec) if isinstance(spec, (str, int)) else repr(spec)
        why = "%s %s" % (name, text)
    match = _PORT_SPEC_RE.match(text.strip())
    if not match:
        raise FirewallPortsError(
            "%s %r is not allowed; allowed: 'PORT/PROTO' or 'FIRST-LAST/PROTO' with PROTO "
            "tcp or udp, e.g. '30000-32767/tcp'" % (name, spec)
        )
    first = _port_number(name, int(match.group(1)))
    last = _port_number(name, int(match.group(2) or match.group(1)))
    if last < first:
        raise FirewallPortsError("%s %r is not allowed; allowed: FIRST <= LAST" % (name, spec))
    proto = _choice("%s %r: protocol" % (name, spec), match.group(3), PROTOCOLS)
    if '"' in why or "\n" in why:
        raise FirewallPortsError("%s %r: why must not hold quotes or newlines" % (name, spec))
    return PortRule(first, last, proto, why)


def _server_ports(distribution, api_port):
    if distribution == "k3s":
        return [
            PortRule(api_port, api_port, "tcp", "K3s supervisor and Kubernetes API"),
            PortRule(ETCD_PORTS[0], ETCD_PORTS[1], "tcp", "etcd client and peer (k3s embedded)"),
        ]
    return [
        PortRule(api_port, api_port, "tcp", "Kubernetes API (kube-apiserver)"),
        PortRule(ETCD_PORTS[0], ETCD_PORTS[1], "tcp", "etcd client and peer (kubeadm stacked)"),
    ]


def _cilium_ports(routing_mode, tunnel_protocol, encryption, encryption_type, hubble):
    rules = [PortRule(CILIUM_HEALTH_PORT, CILIUM_HEALTH_PORT, "tcp", "cilium-health")]
    if hubble:
        rules.append(PortRule(HUBBLE_SERVER_PORT, HUBBLE_SERVER_PORT, "tcp", "Hubble server"))
    if routing_mode == "tunnel":
        port = TUNNEL_PORTS[tunnel_protocol]
        why = "Cilium %s tunnel" % ("VXLAN" if tunnel_protocol == "vxlan" else "Geneve")
        rules.append(PortRule(port, port, "udp", why))
    if encryption and encryption_type == "wireguard":
        rules.append(PortRule(WIREGUARD_PORT, WIREGUARD_PORT, "udp", "Cilium WireGuard"))
    return rules


def node_ports(
    role,
    distribution,
    routing_mode="tunnel",
    tunnel_protocol="vxlan",
    encryption=True,
    encryption_type="wireguard",
    hubble=True,
    clustermesh_nodeport=None,
    nodeports=False,
    api_port=DEFAULT_API_PORT,
    extra_ports=(),
):
    """The sorted PortRules a node of this role needs open (see the module docstring)."""
    _choice("node role", role, mesh_rules.NODE_ROLES)
    _choice("distribution", distribution, mesh_rules.DISTRIBUTIONS)
    _choice("routing_mode", routing_mode, ("tunnel", "native"))
    _choice("tunnel_protocol", tunnel_protocol, tuple(sorted(TUNNEL_PORTS)))
    _choice("encryption_type", encryption_type, ("wireguard",))
    _port_number("api_port", api_port)
    rules = [PortRule(KUBELET_PORT, KUBELET_PORT, "tcp", "kubelet API")]
    rules += _cilium_ports(routing_mode, tunnel_protocol, encryption, encryption_type, hubble)
    if role == "server":
        rules += _server_ports(distribution, api_port)
    if clustermesh_nodeport not in (None, 0):
        if not mesh_rules.is_nodeport(clustermesh_nodeport):
            low, high = mesh_rules.NODEPORT_RANGE
            raise FirewallPortsError(
                "clustermesh_nodeport %r is not allowed; allowed: 0 (none) or a NodePort "
                "%d-%d" % (clustermesh_nodeport, low, high)
            )
        port = clustermesh_nodeport
        rules.append(PortRule(port, port, "tcp", "clustermesh-apiserver NodePort"))
    if nodeports:
        low, high = mesh_rules.NODEPORT_RANGE
        rules += [PortRule(low, high, p, "NodePort Services (%s)" % p) for p in PROTOCOLS]
    for index, spec in enumerate(extra_ports or ()):
        rules.append(parse_port_spec(spec, "extra port %d" % (index + 1)))
    unique = {}
    for rule in rules:
        unique.setdefault((rule.first, rule.last, rule.proto), rule)
    return [unique[key] for key in sorted(unique)]


def datapath_options(cilium_options):
    """The DATAPATH_OPTIONS of a dict of Cilium options, checked, with the engine's defaults.

    Keys may carry the ``cilium_`` prefix. Other options of the values engine, and other
    ``cilium_*`` variables (the cilium role's own knobs), do not change the ports and are
    ignored; an unprefixed key the engine does not know is refused (a typo).
    """
    if cilium_options is None:
        cilium_options = {}
    if not isinstance(cilium_options, dict):
        raise FirewallPortsError(
            "cilium_options %r is not allowed; allowed: a mapping of Cilium options"
            % (cilium_options,)
        )
    picked = {}
    for key in sorted(cilium_options, key=str):
        text = str(key)
        name = text[len("cilium_") :] if text.startswith("cilium_") else text
        if name in DATAPATH_OPTIONS:
            picked[name] = cilium_options[key]
        elif name == text and name not in cilium_values.DEFAULT_OPTIONS:
            raise FirewallPortsError(
                "cilium_options: unknown option %r; allowed: the Cilium values options (%s)"
                % (key, ", ".join(sorted(cilium_values.DEFAULT_OPTIONS)))
            )
    try:
        normalized = cilium_values.normalize_options(picked)
    except cilium_values.CiliumValuesError as exc:
        raise FirewallPortsError("cilium_options: %s" % exc)
    return dict((name, normalized[name]) for name in DATAPATH_OPTIONS)


def options_ports(role, distribution, cilium_options=None, **kwargs):
    """node_ports with the datapath read from a dict of Cilium options."""
    return node_ports(role, distribution, **dict(datapath_options(cilium_options), **kwargs))


def ufw_is_active(status_text):
    """Whether `ufw status` output says the firewall is active."""
    return any(line.strip() == "Status: active" for line in str(status_text or "").splitlines())


def choose_backend(requested, firewalld_state="", ufw_status=""):
    """The firewall to configure: the requested one, or for 'auto' firewalld when its
    service runs, else ufw when `ufw status` says active, else nftables (the nft_input
    module then changes nothing unless an input chain drops by default)."""
    _choice("firewall", requested, FIREWALLS)
    if requested != "auto":
        return requested
    if firewalld_state == "running":
        return "firewalld"
    if ufw_is_active(ufw_status):
        return "ufw"
    return "nftables"

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel requirements of Cilium features, per Cilium minor version.

The facts come from Cilium's published "System Requirements" page
(https://docs.cilium.io/en/v<minor>/operations/system_requirements/) for 1.18, 1.19
and 1.20: the minimum kernel, the base kernel configuration options, the options per
feature (tunnels, IPsec, bandwidth manager, L7 proxy, netkit, iptables masquerading) and
the minimum kernel of advanced features (WireGuard, BPF host routing, socket LB, BIG TCP).

Since Cilium 1.18 the minimum kernel is 5.10 (or the RHEL 8.10 kernel 4.18, which Cilium
treats as equivalent), so the three minors share one table; a later minor that changes a
requirement gets its own entry through ``_overrides``.

Stdlib only: imported by the kernel_readiness module on the target.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules

DOCS_URL = "https://docs.cilium.io/en/v{minor}/operations/system_requirements/"

# Kernel releases of RHEL-family distributions carry ``.el<major>`` (4.18.0-553.el8_10).
# Cilium's published equivalence: RHEL 8.10's 4.18 counts as the 5.10 minimum.
RHEL_RELEASE_RE = re.compile(r"\.el(\d+)")

# Kernel configuration options whose loadable module has a stable name; used to load and
# persist modules where the option is ``m``. Options not listed here (crypto algorithms,
# for instance) are loaded on demand by the kernel itself.
OPTION_MODULES = {
    "CONFIG_NET_CLS_BPF": "cls_bpf",
    "CONFIG_NET_SCH_INGRESS": "sch_ingress",
    "CONFIG_CRYPTO_USER_API_HASH": "algif_hash",
    "CONFIG_VXLAN": "vxlan",
    "CONFIG_GENEVE": "geneve",
    "CONFIG_WIREGUARD": "wireguard",
    "CONFIG_XFRM_USER": "xfrm_user",
    "CONFIG_XFRM_ALGO": "xfrm_algo",
    "CONFIG_INET_ESP": "esp4",
    "CONFIG_INET6_ESP": "esp6",
    "CONFIG_INET_IPCOMP": "ipcomp",
    "CONFIG_INET6_IPCOMP": "ipcomp6",
    "CONFIG_INET_XFRM_TUNNEL": "xfrm4_tunnel",
    "CONFIG_INET6_XFRM_TUNNEL": "xfrm6_tunnel",
    "CONFIG_INET_TUNNEL": "tunnel4",
    "CONFIG_INET6_TUNNEL": "tunnel6",
    "CONFIG_NET_SCH_FQ": "sch_fq",
    "CONFIG_NETFILTER_XT_TARGET_TPROXY": "xt_TPROXY",
    "CONFIG_NETFILTER_XT_TARGET_MARK": "xt_mark",
    "CONFIG_NETFILTER_XT_TARGET_CT": "xt_CT",
    "CONFIG_NETFILTER_XT_MATCH_MARK": "xt_mark",
    "CONFIG_NETFILTER_XT_MATCH_SOCKET": "xt_socket",
    "CONFIG_NETFILTER_XT_SET": "xt_set",
    "CONFIG_IP_SET": "ip_set",
    "CONFIG_IP_SET_HASH_IP": "ip_set_hash_ip",
    "CONFIG_NETFILTER_XT_MATCH_COMMENT": "xt_comment",
    "CONFIG_IPV6": "ipv6",
}


def _opt(name, max_kernel=None):
    """One required option; ``max_kernel`` = the release that removed the symbol."""
    return {"option": name, "max_kernel": max_kernel}


_SHARED = {
    "min_kernel": "5.10",
    "min_kernel_rhel": "4.18",
    "features": {
        "base": {
            "description": "base eBPF datapath",
            "section": "Base Requirements",
            "min_kernel": None,
            "options": [
                _opt("CONFIG_BPF"),
                _opt("CONFIG_BPF_SYSCALL"),
                _opt("CONFIG_NET_CLS_BPF"),
                _opt("CONFIG_BPF_JIT"),
                _opt("CONFIG_NET_CLS_ACT"),
                _opt("CONFIG_NET_SCH_INGRESS"),
                _opt("CONFIG_CRYPTO_SHA1"),
                _opt("CONFIG_CRYPTO_USER_API_HASH"),
                _opt("CONFIG_CGROUPS"),
                _opt("CONFIG_CGROUP_BPF"),
                _opt("CONFIG_PERF_EVENTS"),
                _opt("CONFIG_SCHEDSTATS"),
            ],
        },
        "vxlan": {
            "description": "VXLAN tunnel (routing-mode tunnel)",
            "section": "Requirements for Tunneling and Routing",
            "min_kernel": None,
            "options": [_opt("CONFIG_VXLAN"), _opt("CONFIG_FIB_RULES")],
        },
        "geneve": {
            "description": "GENEVE tunnel",
            "section": "Requirements for Tunneling and Routing",
            "min_kernel": None,
            "options": [_opt("CONFIG_GENEVE"), _opt("CONFIG_FIB_RULES")],
        },
        "wireguard": {
            "description": "transparent encryption with WireGuard",
            "section": "Required Kernel Versions for Advanced Features",
            "min_kernel": "5.6",
            "options": [_opt("CONFIG_WIREGUARD")],
        },
        "ipsec": {
            "description": "transparent encryption with IPsec (GCM-128-AES)",
            "section": "Requirements for IPsec",
            "min_kernel": None,
            "options": [
                _opt("CONFIG_XFRM"),
                _opt("CONFIG_XFRM_OFFLOAD"),
                _opt("CONFIG_XFRM_STATISTICS"),
                _opt("CONFIG_XFRM_ALGO"),
                _opt("CONFIG_XFRM_USER"),
                _opt("CONFIG_INET_ESP"),
                _opt("CONFIG_INET6_ESP"),
                _opt("CONFIG_INET_IPCOMP"),
                _opt("CONFIG_INET6_IPCOMP"),
                _opt("CONFIG_INET_XFRM_TUNNEL"),
                _opt("CONFIG_INET6_XFRM_TUNNEL"),
                _opt("CONFIG_INET_TUNNEL"),
                _opt("CONFIG_INET6_TUNNEL"),
                # Folded into CONFIG_XFRM by Linux 5.2; only older kernels have it.
                _opt("CONFIG_INET_XFRM_MODE_TUNNEL", max_kernel="5.2"),
                _opt("CONFIG_CRYPTO_AEAD"),
                _opt("CONFIG_CRYPTO_AEAD2"),
                _opt("CONFIG_CRYPTO_GCM"),
                _opt("CONFIG_CRYPTO_SEQIV"),
                _opt("CONFIG_CRYPTO_CBC"),
                _opt("CONFIG_CRYPTO_HMAC"),
                _opt("CONFIG_CRYPTO_SHA256"),
                _opt("CONFIG_CRYPTO_AES"),
            ],
        },
        "kube_proxy_replacement": {
            "description": "kube-proxy replacement with socket-level load balancing",
            "section": "Required Kernel Versions for Advanced Features",
            # Full session affinity and socket-LB bypass in the pod netns need 5.7.
            "min_kernel": "5.7",
            "options": [_opt("CONFIG_CGROUP_BPF"), _opt("CONFIG_BPF_SYSCALL")],
        },
        "bpf_host_routing": {
            "description": "BPF-based host routing",
            "section": "Required Kernel Versions for Advanced Features",
            "min_kernel": "5.10",
            "options": [],
        },
        "bandwidth_manager": {
            "description": "bandwidth manager (EDT with fq qdisc)",
            "section": "Requirements for the Bandwidth Manager",
            "min_kernel": None,
            "options": [_opt("CONFIG_NET_SCH_FQ")],
        },
        "l7_proxy": {
            "description": "L7 and FQDN policies (TPROXY redirection to the proxy)",
            "section": "Requirements for L7 and FQDN Policies",
            "min_kernel": None,
            "options": [
                _opt("CONFIG_NETFILTER_XT_TARGET_TPROXY"),
                _opt("CONFIG_NETFILTER_XT_TARGET_MARK"),
                _opt("CONFIG_NETFILTER_XT_TARGET_CT"),
                _opt("CONFIG_NETFILTER_XT_MATCH_MARK"),
                _opt("CONFIG_NETFILTER_XT_MATCH_SOCKET"),
            ],
        },
        "iptables_masquerade": {
            "description": "iptables-based masquerading (enable-bpf-masquerade=false)",
            "section": "Requirements for Iptables-based Masquerading",
            "min_kernel": None,
            "options": [
                _opt("CONFIG_NETFILTER_XT_SET"),
                _opt("CONFIG_IP_SET"),
                _opt("CONFIG_IP_SET_HASH_IP"),
                _opt("CONFIG_NETFILTER_XT_MATCH_COMMENT"),
            ],
        },
        "netkit": {
            "description": "netkit device mode",
            "section": "Requirements for Netkit Device Mode",
            "min_kernel": "6.8",
            "options": [_opt("CONFIG_NETKIT")],
        },
        "ipv6": {
            "description": "IPv6 / dual-stack pod networking",
            "section": "Base Requirements",
            "min_kernel": None,
            "options": [_opt("CONFIG_IPV6")],
        },
        "big_tcp": {
            "description": "BIG TCP (IPv6 >= 5.19, IPv4 >= 6.3)",
            "section": "Required Kernel Versions for Advanced Features",
            "min_kernel": "6.3",
            "options": [],
        },
    },
}

# Per-minor differences from the shared table, as {minor: {feature: {key: value}}}; a
# supported minor (mesh_rules.CILIUM_MINORS) without an entry uses the shared table.
_overrides = {}

SUPPORTED_MINORS = mesh_rules.SUPPORTED_CILIUM_MINORS
FEATURES = tuple(sorted(_SHARED["features"]))
# The features in table order (base first): the order of features_for_values' results.
FEATURE_ORDER = tuple(_SHARED["features"])


class RequirementError(ValueError):
    """A Cilium version or feature name the table does not know."""


def cilium_minor(version):
    """'1.19.6', 'v1.19' or '1.19.0-rc.1' -> '1.19'; raise RequirementError otherwise."""
    try:
        return mesh_rules.cilium_minor(version, require_patch=False)
    except mesh_rules.RuleError as exc:
        raise RequirementError("cilium_version: %s" % exc)


def requirements_for(version):
    """The full requirement table for one Cilium version (a fresh copy)."""
    minor = cilium_minor(version)
    table = copy.deepcopy(_SHARED)
    for feature, changes in _overrides.get(minor, {}).items():
        table["features"][feature].update(copy.deepcopy(changes))
    table["minor"] = minor
    table["docs_url"] = DOCS_URL.format(minor=minor)
    return table


def check_features(features):
    """Validate and de-duplicate requested features; 'base' always comes first."""
    if not isinstance(features, (list, tuple)):
        raise RequirementError("features must be a list, got %r" % (features,))
    unknown = sorted(set(str(f) for f in features) - set(FEATURES))
    if unknown:
        raise RequirementError(
            "unknown feature(s): %s (known: %s)" % (", ".join(unknown), ", ".join(FEATURES))
        )
    ordered = ["base"]
    for feature in features:
        if feature not in ordered:
            ordered.append(feature)
    return ordered


# What the Cilium chart (and, where the chart leaves a key null, the agent) does when a
# values key is absent, for the keys features_for_values reads. The same in the 1.18, 1.19
# and 1.20 charts; tests/unit/plugins/module_utils/test_cilium_requirements.py checks each
# against the chart defaults in tests/fixtures/cilium-chart/ (null there = agent default).
VALUE_DEFAULTS = {
    "routingMode": "",  # "" = tunnel
    "tunnelProtocol": "",  # "" = vxlan
    "encryption.enabled": False,
    "encryption.type": "ipsec",
    "kubeProxyReplacement": "false",
    "l7Proxy": True,
    "bandwidthManager.enabled": False,
    "bpf.datapathMode": "veth",
    "bpf.masquerade": False,  # chart null: the agent masquerades with iptables
    "bpf.hostLegacyRouting": None,  # chart null: BPF host routing where the kernel allows
    "ipv4.enabled": True,
    "ipv6.enabled": False,
    "enableIPv4Masquerade": True,  # chart null: the agent masquerades IPv4
    "enableIPv6Masquerade": True,
    "enableIPv4BIGTCP": False,
    "enableIPv6BIGTCP": False,
}


def _value(values, dotted):
    """A key of nested Helm values by its dotted name, else its VALUE_DEFAULTS entry."""
    node = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or node.get(part) is None:
            return VALUE_DEFAULTS[dotted]
        node = node[part]
    return node


def _on(value):
    """Helm booleans may arrive as strings ("true", "false") from -e or the chart."""
    return value is True or str(value).strip().lower() == "true"


def features_for_values(values):
    """The kernel features (FEATURES, in table order) that a cluster's Cilium Helm values
    need: a tunnel protocol, the encryption type, kube-proxy replacement, the L7 proxy,
    iptables masquerading where BPF masquerading is off, and so on."""
    if not isinstance(values, dict):
        raise RequirementError("Cilium values must be a mapping, got %r" % (values,))
    wanted = {"base"}
    if _value(values, "routingMode") in ("", "tunnel"):
        wanted.add("geneve" if _value(values, "tunnelProtocol") == "geneve" else "vxlan")
    if _on(_value(values, "encryption.enabled")):
        wanted.add("wireguard" if _value(values, "encryption.type") == "wireguard" else "ipsec")
    v4, v6 = _on(_value(values, "ipv4.enabled")), _on(_value(values, "ipv6.enabled"))
    masquerade = (v4 and _on(_value(values, "enableIPv4Masquerade"))) or (
        v6 and _on(_value(values, "enableIPv6Masquerade"))
    )
    checks = (
        ("kube_proxy_replacement", _on(_value(values, "kubeProxyReplacement"))),
        ("bpf_host_routing", _value(values, "bpf.hostLegacyRouting") is False),
        ("bandwidth_manager", _on(_value(values, "bandwidthManager.enabled"))),
        ("l7_proxy", _on(_value(values, "l7Proxy"))),
        ("iptables_masquerade", masquerade and not _on(_value(values, "bpf.masquerade"))),
        ("netkit", str(_value(values, "bpf.datapathMode")).startswith("netkit")),
        ("ipv6", v6),
        (
            "big_tcp",
            _on(_value(values, "enableIPv4BIGTCP")) or _on(_value(values, "enableIPv6BIGTCP")),
        ),
    )
    wanted.update(name for name, needed in checks if needed)
    return [name for name in FEATURE_ORDER if name in wanted]

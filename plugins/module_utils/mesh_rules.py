# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every rule of the mesh domain, stated once.

The planner, the values engine, the state schema, the kernel requirements, the filters,
the test plugins that role preflights call, and the generated docs tables all read these
names; nothing restates them. Pure Python, importable on the control node and on nodes
(``module_utils`` rather than ``plugin_utils`` because the ``kernel_readiness`` and
``mesh_state`` modules need the Cilium versions and the state schema too).

Changing a rule is one edit here plus its test:

* the cluster-name rule: ``CLUSTER_NAME_RE`` / ``CLUSTER_NAME_MAX`` / ``RESERVED_CLUSTER_NAMES``;
* a Cilium minor: one ``CiliumMinor`` entry in ``CILIUM_MINORS``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

# The inventory group whose child groups are the clusters.
CLUSTER_GROUP = "edgemesh_clusters"

DISTRIBUTIONS = ("k3s", "kubeadm")
NODE_ROLES = ("server", "agent")

# Cluster names: Cilium's cluster.name rule (a DNS label of at most 32 characters,
# lowercase alphanumerics and '-', starting and ending alphanumeric); 'default' is the name
# Cilium gives an unnamed cluster, so it cannot identify a mesh member.
CLUSTER_NAME_MAX = 32
CLUSTER_NAME_PATTERN = r"^([a-z0-9][-a-z0-9]*)?[a-z0-9]$"
CLUSTER_NAME_RE = re.compile(CLUSTER_NAME_PATTERN)
RESERVED_CLUSTER_NAMES = ("default",)
CLUSTER_NAME_ALLOWED = (
    "at most %d characters of a-z, 0-9 and '-', starting and ending with a letter or digit, "
    "not %s" % (CLUSTER_NAME_MAX, ", ".join(repr(n) for n in RESERVED_CLUSTER_NAMES))
)

# Kubernetes object names used by the collection (namespaces, Services): RFC 1123 labels.
DNS_LABEL_MAX = 63
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

REGION_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")

# Cilium's maxConnectedClusters: the cluster ID range is 1..value.
MAX_CONNECTED_CLUSTERS = (255, 511)
DEFAULT_MAX_CONNECTED_CLUSTERS = 255

# Kubernetes' NodePort range (kube-apiserver --service-node-port-range default).
NODEPORT_RANGE = (30000, 32767)

# Cilium network policies, as the CRDs of every supported minor accept them (source: the
# kubebuilder markers of pkg/policy/api/l4.go and entity.go in 1.18 to 1.20; 1.20 adds the
# protocols GRE, IPIP, IPV6, ESP and AH and the entity cluster-mesh). Port 0 would mean
# every port, so a policy port is 1..65535.
POLICY_PORT_RANGE = (1, 65535)
POLICY_PORT_PROTOCOLS = ("TCP", "UDP", "SCTP", "VRRP", "IGMP", "ANY")
POLICY_ENTITIES = (
    "all",
    "world",
    "cluster",
    "host",
    "init",
    "ingress",
    "unmanaged",
    "remote-node",
    "health",
    "none",
    "kube-apiserver",
)
# Cluster Mesh namespace export (Cilium CFP-39876; the 1.20.0 chart's values.yaml documents
# clustermesh.defaultGlobalNamespace and this namespace annotation): the minors that have it.
GLOBAL_NAMESPACE_ANNOTATION = "clustermesh.cilium.io/global"
GLOBAL_NAMESPACE_MINORS = ("1.20",)
# Cluster Mesh global services: the values of the annotation service.cilium.io/affinity
# (the Cilium documentation of Cluster Mesh global services: local, remote or none).
GLOBAL_SERVICE_AFFINITIES = ("local", "remote", "none")

# Cilium versions: one form everywhere, X.Y.Z with an optional leading 'v' and an optional
# pre-release/build suffix; where a minor alone is enough (kernel requirements) X.Y too.
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+]([0-9A-Za-z.-]+))?$")

Version = namedtuple("Version", "major minor patch suffix")


class CiliumMinor(
    namedtuple(
        "CiliumMinor",
        "minor chart_tested clusters_as_map policy_default_local_cluster known_patches",
    )
):
    """What the collection knows about one supported Cilium minor.

    ``chart_tested``: the chart the tests render; ``clusters_as_map``: the chart takes
    ``clustermesh.config.clusters`` as a map keyed by name (1.19+) instead of a list;
    ``policy_default_local_cluster``: the chart default of
    ``clustermesh.policyDefaultLocalCluster``; ``known_patches``: the released patches.
    """


# Source: the Cilium charts (helm.cilium.io) and the Cilium release notes; 1.19 made a
# policy selector without a cluster label match only the local cluster.
CILIUM_MINORS = (
    CiliumMinor("1.18", "1.18.12", False, False, tuple(range(0, 13))),
    CiliumMinor("1.19", "1.19.6", True, True, tuple(range(0, 7))),
    CiliumMinor("1.20", "1.20.0", True, True, (0,)),
)
SUPPORTED_CILIUM_MINORS = tuple(m.minor for m in CILIUM_MINORS)
DEFAULT_CILIUM_VERSION = "1.19.6"
_MINORS = dict((m.minor, m) for m in CILIUM_MINORS)


# clustermesh.apiserver.tls.authMode, the chart default per minor (the charts' values.yaml;
# the Cilium 1.19 upgrade notes: "migration" needs the clustermesh-remote-users ConfigMap,
# which the chart renders when clustermesh.config.enabled is true).
CLUSTERMESH_AUTH_MODE_DEFAULTS = {"1.18": "legacy", "1.19": "migration", "1.20": "migration"}


def clustermesh_auth_mode_default(version):
    """The chart default of clustermesh.apiserver.tls.authMode for a version (or minor)."""
    return CLUSTERMESH_AUTH_MODE_DEFAULTS[cilium_minor(version, require_patch=False)]


class RuleError(ValueError):
    """A value breaks one of the rules above; the message says what is allowed."""


def cluster_name_problem(name):
    """None when ``name`` is a valid cluster name, else why not (with what is allowed)."""
    if not isinstance(name, str) or not name:
        return "%r is not allowed; allowed: %s" % (name, CLUSTER_NAME_ALLOWED)
    if len(name) > CLUSTER_NAME_MAX:
        return "%r has %d characters; allowed: %s" % (name, len(name), CLUSTER_NAME_ALLOWED)
    if not CLUSTER_NAME_RE.match(name) or name in RESERVED_CLUSTER_NAMES:
        return "%r is not allowed; allowed: %s" % (name, CLUSTER_NAME_ALLOWED)
    return None


def is_cluster_name(name):
    return cluster_name_problem(name) is None


def is_dns_label(name):
    return isinstance(name, str) and len(name) <= DNS_LABEL_MAX and bool(DNS_LABEL_RE.match(name))


def cluster_id_range(max_connected_clusters):
    """(first, last) cluster ID for a maxConnectedClusters value."""
    if max_connected_clusters not in MAX_CONNECTED_CLUSTERS:
        raise RuleError(
            "max_connected_clusters %r is not allowed; allowed: %s"
            % (max_connected_clusters, " or ".join(str(v) for v in MAX_CONNECTED_CLUSTERS))
        )
    return (1, max_connected_clusters)


def is_nodeport(port):
    return (
        isinstance(port, int)
        and not isinstance(port, bool)
        and NODEPORT_RANGE[0] <= port <= NODEPORT_RANGE[1]
    )


def is_policy_port(port):
    return (
        isinstance(port, int)
        and not isinstance(port, bool)
        and POLICY_PORT_RANGE[0] <= port <= POLICY_PORT_RANGE[1]
    )


def parse_version(text, require_patch=True):
    """'1.19.6', 'v1.19.6', '1.19.0-rc.1' (and '1.19' when not require_patch) -> Version."""
    match = _VERSION_RE.match(str(text).strip()) if text is not None else None
    if not match or (require_patch and match.group(3) is None):
        raise RuleError(
            "%r is not a version; allowed: X.Y.Z%s (a leading 'v' is dropped)"
            % (text, "" if require_patch else " or X.Y")
        )
    patch = match.group(3)
    return Version(
        int(match.group(1)),
        int(match.group(2)),
        None if patch is None else int(patch),
        match.group(4),
    )


def supported_versions_text():
    return ", ".join(m + ".x" for m in SUPPORTED_CILIUM_MINORS)


def cilium_minor(version, require_patch=True):
    """The supported minor ('1.19') of a Cilium version, or RuleError naming what is allowed."""
    try:
        parsed = parse_version(version, require_patch)
    except RuleError:
        raise RuleError(
            "Cilium version %r is not supported; allowed: %s" % (version, supported_versions_text())
        )
    minor = "%d.%d" % (parsed.major, parsed.minor)
    if minor not in _MINORS:
        raise RuleError(
            "Cilium version %r is not supported; allowed: %s" % (version, supported_versions_text())
        )
    return minor


def normalize_cilium_version(version):
    """'v1.19.6' -> '1.19.6' for a supported minor (the form plans and charts use)."""
    minor = cilium_minor(version)
    parsed = parse_version(version)
    text = "%s.%d" % (minor, parsed.patch)
    return text + ("-" + parsed.suffix if parsed.suffix else "")


def minor_rules(version):
    """The CiliumMinor entry of a version (or a minor)."""
    return _MINORS[cilium_minor(version, require_patch=False)]


# Kubernetes releases as k3s and kubeadm name them: vX.Y.Z (kubeadm also X.Y.Z), k3s builds
# vX.Y.Z+k3sN. Kubernetes upgrades one minor version at a time and never downgrades.
_KUBERNETES_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:\+k3s(\d+))?$")
KUBERNETES_VERSION_ALLOWED = "vX.Y.Z or vX.Y.Z+k3sN (a leading 'v' is optional)"


def parse_kubernetes_version(text):
    """'v1.33.5+k3s1' -> (1, 33, 5, 1); 'v1.33.5' and '1.33.5' -> (1, 33, 5, 0)."""
    match = _KUBERNETES_VERSION_RE.match(str(text).strip()) if text is not None else None
    if not match:
        raise RuleError(
            "%r is not a Kubernetes release; allowed: %s" % (text, KUBERNETES_VERSION_ALLOWED)
        )
    return tuple(int(part or 0) for part in match.groups())


def known_cilium_patch_problem(version):
    """None when ``version`` is a released patch of a supported minor, else why not.

    The released patches are ``CiliumMinor.known_patches``; a pre-release/build suffix is
    judged by its X.Y.Z alone.
    """
    minor = cilium_minor(version)
    patch = parse_version(version).patch
    known = _MINORS[minor].known_patches
    if patch in known:
        return None
    return "%r is not a released %s patch; allowed: %s" % (
        version,
        minor,
        ", ".join("%s.%d" % (minor, p) for p in known),
    )


def cilium_upgrade_problem(recorded, wanted):
    """None when a cluster running ``recorded`` may move to ``wanted``, else why not.

    Cilium supports upgrades to the next minor only and no minor downgrades; patch moves
    inside one minor are allowed.
    """
    old = parse_version(recorded)
    new = parse_version(wanted)
    if (new.major, new.minor) == (old.major, old.minor):
        return None
    following = "%d.%d" % (old.major, old.minor + 1)
    allowed = "%d.%d.x" % (old.major, old.minor)
    if following in _MINORS:
        allowed += " or %s.x" % following
    if (new.major, new.minor) < (old.major, old.minor):
        return "%s would downgrade %d.%d to %d.%d; allowed: %s" % (
            wanted,
            old.major,
            old.minor,
            new.major,
            new.minor,
            allowed,
        )
    if "%d.%d" % (new.major, new.minor) != following:
        return "%s skips a minor after %s (one minor at a time); allowed: %s" % (
            wanted,
            recorded,
            allowed,
        )
    return None


# Kubernetes minors inside the upstream support window on 2026-12-01: patches for the three
# newest minors, about 14 months each (kubernetes.io/releases/patch-releases; 1.35 came out
# 2025-12, 1.36 2026-04-22, 1.37 2026-08). 1.35 removed the kubelet's cgroup v1 support by
# default (failCgroupV1) and is the last minor that supports containerd 1.x (Kubernetes 1.35
# release notes; the containerd 1.7 end-of-life note in containerd's RELEASES.md).
SUPPORTED_KUBERNETES_MINORS = ("1.35", "1.36", "1.37")
CONTAINERD_1_LAST_KUBERNETES_MINOR = (1, 35)


def kubernetes_version_problem(version, containerd_major=None):
    """None when ``version`` is a supported Kubernetes release (for containerd of major
    ``containerd_major``, when given), else why not, naming what is allowed."""
    try:
        parsed = parse_kubernetes_version(version)
    except RuleError as exc:
        return str(exc)
    if "%d.%d" % parsed[:2] not in SUPPORTED_KUBERNETES_MINORS:
        return "Kubernetes %r is not supported; allowed: %s" % (
            version,
            ", ".join(m + ".x" for m in SUPPORTED_KUBERNETES_MINORS),
        )
    if containerd_major == 1 and parsed[:2] > CONTAINERD_1_LAST_KUBERNETES_MINOR:
        return "Kubernetes %r needs containerd 2.x; containerd 1.x is allowed up to %d.%d.x" % (
            (version,) + CONTAINERD_1_LAST_KUBERNETES_MINOR
        )
    return None


# Node labels and taints (Kubernetes' qualified names: an optional DNS-subdomain prefix of at
# most 253 characters and '/', a name of at most 63; a label value of at most 63, may be
# empty). The kubelet sets only these labels of the kubernetes.io / k8s.io namespaces on
# itself (k8s.io/kubelet pkg/apis/well_known_labels.go: KubeletLabels, KubeletLabelNamespaces);
# node-role.kubernetes.io/* is not among them.
LABEL_NAME_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
LABEL_PREFIX_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
KUBELET_LABELS = (
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/instance-type",
    "beta.kubernetes.io/os",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "kubernetes.io/arch",
    "kubernetes.io/hostname",
    "kubernetes.io/os",
    "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
)
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# The taint kubeadm puts on control-plane nodes when nodeRegistration.taints is unset.
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}

# API versions of the LoadBalancer objects the cilium role applies, served by every supported
# minor (CRDs in cilium pkg/k8s/apis/cilium.io/client/crds/: ciliumloadbalancerippools is
# v2 with v2alpha1 deprecated, ciliuml2announcementpolicies only v2alpha1).
LB_IP_POOL_API_VERSION = "cilium.io/v2"
L2_ANNOUNCEMENT_API_VERSION = "cilium.io/v2alpha1"


def _label_key_problem(key):
    prefix, _slash, name = key.rpartition("/") if "/" in key else ("", "", key)
    if not (len(name) <= 63 and LABEL_NAME_RE.match(name)):
        return "%r is not a label key; allowed: [prefix/]name, name 1-63 of A-Z a-z 0-9 - _ ." % key
    if "/" in key and not (len(prefix) <= 253 and LABEL_PREFIX_RE.match(prefix)):
        return "%r has a prefix that is not a DNS subdomain" % key
    return None


def node_label_problem(key, value):
    """None when the kubelet may set the label ``key=value`` on its node, else why not."""
    if not isinstance(key, str) or not isinstance(value, str):
        return "%r=%r: a label key and value are strings" % (key, value)
    problem = _label_key_problem(key)
    if problem:
        return problem
    if value and not (len(value) <= 63 and LABEL_NAME_RE.match(value)):
        return "%r=%r: a label value is empty or 1-63 of A-Z a-z 0-9 - _ ." % (key, value)
    prefix = key.rpartition("/")[0]
    restricted = prefix.endswith(("kubernetes.io", "k8s.io"))
    own = prefix in KUBELET_LABEL_NAMESPACES or prefix.endswith(
        tuple("." + n for n in KUBELET_LABEL_NAMESPACES)
    )
    if restricted and not own and key not in KUBELET_LABELS:
        return "%r is in a namespace the kubelet may not label; allowed there: %s, %s" % (
            key,
            ", ".join(n + "/*" for n in KUBELET_LABEL_NAMESPACES),
            ", ".join(KUBELET_LABELS),
        )
    return None


def parse_taint(text):
    """'key[=value]:Effect' -> {key, [value,] effect}, or RuleError naming what is allowed."""
    body, _colon, effect = str(text).rpartition(":")
    key, _eq, value = body.partition("=")
    problem = None if effect in TAINT_EFFECTS else "the effect is not %s" % "/".join(TAINT_EFFECTS)
    problem = problem or _label_key_problem(key)
    if not problem and value and not (len(value) <= 63 and LABEL_NAME_RE.match(value)):
        problem = "the value is not 1-63 of A-Z a-z 0-9 - _ ."
    if problem:
        raise RuleError(
            "taint %r: %s; allowed: key[=value]:%s" % (text, problem, "|".join(TAINT_EFFECTS))
        )
    taint = {"key": key, "effect": effect}
    if value:
        taint["value"] = value
    return taint


# k3s releases: a Kubernetes release of a supported minor with the k3s build suffix.
K3S_VERSION_ALLOWED = "vX.Y.Z+k3sN of a supported Kubernetes minor (%s)" % ", ".join(
    m + ".x" for m in SUPPORTED_KUBERNETES_MINORS
)


def k3s_version_problem(version):
    """None when ``version`` names a k3s release ('v1.35.6+k3s1') of a supported minor."""
    text = str(version).strip() if version is not None else ""
    if not (text.startswith("v") and "+k3s" in text):
        return "k3s version %r is not allowed; allowed: %s" % (version, K3S_VERSION_ALLOWED)
    problem = kubernetes_version_problem(text)
    if problem:
        return "k3s version %r is not allowed (%s); allowed: %s" % (
            version,
            problem,
            K3S_VERSION_ALLOWED,
        )
    return None


# etcd needs a majority of its members up to change anything, its member list included
# (etcd.io/docs/v3.5/faq/, "What is failure tolerance?").
def etcd_quorum(members):
    """The members an etcd cluster of ``members`` members needs up: a majority."""
    return int(members) // 2 + 1


# Mesh resilience profiles, one per WAN quality (docs/cilium.md, "Resilience profiles"):
# - cache_ttl: the chart's clustermesh.cacheTTL (1.19+): how long agents keep a remote
#   cluster's cached identities, endpoints and services after losing it ("0s": never
#   revoked - stale but available; a short TTL drops a dead cluster's backends quickly);
# - sync_timeout: the agent option clustermesh-sync-timeout: how long a starting agent
#   waits for the initial sync of the remote clusters before it proceeds without them;
# - apiserver_replicas: clustermesh-apiserver replicas (capped by the cluster's nodes).
MESH_PROFILES = {
    "lan": {"cache_ttl": "5m", "sync_timeout": "1m", "apiserver_replicas": 2},
    "wan": {"cache_ttl": "1h", "sync_timeout": "2m", "apiserver_replicas": 2},
    "flaky": {"cache_ttl": "0s", "sync_timeout": "5m", "apiserver_replicas": 3},
}
# Chart minors with clustermesh.cacheTTL (the 1.18 chart has no such value).
CACHE_TTL_MINORS = ("1.19", "1.20")

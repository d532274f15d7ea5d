# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The complete bootstrap files the k3s and kubeadm roles install, and their previews.

One renderer per file, from the role variables (``role_inputs`` plus the host's own
``k3s_*``/``kubeadm_*`` knobs over the role defaults):

* ``k3s_config`` - ``/etc/rancher/k3s/config.yaml`` of a k3s server or agent;
* ``kubeadm_init_config`` - the Init/Cluster/KubeletConfiguration of the first control plane;
* ``kubeadm_join_config`` - the JoinConfiguration of a joining node (secrets given, or the
  placeholders ``<token>``, ``<ca-hash>``, ``<certificate-key>`` in previews);
* ``kubeadm_upgrade_config`` - the UpgradeConfiguration of ``kubeadm upgrade``.

The roles write them through the filter ``edgemesh.cluster_mesh.bootstrap_file``;
``preview_files(plan, hostvars_by_host, output_dir)`` renders the same bytes for
``<output_dir>/<cluster>/<host>/...`` (no secret ever). The header is fixed, so a file does
not depend on the host that writes it. No Ansible import; PyYAML (an ansible-core
dependency) only for ``k3s_extra_config``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import json
import os
from collections.abc import Mapping

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - ansible-core always brings PyYAML
    HAS_YAML = False

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    k3s_files,
    mesh_rules,
    role_inputs,
)

HEADER = "# Managed by edgemesh.cluster_mesh; local changes are overwritten.\n"
# Node paths of the k3s role (roles/k3s/vars/main.yml; a unit test keeps them equal).
K3S_TOKEN_PATH = "/etc/rancher/k3s/cluster-token"
# The agent join token (servers: agent-token-file; agents join with it as their token-file).
K3S_AGENT_TOKEN_PATH = "/etc/rancher/k3s/agent-token"
# With k3s_allow_cgroup_v1 the kubelet of Kubernetes 1.35+ runs on a cgroup v1 host.
K3S_CGROUP_V1_KUBELET_ARG = "fail-cgroupv1=false"
KUBEADM_API = "kubeadm.k8s.io/v1beta4"
KUBELET_API = "kubelet.config.k8s.io/v1beta1"
# The API servers read the secrets encryption configuration here (roles/kubeadm/vars/main.yml
# writes it; a unit test keeps them equal), mounted read-only into their static Pods.
KUBEADM_ENCRYPTION_DIR = "/etc/kubernetes/encryption"
KUBEADM_ENCRYPTION_CONFIG = KUBEADM_ENCRYPTION_DIR + "/config.yaml"
# Local secrets encryption providers (Kubernetes "Encrypting Confidential Data at Rest").
KUBEADM_ENCRYPTION_PROVIDERS = ("secretbox", "aescbc")
# Cilium replaces kube-proxy: skipped at init and at every upgrade.
KUBEADM_SKIP_PHASES = ("addon/kube-proxy",)
PLACEHOLDERS = {
    "token": "<token>",
    "ca_hash": "<ca-hash>",
    "certificate_key": "<certificate-key>",
}
ROLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles")

# The variables each renderer reads (the roles pass exactly these, see their vars/main.yml).
K3S_KEYS = (
    "k3s_cluster_name",
    "k3s_node_role",
    "k3s_node_ip",
    "k3s_node_name",
    "k3s_cluster_init",
    "k3s_registration_address",
    "k3s_registration_port",
    "k3s_api_port",
    "k3s_pod_cidrs",
    "k3s_service_cidrs",
    "k3s_cluster_dns",
    "k3s_tls_sans",
    "k3s_disable",
    "k3s_kubelet_args",
    "k3s_extra_config",
    "k3s_cluster_node_labels",
    "k3s_node_labels",
    "k3s_cluster_node_taints",
    "k3s_node_taints",
    "k3s_secrets_encryption",
    "k3s_etcd_snapshot_schedule_cron",
    "k3s_etcd_snapshot_retention",
    "k3s_etcd_s3",
    "k3s_allow_cgroup_v1",
)
KUBEADM_KEYS = (
    "kubeadm_cluster_name",
    "kubeadm_node_role",
    "kubeadm_node_ip",
    "kubeadm_node_name",
    "kubeadm_kubernetes_version",
    "kubeadm_api_port",
    "kubeadm_control_plane_endpoint",
    "kubeadm_control_plane_port",
    "kubeadm_cert_sans",
    "kubeadm_pod_cidrs",
    "kubeadm_service_cidrs",
    "kubeadm_cluster_dns",
    "kubeadm_dns_domain",
    "kubeadm_cri_socket",
    "kubeadm_image_repository",
    "kubeadm_ignore_preflight_errors",
    "kubeadm_cluster_hosts",
    "kubeadm_control_plane_hosts",
    "kubeadm_cluster_node_labels",
    "kubeadm_node_labels",
    "kubeadm_cluster_node_taints",
    "kubeadm_node_taints",
    "kubeadm_secrets_encryption",
    "kubeadm_secrets_encryption_provider",
)
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0", "")


class BootstrapError(ValueError):
    """A role variable cannot be rendered; the message names the file, key and value."""


def plain(value):
    """JSON-like data of builtin types only (Ansible hands over str/dict subclasses)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return dict((str(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    raise BootstrapError("cannot render %r (%s)" % (value, type(value).__name__))


class Inputs(object):
    """Typed access to the role variables of one file; errors name file, key and value."""

    def __init__(self, what, values, host=""):
        if not isinstance(values, Mapping):
            raise BootstrapError("%s: the inputs are not a mapping: %r" % (what, values))
        self.what = what
        self.values = values
        self.host = str(host or "")

    def _bad(self, key, value, allowed):
        return BootstrapError(
            "%s%s: %s is %r; allowed: %s"
            % (self.what, " of " + self.host if self.host else "", key, value, allowed)
        )

    def raw(self, key):
        if key not in self.values:
            raise BootstrapError("%s: the role variable %s is missing" % (self.what, key))
        return plain(self.values[key])

    def text(self, key, required=True):
        value = self.raw(key)
        if isinstance(value, (bool, list, dict)) or value is None:
            raise self._bad(key, value, "a string")
        value = str(value)
        if required and not value:
            raise self._bad(key, value, "a non-empty string")
        return value

    def number(self, key):
        value = self.raw(key)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise self._bad(key, value, "a port number 0-65535 (0 where a fallback exists)")
        return value

    def flag(self, key):
        value = self.raw(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise self._bad(key, value, "true or false")

    def texts(self, key):
        value = self.raw(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._bad(key, value, "a list of non-empty strings")
        return value

    def mapping(self, key):
        value = self.raw(key)
        if not isinstance(value, dict):
            raise self._bad(key, value, "a mapping")
        return value


def _q(value):
    """A YAML double-quoted scalar (JSON string escapes are YAML escapes)."""
    return json.dumps(value)


def _items(lines, indent, values):
    lines.extend("%s- %s" % (" " * indent, _q(v)) for v in values)


def _host_port(host, port):
    return "%s:%d" % ("[%s]" % host if ":" in host else host, port)


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _k3s_extra(inputs, written):
    """k3s_extra_config as YAML; a key the role writes itself is refused, not duplicated."""
    extra = inputs.mapping("k3s_extra_config")
    clash = sorted(set(extra) & set(written))
    if clash:
        raise BootstrapError(
            "k3s config.yaml: k3s_extra_config sets %s, which the role writes from the plan "
            "or its own variables; allowed: other k3s configuration keys" % ", ".join(clash)
        )
    if not extra:
        return ""
    if not HAS_YAML:
        raise BootstrapError("the Python library PyYAML is required (pip install PyYAML)")
    return yaml.safe_dump(
        extra, default_flow_style=False, indent=2, sort_keys=True, allow_unicode=True, width=4096
    )


def _k3s_server_extras(inputs):
    """Agent token, secrets encryption and etcd snapshots of a server."""
    lines = ["agent-token-file: %s" % _q(K3S_AGENT_TOKEN_PATH)]
    if inputs.flag("k3s_secrets_encryption"):
        lines.append("secrets-encryption: true")
    try:
        return lines + k3s_files.etcd_config(
            inputs.raw("k3s_etcd_snapshot_schedule_cron"),
            inputs.raw("k3s_etcd_snapshot_retention"),
            inputs.raw("k3s_etcd_s3"),
        )
    except k3s_files.K3sFileError as exc:
        raise BootstrapError("%s of %s: %s" % (inputs.what, inputs.host or "?", exc))


def _k3s_node_extras(inputs, lines):
    """node-label, node-taint and kubelet-arg of every node."""
    try:
        labels = k3s_files.node_labels(
            inputs.raw("k3s_cluster_node_labels"), inputs.raw("k3s_node_labels")
        )
        taints = k3s_files.node_taints(
            inputs.raw("k3s_cluster_node_taints"), inputs.raw("k3s_node_taints")
        )
    except k3s_files.K3sFileError as exc:
        raise BootstrapError("%s of %s: %s" % (inputs.what, inputs.host or "?", exc))
    kubelet_args = list(inputs.texts("k3s_kubelet_args"))
    if inputs.flag("k3s_allow_cgroup_v1") and K3S_CGROUP_V1_KUBELET_ARG not in kubelet_args:
        kubelet_args.append(K3S_CGROUP_V1_KUBELET_ARG)
    for key, items in (
        ("node-label", labels),
        ("node-taint", taints),
        ("kubelet-arg", kubelet_args),
    ):
        if items:
            lines.append(key + ":")
            _items(lines, 2, items)


def k3s_config(values, host=""):
    """The text of /etc/rancher/k3s/config.yaml from the k3s role variables."""
    inputs = Inputs("k3s config.yaml", values, host)
    role = inputs.text("k3s_node_role")
    if role not in ("server", "agent"):
        raise inputs._bad("k3s_node_role", role, "server, agent")
    name = inputs.text("k3s_cluster_name")
    lines = [
        "# k3s %s of cluster %s; Cilium provides the CNI," % (role, name),
        "# network policy and the kube-proxy replacement.",
        "token-file: %s" % _q(K3S_TOKEN_PATH if role == "server" else K3S_AGENT_TOKEN_PATH),
        "node-ip: %s" % _q(inputs.text("k3s_node_ip")),
    ]
    if inputs.text("k3s_node_name", required=False):
        lines.append("node-name: %s" % _q(inputs.text("k3s_node_name")))
    if role == "server" and inputs.flag("k3s_cluster_init"):
        lines.append("cluster-init: true")
    else:
        port = inputs.number("k3s_registration_port") or inputs.number("k3s_api_port")
        url = "https://" + _host_port(inputs.text("k3s_registration_address"), port)
        lines.append("server: %s" % _q(url))
    if role == "server":
        lines += [
            'write-kubeconfig-mode: "0600"',
            "flannel-backend: none",
            "disable-network-policy: true",
            "disable-kube-proxy: true",
            "cluster-cidr: %s" % _q(",".join(inputs.texts("k3s_pod_cidrs"))),
            "service-cidr: %s" % _q(",".join(inputs.texts("k3s_service_cidrs"))),
            "cluster-dns: %s" % _q(inputs.text("k3s_cluster_dns")),
        ]
        for key, option in (("tls-san", "k3s_tls_sans"), ("disable", "k3s_disable")):
            if inputs.texts(option):
                lines.append(key + ":")
                _items(lines, 2, inputs.texts(option))
        lines += _k3s_server_extras(inputs)
    _k3s_node_extras(inputs, lines)
    written = [line.split(":", 1)[0] for line in lines if not line.startswith((" ", "#"))]
    return HEADER + "\n".join(lines) + "\n" + _k3s_extra(inputs, written)


class _Kubeadm(object):
    """The values every kubeadm file shares, read once."""

    def __init__(self, what, values, host):
        self.inputs = inputs = Inputs(what, values, host)
        self.host = inputs.host
        self.name = inputs.text("kubeadm_cluster_name")
        self.role = inputs.text("kubeadm_node_role")
        if self.role not in ("server", "agent"):
            raise inputs._bad("kubeadm_node_role", self.role, "server, agent")
        self.ignored = inputs.texts("kubeadm_ignore_preflight_errors")
        self.api_port = inputs.number("kubeadm_api_port")

    def node_ips(self):
        ips = [ip.strip() for ip in self.inputs.text("kubeadm_node_ip").split(",")]
        if not all(ips):
            raise self.inputs._bad("kubeadm_node_ip", ",".join(ips), "an IP, or v4,v6")
        return ips

    def endpoint_host(self):
        return self.inputs.text("kubeadm_control_plane_endpoint")

    def endpoint(self):
        port = self.inputs.number("kubeadm_control_plane_port") or self.api_port
        return _host_port(self.endpoint_host(), port)

    def node_name(self):
        return self.inputs.text("kubeadm_node_name", required=False) or self.host.lower()

    def registration(self, lines, indent):
        pad = " " * indent
        lines += [
            pad + "nodeRegistration:",
            pad + "  name: %s" % _q(self.node_name()),
            pad + "  criSocket: %s" % _q(self.inputs.text("kubeadm_cri_socket")),
            pad + "  kubeletExtraArgs:",
            pad + "    - name: node-ip",
            pad + "      value: %s" % _q(",".join(self.node_ips())),
        ]
        labels = self.labels()
        if labels:
            lines += [pad + "    - name: node-labels", pad + "      value: %s" % _q(labels)]
        taints = self.taints()
        if taints or self.role == "server":
            lines.append(pad + "  taints:" + ("" if taints else " []"))
        for taint in taints:
            lines.append(pad + "    - key: %s" % _q(taint["key"]))
            if "value" in taint:
                lines.append(pad + "      value: %s" % _q(taint["value"]))
            lines.append(pad + "      effect: %s" % taint["effect"])
        self.ignore(lines, indent + 2)

    def labels(self):
        """The kubelet's node-labels: the cluster's, then the host's (a host key wins)."""
        merged = dict(self.inputs.mapping("kubeadm_cluster_node_labels"))
        merged.update(self.inputs.mapping("kubeadm_node_labels"))
        for key in sorted(merged):
            value = "" if merged[key] is None else merged[key]
            value = str(value).lower() if isinstance(value, bool) else value
            value = str(value) if isinstance(value, (int, float)) else value
            problem = mesh_rules.node_label_problem(key, value)
            if problem:
                raise self.inputs._bad("node label", "%s=%s" % (key, value), problem)
            merged[key] = value
        return ",".join("%s=%s" % (k, merged[k]) for k in sorted(merged))

    def has_workers(self):
        control_planes = set(self.inputs.texts("kubeadm_control_plane_hosts"))
        return bool(set(self.inputs.texts("kubeadm_cluster_hosts")) - control_planes)

    def taints(self):
        """The node's taints; a control plane keeps kubeadm's NoSchedule taint only when the
        cluster has workers (else Cilium's operator-side Pods and Jobs could not schedule)."""
        texts = self.inputs.texts("kubeadm_cluster_node_taints")
        texts = texts + self.inputs.texts("kubeadm_node_taints")
        found = []
        if self.role == "server" and self.has_workers():
            found.append(dict(mesh_rules.CONTROL_PLANE_TAINT))
        for text in texts:
            try:
                taint = mesh_rules.parse_taint(text)
            except mesh_rules.RuleError as exc:
                raise self.inputs._bad("a taint of kubeadm_*node_taints", text, str(exc))
            if taint not in found:
                found.append(taint)
        return found

    def ignore(self, lines, indent):
        if self.ignored:
            lines.append(" " * indent + "ignorePreflightErrors:")
            _items(lines, indent + 2, self.ignored)

    def skip(self, lines, indent):
        lines.append(" " * indent + "skipPhases:")
        lines.extend("%s- %s" % (" " * (indent + 2), p) for p in KUBEADM_SKIP_PHASES)

    def version(self):
        version = self.inputs.text("kubeadm_kubernetes_version")
        problem = mesh_rules.kubernetes_version_problem(version)
        if problem:
            allowed = problem.rpartition("allowed: ")[2]
            raise self.inputs._bad("kubeadm_kubernetes_version", version, allowed)
        return "v" + version.lstrip("v")

    def encryption(self, lines):
        """The API server flag and read-only mount of the secrets encryption configuration."""
        if not self.inputs.flag("kubeadm_secrets_encryption"):
            return
        lines += [
            "  extraArgs:",
            "    - name: encryption-provider-config",
            "      value: %s" % _q(KUBEADM_ENCRYPTION_CONFIG),
            "  extraVolumes:",
            "    - name: edgemesh-encryption",
            "      hostPath: %s" % _q(KUBEADM_ENCRYPTION_DIR),
            "      mountPath: %s" % _q(KUBEADM_ENCRYPTION_DIR),
            "      readOnly: true",
            "      pathType: DirectoryOrCreate",
        ]


def kubeadm_init_config(values, host):
    """The text of kubeadm-config.yaml, used by ``kubeadm init`` on the first control plane."""
    kc = _Kubeadm("kubeadm-config.yaml", values, host)
    ins = kc.inputs
    dns_domain = ins.text("kubeadm_dns_domain")
    lines = [
        "# kubeadm configuration of cluster %s, used by `kubeadm init` on" % kc.name,
        "# %s. Cilium replaces kube-proxy: its addon is never installed." % kc.host,
        "apiVersion: " + KUBEADM_API,
        "kind: InitConfiguration",
        "localAPIEndpoint:",
        "  advertiseAddress: %s" % _q(kc.node_ips()[0]),
        "  bindPort: %d" % kc.api_port,
    ]
    kc.registration(lines, 0)
    kc.skip(lines, 0)
    lines += [
        "---",
        "apiVersion: " + KUBEADM_API,
        "kind: ClusterConfiguration",
        "clusterName: %s" % _q(kc.name),
        "kubernetesVersion: %s" % _q(kc.version()),
        "controlPlaneEndpoint: %s" % _q(kc.endpoint()),
        "imageRepository: %s" % _q(ins.text("kubeadm_image_repository")),
        "networking:",
        "  podSubnet: %s" % _q(",".join(ins.texts("kubeadm_pod_cidrs"))),
        "  serviceSubnet: %s" % _q(",".join(ins.texts("kubeadm_service_cidrs"))),
        "  dnsDomain: %s" % _q(dns_domain),
        "apiServer:",
        "  certSANs:",
    ]
    _items(lines, 4, _unique([kc.endpoint_host()] + ins.texts("kubeadm_cert_sans")))
    kc.encryption(lines)
    lines += [
        "proxy:",
        "  disabled: true",
        "---",
        "apiVersion: " + KUBELET_API,
        "kind: KubeletConfiguration",
        "cgroupDriver: systemd",
        "clusterDomain: %s" % _q(dns_domain),
        "clusterDNS:",
        "  - %s" % _q(ins.text("kubeadm_cluster_dns")),
    ]
    return HEADER + "\n".join(lines) + "\n"


def _secrets(kc, secrets):
    """The join secrets, or the placeholders of a preview when ``secrets`` is None."""
    if secrets is None:
        return dict(PLACEHOLDERS)
    if not isinstance(secrets, Mapping):
        raise BootstrapError("join-config.yaml of %s: the secrets are not a mapping" % kc.host)
    wanted = ("token", "ca_hash") + (("certificate_key",) if kc.role == "server" else ())
    missing = [k for k in wanted if not isinstance(secrets.get(k), str) or not secrets.get(k)]
    if missing:
        raise BootstrapError(
            "join-config.yaml of %s: the join secrets lack %s (values not shown)"
            % (kc.host, ", ".join(missing))
        )
    return dict((k, str(secrets.get(k) or "")) for k in PLACEHOLDERS)


def kubeadm_join_config(values, host, secrets=None):
    """The text of join-config.yaml for ``kubeadm join`` (placeholders without secrets)."""
    kc = _Kubeadm("join-config.yaml", values, host)
    found = _secrets(kc, secrets)
    lines = [
        "# kubeadm join configuration of %s (cluster %s)." % (kc.host, kc.name),
        "# Holds a bootstrap token: written 0600 just before `kubeadm join`, removed right after.",
        "apiVersion: " + KUBEADM_API,
        "kind: JoinConfiguration",
        "discovery:",
        "  bootstrapToken:",
        "    apiServerEndpoint: %s" % _q(kc.endpoint()),
        "    token: %s" % _q(found["token"]),
        "    caCertHashes:",
        "      - %s" % _q(found["ca_hash"]),
    ]
    kc.registration(lines, 0)
    if kc.role == "server":
        lines += [
            "controlPlane:",
            "  localAPIEndpoint:",
            "    advertiseAddress: %s" % _q(kc.node_ips()[0]),
            "    bindPort: %d" % kc.api_port,
            "  certificateKey: %s" % _q(found["certificate_key"]),
        ]
    return HEADER + "\n".join(lines) + "\n"


def kubeadm_upgrade_config(values, host=""):
    """The text of upgrade-config.yaml: the target version, kube-proxy kept out."""
    kc = _Kubeadm("upgrade-config.yaml", values, host)
    lines = [
        "# kubeadm upgrade configuration of cluster %s: the target version," % kc.name,
        "# and kube-proxy kept out (Cilium replaces it) by `upgrade apply` and `upgrade node` alike.",
        "apiVersion: " + KUBEADM_API,
        "kind: UpgradeConfiguration",
        "apply:",
        "  kubernetesVersion: %s" % _q(kc.version()),
        "  forceUpgrade: true",
    ]
    kc.ignore(lines, 2)
    kc.skip(lines, 2)
    lines.append("node:")
    kc.ignore(lines, 2)
    kc.skip(lines, 2)
    return HEADER + "\n".join(lines) + "\n"


def _encryption_key(what, secrets):
    """The base64 key of 32 bytes from ``secrets`` (never shown in a message)."""
    key = secrets.get("key") if isinstance(secrets, Mapping) else None
    try:
        raw = base64.b64decode(str(key or ""), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise BootstrapError("%s: the key is not 32 bytes in base64 (value not shown)" % what)
    return str(key)


def kubeadm_encryption_config(values, host, secrets=None):
    """The EncryptionConfiguration of the API servers: Secrets written with the chosen
    provider, still readable when stored before encryption was on (identity last)."""
    what = "encryption-config.yaml"
    inputs = Inputs(what, values, host)
    provider = inputs.text("kubeadm_secrets_encryption_provider")
    if provider not in KUBEADM_ENCRYPTION_PROVIDERS:
        raise inputs._bad(
            "kubeadm_secrets_encryption_provider", provider, ", ".join(KUBEADM_ENCRYPTION_PROVIDERS)
        )
    key = "<encryption-key>" if secrets is None else _encryption_key(what, secrets)
    lines = [
        "# Secrets encryption at rest of cluster %s (kube-apiserver"
        % inputs.text("kubeadm_cluster_name"),
        "# --encryption-provider-config). Holds the key: 0600, never shown.",
        "apiVersion: apiserver.config.k8s.io/v1",
        "kind: EncryptionConfiguration",
        "resources:",
        "  - resources:",
        "      - secrets",
        "    providers:",
        "      - %s:" % provider,
        "          keys:",
        "            - name: edgemesh-1",
        "              secret: %s" % _q(key),
        "      - identity: {}",
    ]
    return HEADER + "\n".join(lines) + "\n"


RENDERERS = {
    "k3s-config": k3s_config,
    "kubeadm-init": kubeadm_init_config,
    "kubeadm-join": kubeadm_join_config,
    "kubeadm-upgrade": kubeadm_upgrade_config,
    "kubeadm-secrets-encryption": kubeadm_encryption_config,
}
# The kinds that take secrets (a preview shows their placeholders).
SECRET_KINDS = ("kubeadm-join", "kubeadm-secrets-encryption")


def render(kind, values, host="", secrets=None):
    """One file by kind (``RENDERERS``); ``secrets`` only for the ``SECRET_KINDS``."""
    if kind not in RENDERERS:
        raise BootstrapError(
            "file kind %r is not known; allowed: %s" % (kind, ", ".join(sorted(RENDERERS)))
        )
    if kind in SECRET_KINDS:
        return RENDERERS[kind](values, host, secrets)
    if secrets is not None:
        raise BootstrapError("%s takes no secrets; only %s do" % (kind, ", ".join(SECRET_KINDS)))
    return RENDERERS[kind](values, host)


ROLE_KEYS = {"k3s": K3S_KEYS, "kubeadm": KUBEADM_KEYS}
_DEFAULTS = {}


def role_defaults(role):
    """The plain defaults of the renderer's keys, read from roles/<role>/defaults/main.yml.

    A templated default (``{{ ... }}``) is left out: the mapping always sets those keys."""
    if role not in _DEFAULTS:
        path = os.path.normpath(os.path.join(ROLES_DIR, role, "defaults", "main.yml"))
        if not HAS_YAML:
            raise BootstrapError("the Python library PyYAML is required (pip install PyYAML)")
        try:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
        except (IOError, OSError, yaml.YAMLError) as exc:
            raise BootstrapError("cannot read the %s role defaults %s: %s" % (role, path, exc))
        _DEFAULTS[role] = dict(
            (key, value)
            for key, value in data.items()
            if key in ROLE_KEYS[role] and not (isinstance(value, str) and "{{" in value)
        )
    return dict(_DEFAULTS[role])


def host_inputs(role, host, hostvars_of_host, mapped):
    """Role defaults < the host's own role knobs < the variables mapped from the plan."""
    values = role_defaults(role)
    for key in ROLE_KEYS[role]:
        if key in hostvars_of_host and key not in mapped:
            value = hostvars_of_host[key]
            if isinstance(value, str) and "{{" in value:
                raise BootstrapError(
                    "host %s: %s is the untemplated %r; give preview_files templated "
                    "host variables (hostvars)" % (host, key, value)
                )
            values[key] = value
    values.update(mapped)
    return values


def _host_files(cluster, host, hostvars_of_host, output_dir):
    role = cluster.distribution
    # Only the keys the mapping and the renderer read (templating a host's every variable
    # would be slow and could fail on variables of other parts).
    wanted = (role_inputs.PIN_VAR,) + ROLE_KEYS[role]
    hv = dict((k, hostvars_of_host[k]) for k in wanted if k in hostvars_of_host)
    hv["edgemesh_output_dir"] = output_dir
    mapped = role_inputs.role_inputs(role, cluster, host, hv, ())
    values = host_inputs(role, host, hv, mapped)
    base = "%s/%s/" % (cluster.name, host)
    if role == "k3s":
        return {base + "config.yaml": k3s_config(values, host)}
    files = {base + "upgrade-config.yaml": kubeadm_upgrade_config(values, host)}
    if role_inputs.bootstrap_step(host, mapped) == "init":
        files[base + "kubeadm-config.yaml"] = kubeadm_init_config(values, host)
    else:
        files[base + "join-config.yaml"] = kubeadm_join_config(values, host)
    return files


def preview_files(plan, hostvars_by_host, output_dir):
    """{``<cluster>/<host>/<file>``: text} of every node of the plan, secrets as placeholders.

    The same renderers and inputs as the roles, with the plan's init host (a server found
    holding cluster data at install time may take its place; see docs/k3s.md)."""
    if not isinstance(plan, Mapping) or not isinstance(plan.get("clusters"), list):
        raise BootstrapError("the plan is not a mapping with 'clusters' (mesh_plan output)")
    hostvars_by_host = hostvars_by_host or {}
    if not isinstance(hostvars_by_host, Mapping):
        raise BootstrapError("hostvars_by_host is not a mapping of host to variables")
    files = {}
    try:
        for raw in plan["clusters"]:
            cluster = role_inputs.read_cluster(raw)
            for node in cluster.nodes:
                # HostVars answers an unknown host with an undefined value, not KeyError.
                hv = hostvars_by_host[node.host] if node.host in hostvars_by_host else {}
                files.update(_host_files(cluster, node.host, hv, output_dir))
    except role_inputs.RoleInputError as exc:
        raise BootstrapError(str(exc))
    return files

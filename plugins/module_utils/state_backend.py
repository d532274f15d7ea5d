# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""State that outlives an execution-environment container.

Two sources of the planner's state (docs/contracts.md, "state"):

* a Kubernetes Secret in a management cluster (``SecretStateBackend``), holding the
  state JSON, the mesh CA and per-cluster files a later job needs (the kubeconfigs and
  k3s join tokens of bootstrapped clusters);
* the live ``cilium-config`` ConfigMaps of clusters that already run Cilium
  (``state_from_cluster_facts``), from which cluster IDs and pod CIDRs are recovered.

The state itself is checked and written only by ``mesh_state_schema`` (``parse_state``,
``dump_state``). The API is reached through kubernetes.core's client (``connect`` calls
``kubernetes.core.plugins.module_utils.k8s.client.get_api_client`` with the options of the
``kubernetes.core.k8s_auth_options`` doc fragment); everything else takes that client and
is pure Python, so it is unit tested against a stand-in for the API server. Addresses read
from ``cilium-config`` are parsed with the standard library's ``ipaddress``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import ipaddress
import os
import re
import socket
import tempfile

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_state_schema import (
    STATE_FORMAT,
    StateError,
    dump_state,
    parse_state,
)

try:
    from kubernetes import config as k8s_config
    from kubernetes.client.exceptions import ApiException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without the library
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc

    class ApiException(Exception):
        """Placeholder so ``except ApiException`` stays valid without the library."""

        status = None
        reason = None


try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (
        get_api_client,
    )
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import (
        CoreException,
    )

    HAS_K8S_CORE = True
    K8S_CORE_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without kubernetes.core
    HAS_K8S_CORE = False
    K8S_CORE_IMPORT_ERROR = exc

    class CoreException(Exception):
        """Placeholder so ``except CoreException`` stays valid without kubernetes.core."""


STATE_KEY = "mesh-state.json"
CA_CERT_KEY = "mesh-ca.crt"
CA_KEY_KEY = "mesh-ca.key"
RESERVED_KEYS = (STATE_KEY, CA_CERT_KEY, CA_KEY_KEY)
MANAGED_BY = "edgemesh.cluster_mesh"
FORMAT_ANNOTATION = "edgemesh.io/state-format"
CILIUM_CONFIG_NAME = "cilium-config"
CLUSTERMESH_SERVICE_NAME = "clustermesh-apiserver"
# Per-cluster files are stored under "<file name>.<cluster>": neither part may hold a dot.
_FILE_NAME_RE = re.compile(r"^[a-z0-9][-_a-z0-9]*$")
_TRUE = ("true", "1", "yes")
_NOT_FOUND = object()


class StateBackendError(Exception):
    """A clear, user-facing error of the state backend (never a traceback)."""


def missing_kubernetes_message():
    if not HAS_K8S_CORE:
        return (
            "the collection kubernetes.core is required for the Kubernetes state backend; "
            "install it (it comes with the ansible package) or use the collection's execution "
            "environment (import error: %s)" % K8S_CORE_IMPORT_ERROR
        )
    return (
        "the Python library 'kubernetes' is required for the Kubernetes state backend; "
        "install it (pip install -r requirements.txt) or use the collection's execution "
        "environment (import error: %s)" % KUBERNETES_IMPORT_ERROR
    )


def unreachable(what, exc):
    return StateBackendError(
        "%s: the API server could not be reached (%s: %s)" % (what, type(exc).__name__, exc)
    )


def api_error(what, exc):
    return StateBackendError("%s failed: HTTP %s %s" % (what, exc.status, exc.reason or ""))


# ---------------------------------------------------------------------------
# The planner's state: checked and written by mesh_state_schema only
# ---------------------------------------------------------------------------


def checked_state(state, where="state"):
    """The canonical mapping of a valid state (dict or JSON text); StateBackendError if not."""
    try:
        return parse_state(state, where).to_dict()
    except StateError as exc:
        raise StateBackendError(str(exc))


def load_state(text, where="state"):
    if not isinstance(text, str) or not text.strip():
        raise StateBackendError("%s: empty; allowed: the state file the planner wrote" % where)
    return checked_state(text, where)


def overwrite_problems(stored, new):
    """Reasons why ``new`` was not planned from ``stored`` (empty list when it was).

    A cluster present in both must keep its ID and its pod CIDRs: a plan computed from an
    empty or stale state (say, a container that failed to pull) would otherwise silently
    renumber running clusters. Clusters missing from ``new`` are releases and allowed.
    """
    problems = []
    if stored.get("max_connected_clusters") != new.get("max_connected_clusters"):
        problems.append(
            "max_connected_clusters changes from %r to %r"
            % (stored.get("max_connected_clusters"), new.get("max_connected_clusters"))
        )
    old_clusters = stored.get("clusters", {})
    new_clusters = new.get("clusters", {})
    for name in sorted(set(old_clusters) & set(new_clusters)):
        for key in ("id", "pod_cidrs"):
            if old_clusters[name].get(key) != new_clusters[name].get(key):
                problems.append(
                    "cluster %r: %s changes from %r to %r"
                    % (name, key, old_clusters[name].get(key), new_clusters[name].get(key))
                )
    return problems


# ---------------------------------------------------------------------------
# Secret payload <-> files
# ---------------------------------------------------------------------------


def is_cluster_key_name(cluster):
    return mesh_rules.is_dns_label(cluster)


def cluster_file_key(name, cluster):
    """Secret key of a per-cluster file such as ``kubeconfig.eu-core`` or ``k3s-token.eu-core``."""
    if not _FILE_NAME_RE.match(name or ""):
        raise StateBackendError(
            "file name %r cannot be part of a Secret key (lowercase letters, digits, '-', '_')"
            % (name,)
        )
    if not mesh_rules.is_dns_label(cluster):
        raise StateBackendError(
            "cluster name %r cannot be part of a Secret key (lowercase letters, digits, '-')"
            % (cluster,)
        )
    return "%s.%s" % (name, cluster)


def build_payload(state=None, ca_cert=None, ca_key=None, cluster_files=None):
    """Text payload (Secret key -> text) for the given parts; absent parts are left out.

    ``cluster_files`` maps (file name, cluster) to text, e.g. the kubeconfig a bootstrap
    wrote or the k3s join token, both of which a later job in a fresh container needs.
    """
    payload = {}
    if state is not None:
        payload[STATE_KEY] = dump_state(checked_state(state, "state to store"))
    if (ca_cert is None) != (ca_key is None):
        raise StateBackendError("the mesh CA needs both the certificate and the key, or neither")
    if ca_cert is not None:
        if "-----BEGIN CERTIFICATE-----" not in ca_cert:
            raise StateBackendError("mesh CA certificate: no PEM certificate found")
        if "PRIVATE KEY-----" not in ca_key:
            raise StateBackendError("mesh CA key: no PEM private key found")
        payload[CA_CERT_KEY] = ca_cert
        payload[CA_KEY_KEY] = ca_key
    for (name, cluster), text in sorted((cluster_files or {}).items()):
        key = cluster_file_key(name, cluster)
        if not text.strip():
            raise StateBackendError("%s of cluster %r is empty" % (name, cluster))
        payload[key] = text
    return payload


def encode_data(payload):
    return {
        key: base64.b64encode(text.encode("utf-8")).decode("ascii")
        for key, text in sorted(payload.items())
    }


def decode_data(data, where="Secret"):
    payload = {}
    for key, value in sorted((data or {}).items()):
        try:
            payload[key] = base64.b64decode(value, validate=True).decode("utf-8")
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise StateBackendError("%s: key %r is not base64 UTF-8 text (%s)" % (where, key, exc))
    return payload


def split_payload(payload, where="Secret"):
    """-> dict(state=dict|None, ca_cert, ca_key, cluster_files={(name, cluster): text})."""
    parts = {"state": None, "ca_cert": None, "ca_key": None, "cluster_files": {}}
    if STATE_KEY in payload:
        parts["state"] = load_state(payload[STATE_KEY], "%s key %s" % (where, STATE_KEY))
    parts["ca_cert"] = payload.get(CA_CERT_KEY)
    parts["ca_key"] = payload.get(CA_KEY_KEY)
    for key, text in payload.items():
        if key in RESERVED_KEYS:
            continue
        name, dot, cluster = key.partition(".")
        if dot and _FILE_NAME_RE.match(name) and mesh_rules.is_dns_label(cluster):
            parts["cluster_files"][(name, cluster)] = text
    return parts


class SecretStateBackend:
    """The state, the mesh CA and per-cluster files (kubeconfigs, k3s tokens) in one Secret.

    ``client`` is kubernetes.core's client (``K8SClient``, from ``connect``): Secrets are
    read, created and replaced through its dynamic resources. Writes merge: keys not given
    are kept. A write replaces with the ``resourceVersion`` that was read, so a concurrent
    writer makes it fail with a clear message (HTTP 409) instead of losing an update.
    """

    def __init__(self, client, namespace, name):
        if not namespace or not name:
            raise StateBackendError("the state Secret needs a namespace and a name")
        self.client = client
        self.namespace = namespace
        self.name = name

    @property
    def where(self):
        return "Secret %s/%s" % (self.namespace, self.name)

    def _call(self, what, call, missing=None):
        """``call()``; a 404 gives ``missing``, other API errors and no answer a message."""
        try:
            return call()
        except StateBackendError:
            raise
        except ApiException as exc:
            if exc.status == 404 and missing is not None:
                return missing
            if exc.status == 409:
                raise StateBackendError(
                    "%s was changed by someone else while this job ran (HTTP 409 conflict); "
                    "run the job again" % self.where
                )
            raise api_error(what, exc)
        except Exception as exc:  # urllib3/socket errors: the API server is not reachable
            raise unreachable(what, exc)

    def _secrets(self):
        return self.client.resource("Secret", "v1")

    def read(self):
        """-> (payload dict, resourceVersion); ({}, None) when the Secret does not exist."""
        secret = self._call(
            "reading " + self.where,
            lambda: self.client.get(
                self._secrets(), name=self.name, namespace=self.namespace
            ).to_dict(),
            missing={},
        )
        if not secret:
            return {}, None
        metadata = secret.get("metadata") or {}
        if (metadata.get("labels") or {}).get("app.kubernetes.io/managed-by") != MANAGED_BY:
            raise StateBackendError(
                "%s exists but is not managed by %s (label app.kubernetes.io/managed-by); "
                "choose another name" % (self.where, MANAGED_BY)
            )
        return decode_data(secret.get("data"), self.where), metadata.get("resourceVersion")

    def _body(self, payload, resource_version):
        metadata = {
            "name": self.name,
            "namespace": self.namespace,
            "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
            "annotations": {FORMAT_ANNOTATION: str(STATE_FORMAT)},
        }
        if resource_version:
            metadata["resourceVersion"] = resource_version
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": metadata,
            "data": encode_data(payload),
        }

    def _refuse_renumbering(self, current, update):
        problems = overwrite_problems(
            load_state(current[STATE_KEY], "%s key %s" % (self.where, STATE_KEY)),
            load_state(update[STATE_KEY], "state to store"),
        )
        if problems:
            raise StateBackendError(
                "refusing to overwrite the state in %s: the new state was not planned from "
                "it (%s). Pull the state first, or set force to replace it."
                % (self.where, "; ".join(problems))
            )

    def write(self, update, check_mode=False, force=False, create_namespace=True):
        """Merge ``update`` (Secret key -> text) into the Secret.

        Returns dict(changed, created, changed_keys). Refuses (unless ``force``) a state
        that renumbers clusters of the stored state; see ``overwrite_problems``.
        """
        current, resource_version = self.read()
        if STATE_KEY in update and STATE_KEY in current and not force:
            self._refuse_renumbering(current, update)
        merged = dict(current)
        merged.update(update)
        changed_keys = sorted(k for k in update if current.get(k) != update[k])
        result = {"changed": bool(changed_keys), "created": resource_version is None}
        result["changed_keys"] = changed_keys
        if not changed_keys or check_mode:
            return result
        body = self._body(merged, resource_version)
        if resource_version is None:
            self._create(body, create_namespace)
        else:
            self._call(
                "writing " + self.where,
                lambda: self.client.replace(
                    self._secrets(), body, name=self.name, namespace=self.namespace
                ),
            )
        return result

    def _create(self, body, create_namespace):
        def create():
            return self.client.create(self._secrets(), body, namespace=self.namespace)

        if self._call("writing " + self.where, create, missing=_NOT_FOUND) is not _NOT_FOUND:
            return
        if not create_namespace:
            raise StateBackendError(
                "namespace %r does not exist in the management cluster; create it or "
                "allow create_namespace" % self.namespace
            )
        namespace = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
            },
        }
        self._call(
            "creating namespace %s" % self.namespace,
            lambda: self.client.create(self.client.resource("Namespace", "v1"), namespace),
        )
        self._call("writing " + self.where, create)


# ---------------------------------------------------------------------------
# Local files (0600, atomic, changed only when the bytes differ)
# ---------------------------------------------------------------------------


def read_text(path, what):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise StateBackendError("cannot read %s %s: %s" % (what, path, exc))


def write_private_file(path, text, check_mode=False):
    """Write ``text`` to ``path`` with mode 0600; return True when something changed."""
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            same = handle.read() == data
        mode_ok = (os.stat(path).st_mode & 0o777) == 0o600
    except (IOError, OSError):
        same, mode_ok = False, False
    if same and mode_ok:
        return False
    if check_mode:
        return True
    directory = os.path.dirname(os.path.abspath(path))
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        fd, tmp = tempfile.mkstemp(prefix=".edgemesh-", dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except (IOError, OSError) as exc:
        raise StateBackendError("cannot write %s: %s" % (path, exc))
    return True


# ---------------------------------------------------------------------------
# Recovery from live cilium-config data
# ---------------------------------------------------------------------------


def configmap_data(obj, where):
    """Accept a whole ConfigMap (as `kubectl get -o yaml` or k8s_info return it) or its data."""
    if not isinstance(obj, dict):
        raise StateBackendError(
            "%s: expected a ConfigMap mapping, got %s" % (where, type(obj).__name__)
        )
    if obj.get("kind") == "ConfigMap" or ("data" in obj and "metadata" in obj):
        name = (obj.get("metadata") or {}).get("name")
        if name and name != CILIUM_CONFIG_NAME:
            raise StateBackendError(
                "%s: ConfigMap is %r, expected %r" % (where, name, CILIUM_CONFIG_NAME)
            )
        obj = obj.get("data") or {}
    return dict((str(k), "" if v is None else str(v)) for k, v in obj.items())


def _networks(value, where):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StateBackendError("%s: expected a list of CIDR strings, got %r" % (where, value))
    nets = []
    for text in value:
        try:
            nets.append(ipaddress.ip_network(text, strict=True))
        except ValueError as exc:
            raise StateBackendError("%s: %r is not a network CIDR (%s)" % (where, text, exc))
    return nets


def _split_cidrs(text):
    return [part for part in re.split(r"[\s,]+", text.strip()) if part]


def parse_cilium_config(obj, where="cilium-config"):
    """-> dict(name, id, max_connected_clusters, ipam, pod_cidrs (or None), mask sizes).

    Reads the keys the Cilium Helm chart renders into ``cilium-config`` (1.18 to 1.20):
    ``cluster-name``, ``cluster-id``, ``max-connected-clusters``, ``ipam``,
    ``enable-ipv4``/``enable-ipv6`` and ``cluster-pool-ipv{4,6}-cidr`` /
    ``cluster-pool-ipv{4,6}-mask-size``.
    """
    data = configmap_data(obj, where)
    name = data.get("cluster-name", "").strip()
    if not name:
        raise StateBackendError("%s: key 'cluster-name' is missing" % where)
    if name == "default":
        raise StateBackendError(
            "%s: cluster-name is the chart default 'default'; this cluster was never given a "
            "mesh identity, so there is nothing to recover" % where
        )
    if not mesh_rules.is_cluster_name(name):
        raise StateBackendError(
            "%s: cluster-name %r is not a valid Cilium cluster name; allowed: %s"
            % (where, name, mesh_rules.CLUSTER_NAME_ALLOWED)
        )
    at = "%s (cluster %s)" % (where, name)
    mcc_text = data.get("max-connected-clusters", "255").strip() or "255"
    try:
        mcc = int(mcc_text)
    except ValueError:
        mcc = None
    if mcc not in mesh_rules.MAX_CONNECTED_CLUSTERS:
        raise StateBackendError(
            "%s: max-connected-clusters %r is not %s"
            % (at, mcc_text, " or ".join(str(v) for v in mesh_rules.MAX_CONNECTED_CLUSTERS))
        )
    id_text = data.get("cluster-id", "").strip()
    try:
        cid = int(id_text)
    except ValueError:
        raise StateBackendError("%s: cluster-id %r is not an integer" % (at, id_text))
    if cid == 0:
        raise StateBackendError(
            "%s: cluster-id is 0, the chart default; the cluster has no mesh identity to "
            "recover (pin edgemesh_cluster_id in the inventory or let the planner assign one)" % at
        )
    if not 1 <= cid <= mcc:
        raise StateBackendError("%s: cluster-id %d is outside 1..%d" % (at, cid, mcc))
    ipam = data.get("ipam", "cluster-pool").strip() or "cluster-pool"
    result = {
        "name": name,
        "id": cid,
        "max_connected_clusters": mcc,
        "ipam": ipam,
        "pod_cidrs": None,
        "mask_sizes": {},
    }
    if ipam != "cluster-pool":
        return result
    pod_cidrs = []
    families = [("4", data.get("enable-ipv4", "true").strip().lower() in _TRUE)]
    families.append(("6", data.get("enable-ipv6", "false").strip().lower() in _TRUE))
    for family, enabled in families:
        if not enabled:
            continue
        key = "cluster-pool-ipv%s-cidr" % family
        cidrs = _split_cidrs(data.get(key, ""))
        if not cidrs:
            raise StateBackendError("%s: IPv%s is enabled but %r is missing" % (at, family, key))
        nets = _networks(cidrs, "%s: %s" % (at, key))
        mask_key = "cluster-pool-ipv%s-mask-size" % family
        mask_text = data.get(mask_key, "").strip()
        if mask_text:
            try:
                mask = int(mask_text)
            except ValueError:
                raise StateBackendError("%s: %s %r is not an integer" % (at, mask_key, mask_text))
            for net in nets:
                if mask < net.prefixlen or mask > net.max_prefixlen:
                    raise StateBackendError(
                        "%s: %s %d does not fit inside %s" % (at, mask_key, mask, net)
                    )
            result["mask_sizes"]["ipv" + family] = mask
        pod_cidrs.extend(str(net) for net in nets)
    if not pod_cidrs:
        raise StateBackendError("%s: neither IPv4 nor IPv6 is enabled" % at)
    result["pod_cidrs"] = pod_cidrs
    return result


def _service_cidrs(facts, prefix_v4, prefix_v6, at):
    if facts.get("service_cidrs"):
        return [str(n) for n in _networks(list(facts["service_cidrs"]), "%s: service_cidrs" % at)]
    ips = facts.get("kubernetes_service_ips") or []
    if not ips:
        return None
    cidrs = []
    for text in ips:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise StateBackendError("%s: kubernetes Service IP %r is not an address" % (at, text))
        prefix = prefix_v4 if address.version == 4 else prefix_v6
        if prefix is None:
            return None
        cidrs.append(str(ipaddress.ip_network("%s/%d" % (address, prefix), strict=False)))
    return cidrs


def state_from_cluster_facts(facts_list, service_cidr_prefix=None, service_cidr_prefix_v6=None):
    """Recover a planner state from facts read off live clusters.

    ``facts_list`` items: ``cilium_config`` (ConfigMap or its data, required), and
    optionally ``source`` (a label for messages, e.g. the kubeconfig context),
    ``pod_cidrs`` (needed when Cilium does not use cluster-pool IPAM),
    ``service_cidrs`` or ``kubernetes_service_ips`` (the ClusterIP(s) of
    ``default/kubernetes``: the first address of each service CIDR, widened to
    ``service_cidr_prefix[_v6]``), ``clustermesh_nodeport`` (nodePort of the
    ``clustermesh-apiserver`` Service).

    Returns dict(state=..., missing={cluster: [keys it could not recover]}).
    """
    if not isinstance(facts_list, list) or not facts_list:
        raise StateBackendError("recover: give at least one cluster's cilium-config")
    clusters = {}
    missing = {}
    mcc = None
    for index, facts in enumerate(facts_list):
        if not isinstance(facts, dict) or "cilium_config" not in facts:
            raise StateBackendError("recover: item %d has no cilium_config" % index)
        where = "cilium-config of %s" % (facts.get("source") or "item %d" % index)
        parsed = parse_cilium_config(facts["cilium_config"], where)
        name = parsed["name"]
        at = "%s (cluster %s)" % (where, name)
        if name in clusters:
            raise StateBackendError("%s: cluster name %r is recovered twice" % (at, name))
        if mcc is None:
            mcc = parsed["max_connected_clusters"]
        elif mcc != parsed["max_connected_clusters"]:
            raise StateBackendError(
                "%s: max-connected-clusters %d differs from %d of the other clusters; a mesh "
                "needs one value" % (at, parsed["max_connected_clusters"], mcc)
            )
        entry = {"id": parsed["id"], "active": True}
        pod_cidrs = parsed["pod_cidrs"]
        if pod_cidrs is None:
            if not facts.get("pod_cidrs"):
                raise StateBackendError(
                    "%s: ipam mode %r keeps pod CIDRs outside cilium-config; give pod_cidrs for "
                    "this cluster" % (at, parsed["ipam"])
                )
            pod_cidrs = [str(n) for n in _networks(list(facts["pod_cidrs"]), "%s: pod_cidrs" % at)]
        entry["pod_cidrs"] = pod_cidrs
        gaps = []
        service = _service_cidrs(facts, service_cidr_prefix, service_cidr_prefix_v6, at)
        if service is None:
            gaps.append("service_cidrs")
        else:
            entry["service_cidrs"] = service
        port = facts.get("clustermesh_nodeport")
        if port in (None, ""):
            gaps.append("clustermesh_nodeport")
        else:
            try:
                entry["clustermesh_nodeport"] = int(port)
            except (TypeError, ValueError):
                raise StateBackendError("%s: clustermesh_nodeport %r is not a port" % (at, port))
        if gaps:
            missing[name] = gaps
        clusters[name] = entry
    state = {"format": STATE_FORMAT, "max_connected_clusters": mcc, "clusters": clusters}
    return {"state": checked_state(state, "recovered state"), "missing": missing}


def merge_states(base, recovered, prefer="fail"):
    """Merge a recovered state into a stored one.

    Clusters only in one side are kept. For a cluster in both, a differing ID or pod CIDR
    list raises (``prefer='fail'``) or takes the live value (``prefer='live'``: the running
    cluster is the truth). Other keys missing from the recovered entry come from ``base``.
    """
    if base is None:
        return copy.deepcopy(recovered)
    base = checked_state(base, "stored state")
    if base["max_connected_clusters"] != recovered["max_connected_clusters"]:
        raise StateBackendError(
            "stored state has max_connected_clusters %d but the live clusters run %d"
            % (base["max_connected_clusters"], recovered["max_connected_clusters"])
        )
    merged = copy.deepcopy(base)
    for name, live in sorted(recovered["clusters"].items()):
        stored = merged["clusters"].get(name)
        if stored is None:
            merged["clusters"][name] = copy.deepcopy(live)
            continue
        for key in ("id", "pod_cidrs", "service_cidrs", "clustermesh_nodeport"):
            if key not in live:
                continue
            if key in stored and stored[key] != live[key] and prefer != "live":
                raise StateBackendError(
                    "cluster %r: stored %s %r differs from the live value %r; fix the stored "
                    "state or recover with prefer=live" % (name, key, stored[key], live[key])
                )
            stored[key] = copy.deepcopy(live[key])
        stored["active"] = True
    return checked_state(merged, "merged state")


# ---------------------------------------------------------------------------
# Live API access (thin; everything above is testable without a cluster)
# ---------------------------------------------------------------------------


def _kubeconfig_paths(kubeconfig):
    return [os.path.expanduser(p) for p in kubeconfig.split(os.pathsep) if p]


def _where_auth(auth):
    kubeconfig = auth.get("kubeconfig")
    if isinstance(kubeconfig, dict):
        source = "the kubeconfig given as a mapping"
    elif kubeconfig:
        source = "kubeconfig %s" % kubeconfig
    elif auth.get("host"):
        source = "host %s" % auth["host"]
    else:
        source = "the default kubeconfig (KUBECONFIG or ~/.kube/config) or in-cluster config"
    if auth.get("context"):
        return "context %r from %s" % (auth["context"], source)
    return source


def connect(auth, what):
    """kubernetes.core's client (``K8SClient``) for the options of ``k8s_auth_options``.

    ``auth`` holds those options (None values are left to kubernetes.core's defaults and
    K8S_AUTH_* environment variables). kubernetes.core discovers the API while it connects,
    so ``what`` names the step that needed the client ("reading Secret ns/name") in the
    message of an unreachable server.
    """
    if not HAS_KUBERNETES or not HAS_K8S_CORE:
        raise StateBackendError(missing_kubernetes_message())
    auth = dict((k, v) for k, v in (auth or {}).items() if v is not None)
    kubeconfig = auth.get("kubeconfig")
    if isinstance(kubeconfig, str):
        for path in _kubeconfig_paths(kubeconfig):
            if not os.path.isfile(path):
                raise StateBackendError("kubeconfig %r does not exist" % (path,))
    try:
        return get_api_client(**auth)
    except CoreException as exc:
        raise StateBackendError("cannot load %s: %s" % (_where_auth(auth), exc))
    except ApiException as exc:
        raise api_error("%s: discovering the API" % what, exc)
    except (ConnectionError, TimeoutError, socket.gaierror) as exc:
        raise unreachable(what, exc)
    except Exception as exc:  # urllib3's errors, YAML errors of a broken kubeconfig, ...
        if type(exc).__module__.partition(".")[0] == "urllib3":
            raise unreachable(what, exc)
        raise StateBackendError(
            "cannot load %s: %s: %s" % (_where_auth(auth), type(exc).__name__, exc)
        )


def kubeconfig_contexts(kubeconfig):
    """Names of the contexts of a kubeconfig (a path, paths joined by ':', a mapping, or
    None for KUBECONFIG / ~/.kube/config), sorted."""
    if not HAS_KUBERNETES:
        raise StateBackendError(missing_kubernetes_message())
    if isinstance(kubeconfig, dict):
        contexts = kubeconfig.get("contexts") or []
    else:
        for path in _kubeconfig_paths(kubeconfig or ""):
            if not os.path.isfile(path):
                raise StateBackendError("kubeconfig %r does not exist" % (path,))
        try:
            contexts, dummy = k8s_config.list_kube_config_contexts(config_file=kubeconfig)
        except Exception as exc:  # ConfigException, YAML errors, ...
            raise StateBackendError(
                "cannot read kubeconfig %s: %s" % (kubeconfig or "(default)", exc)
            )
    return sorted(c.get("name") for c in contexts or [] if isinstance(c, dict) and c.get("name"))


def _read_object(client, kind, namespace, name, source):
    """The object as a mapping, or None when it does not exist."""
    what = "%s: reading %s %s/%s" % (source, kind, namespace, name)
    try:
        return client.get(client.resource(kind, "v1"), name=name, namespace=namespace).to_dict()
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise api_error(what, exc)
    except Exception as exc:  # urllib3/socket errors
        raise unreachable(what, exc)


def read_cluster_facts(client, source, cilium_namespace="kube-system"):
    """Read what recovery needs from one live cluster (cilium-config and two Services)."""
    cm = _read_object(client, "ConfigMap", cilium_namespace, CILIUM_CONFIG_NAME, source)
    if cm is None:
        raise StateBackendError(
            "%s: ConfigMap %s/%s not found; is Cilium installed in that namespace?"
            % (source, cilium_namespace, CILIUM_CONFIG_NAME)
        )
    facts = {"source": source, "cilium_config": dict(cm.get("data") or {})}
    svc = _read_object(client, "Service", "default", "kubernetes", source)
    spec = (svc or {}).get("spec") or {}
    ips = spec.get("clusterIPs") or [spec.get("clusterIP")]
    if svc is not None and any(ips):
        facts["kubernetes_service_ips"] = [ip for ip in ips if ip]
    mesh = _read_object(client, "Service", cilium_namespace, CLUSTERMESH_SERVICE_NAME, source)
    ports = [p.get("nodePort") for p in ((mesh or {}).get("spec") or {}).get("ports") or []]
    ports = [p for p in ports if p]
    if ports:
        facts["clustermesh_nodeport"] = ports[0]
    return facts

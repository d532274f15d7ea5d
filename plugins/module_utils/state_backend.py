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

Everything but ``core_v1_from_kubeconfig`` and the ``read_cluster_facts`` helper is pure
Python and takes a CoreV1Api-like object, so the logic is unit tested without an API server.
Address checks use the standard library's ``ipaddress``: only parsing, containment and
overlap are needed here, and the module must work where netaddr is not installed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import ipaddress
import json
import os
import re
import tempfile

try:
    from kubernetes import client as k8s_client
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


STATE_FORMAT = 1
STATE_KEY = "mesh-state.json"
CA_CERT_KEY = "mesh-ca.crt"
CA_KEY_KEY = "mesh-ca.key"
RESERVED_KEYS = (STATE_KEY, CA_CERT_KEY, CA_KEY_KEY)
MANAGED_BY = "edgemesh.cluster_mesh"
FORMAT_ANNOTATION = "edgemesh.io/state-format"
CILIUM_CONFIG_NAME = "cilium-config"
CLUSTERMESH_SERVICE_NAME = "clustermesh-apiserver"
ALLOWED_MAX_CONNECTED = (255, 511)
# Per-cluster files are stored under "<file name>.<cluster>": neither part may hold a dot.
_FILE_NAME_RE = re.compile(r"^[a-z0-9][-_a-z0-9]*$")
_CLUSTER_KEY_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CLUSTER_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$")
_TRUE = ("true", "1", "yes")


class StateBackendError(Exception):
    """A clear, user-facing error of the state backend (never a traceback)."""


def missing_kubernetes_message():
    return (
        "the Python library 'kubernetes' is required for the Kubernetes state backend; "
        "install it (pip install -r requirements.txt) or use the collection's execution "
        "environment (import error: %s)" % KUBERNETES_IMPORT_ERROR
    )


def unreachable(what, exc):
    return StateBackendError(
        "%s: the API server could not be reached (%s: %s)" % (what, type(exc).__name__, exc)
    )


# ---------------------------------------------------------------------------
# The planner's state: validation and byte-stable serialisation
# ---------------------------------------------------------------------------


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


def validate_state(state, where="state"):
    """Check a state dict against the contract; raise StateBackendError naming the fault."""
    if not isinstance(state, dict):
        raise StateBackendError("%s: expected a mapping, got %s" % (where, type(state).__name__))
    if state.get("format") != STATE_FORMAT:
        raise StateBackendError(
            "%s: unsupported format %r (this collection reads format %d)"
            % (where, state.get("format"), STATE_FORMAT)
        )
    mcc = state.get("max_connected_clusters")
    if mcc not in ALLOWED_MAX_CONNECTED:
        raise StateBackendError(
            "%s: max_connected_clusters must be 255 or 511, got %r" % (where, mcc)
        )
    clusters = state.get("clusters")
    if not isinstance(clusters, dict):
        raise StateBackendError("%s: 'clusters' must be a mapping of cluster name to entry" % where)
    seen_ids = {}
    seen_nets = []
    for name in sorted(clusters):
        entry = clusters[name]
        at = "%s: cluster %r" % (where, name)
        if not isinstance(entry, dict):
            raise StateBackendError("%s: entry must be a mapping" % at)
        cid = entry.get("id")
        if isinstance(cid, bool) or not isinstance(cid, int) or not 1 <= cid <= mcc:
            raise StateBackendError("%s: id must be an integer 1..%d, got %r" % (at, mcc, cid))
        if cid in seen_ids:
            raise StateBackendError(
                "%s: id %d is also held by cluster %r" % (at, cid, seen_ids[cid])
            )
        seen_ids[cid] = name
        for key in ("pod_cidrs", "service_cidrs"):
            if key not in entry:
                continue
            nets = _networks(entry[key], "%s: %s" % (at, key))
            families = [net.version for net in nets]
            if len(set(families)) != len(families):
                raise StateBackendError(
                    "%s: %s %s holds two CIDRs of one address family; the planner's state "
                    "holds one per family" % (at, key, " ".join(str(n) for n in nets))
                )
            for net in nets:
                for other_name, other in seen_nets:
                    if net.version == other.version and net.overlaps(other):
                        raise StateBackendError(
                            "%s: %s %s overlaps %s of cluster %r"
                            % (at, key, net, other, other_name)
                        )
                seen_nets.append((name, net))
        port = entry.get("clustermesh_nodeport")
        if port is not None and (
            isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
        ):
            raise StateBackendError("%s: clustermesh_nodeport must be a port, got %r" % (at, port))
        if "active" in entry and not isinstance(entry["active"], bool):
            raise StateBackendError("%s: active must be true or false" % at)
    return state


def dump_state(state):
    """Byte-stable JSON text of a state (sorted keys, two-space indent, final newline)."""
    return json.dumps(state, sort_keys=True, indent=2) + "\n"


def load_state(text, where="state"):
    try:
        state = json.loads(text)
    except ValueError as exc:
        raise StateBackendError("%s: not valid JSON (%s)" % (where, exc))
    return validate_state(state, where)


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
    return bool(_CLUSTER_KEY_RE.match(cluster or ""))


def cluster_file_key(name, cluster):
    """Secret key of a per-cluster file such as ``kubeconfig.eu-core`` or ``k3s-token.eu-core``."""
    if not _FILE_NAME_RE.match(name or ""):
        raise StateBackendError(
            "file name %r cannot be part of a Secret key (lowercase letters, digits, '-', '_')"
            % (name,)
        )
    if not _CLUSTER_KEY_RE.match(cluster or ""):
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
        payload[STATE_KEY] = dump_state(validate_state(state, "state to store"))
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
        if dot and _FILE_NAME_RE.match(name) and _CLUSTER_KEY_RE.match(cluster):
            parts["cluster_files"][(name, cluster)] = text
    return parts


class SecretStateBackend:
    """The state, the mesh CA and per-cluster files (kubeconfigs, k3s tokens) in one Secret.

    ``core_v1`` is a ``kubernetes.client.CoreV1Api`` (or an object with the same
    read/create/replace methods). Writes merge: keys not given are kept. A write
    replaces with the ``resourceVersion`` that was read, so a concurrent writer makes it
    fail with a clear message instead of losing an update.
    """

    def __init__(self, core_v1, namespace, name):
        if not namespace or not name:
            raise StateBackendError("the state Secret needs a namespace and a name")
        self.core_v1 = core_v1
        self.namespace = namespace
        self.name = name

    @property
    def where(self):
        return "Secret %s/%s" % (self.namespace, self.name)

    def _api_error(self, verb, exc):
        return StateBackendError(
            "%s %s failed: HTTP %s %s" % (verb, self.where, exc.status, exc.reason or "")
        )

    def read(self):
        """-> (payload dict, resourceVersion); ({}, None) when the Secret does not exist."""
        try:
            secret = self.core_v1.read_namespaced_secret(self.name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return {}, None
            raise self._api_error("reading", exc)
        except Exception as exc:  # urllib3/socket errors: the API server is not reachable
            raise unreachable("reading " + self.where, exc)
        labels = (secret.metadata.labels or {}) if secret.metadata else {}
        if labels.get("app.kubernetes.io/managed-by") != MANAGED_BY:
            raise StateBackendError(
                "%s exists but is not managed by %s (label app.kubernetes.io/managed-by); "
                "choose another name" % (self.where, MANAGED_BY)
            )
        return decode_data(secret.data, self.where), secret.metadata.resource_version

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

    def write(self, update, check_mode=False, force=False, create_namespace=True):
        """Merge ``update`` (Secret key -> text) into the Secret.

        Returns dict(changed, created, changed_keys). Refuses (unless ``force``) a state
        that renumbers clusters of the stored state; see ``overwrite_problems``.
        """
        current, resource_version = self.read()
        if STATE_KEY in update and STATE_KEY in current and not force:
            problems = overwrite_problems(
                load_state(current[STATE_KEY], self.where), json.loads(update[STATE_KEY])
            )
            if problems:
                raise StateBackendError(
                    "refusing to overwrite the state in %s: the new state was not planned from "
                    "it (%s). Pull the state first, or set force to replace it."
                    % (self.where, "; ".join(problems))
                )
        merged = dict(current)
        merged.update(update)
        changed_keys = sorted(k for k in update if current.get(k) != update[k])
        result = {"changed": bool(changed_keys), "created": resource_version is None}
        result["changed_keys"] = changed_keys
        if not changed_keys or check_mode:
            return result
        body = self._body(merged, resource_version)
        try:
            if resource_version is None:
                self._create(body, create_namespace)
            else:
                self.core_v1.replace_namespaced_secret(self.name, self.namespace, body)
        except StateBackendError:
            raise
        except ApiException as exc:
            if exc.status == 409:
                raise StateBackendError(
                    "%s was changed by someone else while this job ran (HTTP 409 conflict); "
                    "run the job again" % self.where
                )
            raise self._api_error("writing", exc)
        except Exception as exc:  # urllib3/socket errors
            raise unreachable("writing " + self.where, exc)
        return result

    def _create(self, body, create_namespace):
        try:
            self.core_v1.create_namespaced_secret(self.namespace, body)
            return
        except ApiException as exc:
            if exc.status != 404 or not create_namespace:
                if exc.status == 404:
                    raise StateBackendError(
                        "namespace %r does not exist in the management cluster; create it or "
                        "allow create_namespace" % self.namespace
                    )
                raise
        self.core_v1.create_namespace(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": self.namespace,
                    "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
                },
            }
        )
        self.core_v1.create_namespaced_secret(self.namespace, body)


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
    if not _CLUSTER_NAME_RE.match(name):
        raise StateBackendError(
            "%s: cluster-name %r is not a valid Cilium cluster name" % (where, name)
        )
    at = "%s (cluster %s)" % (where, name)
    mcc_text = data.get("max-connected-clusters", "255").strip() or "255"
    try:
        mcc = int(mcc_text)
    except ValueError:
        mcc = None
    if mcc not in ALLOWED_MAX_CONNECTED:
        raise StateBackendError("%s: max-connected-clusters %r is not 255 or 511" % (at, mcc_text))
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
    validate_state(state, "recovered state")
    return {"state": state, "missing": missing}


def merge_states(base, recovered, prefer="fail"):
    """Merge a recovered state into a stored one.

    Clusters only in one side are kept. For a cluster in both, a differing ID or pod CIDR
    list raises (``prefer='fail'``) or takes the live value (``prefer='live'``: the running
    cluster is the truth). Other keys missing from the recovered entry come from ``base``.
    """
    if base is None:
        return copy.deepcopy(recovered)
    validate_state(base, "stored state")
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
    validate_state(merged, "merged state")
    return merged


# ---------------------------------------------------------------------------
# Live API access (thin; everything above is testable without a cluster)
# ---------------------------------------------------------------------------


def core_v1_from_kubeconfig(kubeconfig, context=None):
    if not HAS_KUBERNETES:
        raise StateBackendError(missing_kubernetes_message())
    if not kubeconfig or not os.path.isfile(kubeconfig):
        raise StateBackendError("kubeconfig %r does not exist" % (kubeconfig,))
    try:
        api_client = k8s_config.new_client_from_config(config_file=kubeconfig, context=context)
    except Exception as exc:  # the library raises several types for one bad file
        raise StateBackendError(
            "cannot load context %r from kubeconfig %s: %s" % (context, kubeconfig, exc)
        )
    return k8s_client.CoreV1Api(api_client)


def kubeconfig_contexts(kubeconfig):
    """Names of the contexts in a kubeconfig file (sorted)."""
    if not HAS_KUBERNETES:
        raise StateBackendError(missing_kubernetes_message())
    if not kubeconfig or not os.path.isfile(kubeconfig):
        raise StateBackendError("kubeconfig %r does not exist" % (kubeconfig,))
    try:
        contexts, dummy = k8s_config.list_kube_config_contexts(config_file=kubeconfig)
    except Exception as exc:  # ConfigException, YAML errors, ...
        raise StateBackendError("cannot read kubeconfig %s: %s" % (kubeconfig, exc))
    return sorted(c.get("name") for c in contexts or [] if c.get("name"))


def read_cluster_facts(core_v1, source, cilium_namespace="kube-system"):
    """Read what recovery needs from one live cluster (cilium-config and two Services)."""

    def _read(call, what):
        try:
            return call()
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise StateBackendError(
                "%s: reading %s failed: HTTP %s %s" % (source, what, exc.status, exc.reason or "")
            )
        except Exception as exc:  # urllib3/socket errors
            raise unreachable("%s: reading %s" % (source, what), exc)

    cm = _read(
        lambda: core_v1.read_namespaced_config_map(CILIUM_CONFIG_NAME, cilium_namespace),
        "ConfigMap %s/%s" % (cilium_namespace, CILIUM_CONFIG_NAME),
    )
    if cm is None:
        raise StateBackendError(
            "%s: ConfigMap %s/%s not found; is Cilium installed in that namespace?"
            % (source, cilium_namespace, CILIUM_CONFIG_NAME)
        )
    facts = {"source": source, "cilium_config": dict(cm.data or {})}
    svc = _read(
        lambda: core_v1.read_namespaced_service("kubernetes", "default"),
        "Service default/kubernetes",
    )
    if svc is not None and svc.spec is not None:
        # cluster_ips in newer kubernetes clients (pydantic models), cluster_i_ps in older ones
        ips = getattr(svc.spec, "cluster_ips", None) or getattr(svc.spec, "cluster_i_ps", None)
        facts["kubernetes_service_ips"] = list(ips or [svc.spec.cluster_ip])
    mesh = _read(
        lambda: core_v1.read_namespaced_service(CLUSTERMESH_SERVICE_NAME, cilium_namespace),
        "Service %s/%s" % (cilium_namespace, CLUSTERMESH_SERVICE_NAME),
    )
    if mesh is not None and mesh.spec is not None:
        ports = [p.node_port for p in mesh.spec.ports or [] if p.node_port]
        if ports:
            facts["clustermesh_nodeport"] = ports[0]
    return facts

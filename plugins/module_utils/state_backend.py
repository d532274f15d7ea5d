# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""State that outlives an execution-environment container.

Where the planner's state lives between jobs (docs/awx.md, "How the state survives"):

* a store of text keys - the state JSON, the plan, the mesh CA and per-cluster files a later
  job needs (the kubeconfigs and k3s join tokens of bootstrapped clusters). ``StateStore``
  is the one core: payload checks, the renumbering refusal, plan/state agreement and the
  optimistic concurrency (apply only what this job changed since it pulled, compare and
  swap, re-read and retry). Two backends under it: a Kubernetes Secret in a management
  cluster (``SecretStateBackend``) and one JSON file, e.g. on a volume every execution
  environment mounts (``FileStateBackend``);
* the live ``cilium-config`` ConfigMaps of clusters that already run Cilium
  (``state_from_cluster_facts``), from which cluster IDs and pod CIDRs are recovered.

The state itself is checked and written only by ``mesh_state_schema`` (``parse_state``,
``dump_state``); the plan's shape by ``plan_types.Plan.from_dict`` and the state a plan
implies by ``mesh_planner.state_from_plan``. The API is reached through kubernetes.core's
client (``connect`` calls ``kubernetes.core.plugins.module_utils.k8s.client.get_api_client``
with the options of the ``kubernetes.core.k8s_auth_options`` doc fragment); everything else
takes that client and is pure Python, so it is unit tested against a stand-in for the API
server. Addresses read from ``cilium-config`` are parsed with the standard library's
``ipaddress``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import errno
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import socket
import tempfile
import time

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (
    state_from_plan,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_state_schema import (
    STATE_FORMAT,
    StateError,
    dump_state,
    parse_state,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.plan_types import (
    Plan,
    PlanShapeError,
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
PLAN_KEY = "plan.json"
CA_CERT_KEY = "mesh-ca.crt"
CA_KEY_KEY = "mesh-ca.key"
RESERVED_KEYS = (STATE_KEY, PLAN_KEY, CA_CERT_KEY, CA_KEY_KEY)
MANAGED_BY = "edgemesh.cluster_mesh"
FORMAT_ANNOTATION = "edgemesh.io/state-format"
CILIUM_CONFIG_NAME = "cilium-config"
CLUSTERMESH_SERVICE_NAME = "clustermesh-apiserver"
# The file store's and the pull record's own format (not the state's, STATE_FORMAT).
STORE_FORMAT = 1
# A write re-reads the store and tries again this often when another writer got in between
# its read and its compare-and-swap (HTTP 409, a newer file version).
MAX_WRITE_ATTEMPTS = 5
# How long a write waits for the file store's lock (the critical section takes milliseconds).
LOCK_TIMEOUT = 60.0
# Per-cluster files are stored under "<file name>.<cluster>": neither part may hold a dot.
_FILE_NAME_RE = re.compile(r"^[a-z0-9][-_a-z0-9]*$")
_TRUE = ("true", "1", "yes")
_NOT_FOUND = object()


class StateBackendError(Exception):
    """A clear, user-facing error of the state backend (never a traceback)."""


class VersionConflict(Exception):
    """The store changed between this write's read and its compare-and-swap (internal)."""


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
# The plan: its shape (plan_types) and its agreement with the state
# ---------------------------------------------------------------------------


def load_plan(text, where="plan"):
    """The plan mapping of ``plan.json`` text; StateBackendError naming ``where`` if it is not
    the plan playbooks/plan.yml writes."""
    if not isinstance(text, str) or not text.strip():
        raise StateBackendError(
            "%s: empty; allowed: the plan.json playbooks/plan.yml wrote" % where
        )
    try:
        plan = json.loads(text)
    except ValueError as exc:
        raise StateBackendError(
            "%s: not valid JSON (%s); allowed: the plan.json playbooks/plan.yml wrote"
            % (where, exc)
        )
    try:
        Plan.from_dict(plan)
    except PlanShapeError as exc:
        raise StateBackendError("%s: %s" % (where, exc))
    return plan


def plan_state_problems(plan, state):
    """Where a plan (checked by ``load_plan``) and a state (canonical mapping) disagree: the
    state the plan implies (``mesh_planner.state_from_plan``, what plan.yml writes beside
    it) against ``state``, per cluster and key. Empty when they agree."""
    try:
        implied = checked_state(state_from_plan(plan), "the state plan.json implies")
    except (KeyError, TypeError, AttributeError) as exc:
        return ["plan.json lacks %s" % exc]
    except StateBackendError as exc:
        return [str(exc)]
    problems = []
    if implied["max_connected_clusters"] != state.get("max_connected_clusters"):
        problems.append(
            "max_connected_clusters is %r in the plan, %r in the state"
            % (implied["max_connected_clusters"], state.get("max_connected_clusters"))
        )
    planned, stored = implied["clusters"], state.get("clusters", {})
    for name in sorted(set(planned) | set(stored)):
        if name not in stored:
            problems.append("cluster %r is in the plan but not in the state" % name)
        elif name not in planned:
            problems.append("cluster %r is in the state but not in the plan" % name)
        else:
            for key in sorted(set(planned[name]) | set(stored[name])):
                if planned[name].get(key) != stored[name].get(key):
                    problems.append(
                        "cluster %r: %s is %r in the plan, %r in the state"
                        % (name, key, planned[name].get(key), stored[name].get(key))
                    )
    return problems


def check_plan_agrees(plan_text, state_text, where):
    """Refuse a plan.json that does not match mesh-state.json (both texts); -> the plan."""
    plan = load_plan(plan_text, "%s key %s" % (where, PLAN_KEY))
    if state_text is None:
        raise StateBackendError(
            "%s: %s without %s; allowed: both, as one plan job wrote them"
            % (where, PLAN_KEY, STATE_KEY)
        )
    problems = plan_state_problems(plan, load_state(state_text, "%s key %s" % (where, STATE_KEY)))
    if problems:
        shown = problems[:5] + (["and %d more" % (len(problems) - 5)] if len(problems) > 5 else [])
        raise StateBackendError(
            "%s: %s does not agree with %s (%s); allowed: both from one plan job (launch it "
            "again)" % (where, PLAN_KEY, STATE_KEY, "; ".join(shown))
        )
    return plan


INVENTORY_SCOPES = ("nodes", "clusters", "mesh")


def inventory_problems(plan, hosts, scope="nodes"):
    """Why a job that uses a stored ``plan`` must not run on an inventory holding ``hosts``
    (the hosts under edgemesh_clusters); empty when it may.

    Under AWX job slicing each slice's inventory holds only its share of the hosts, in the
    same groups. Every ``scope`` needs each host to be a node of the plan (else the
    inventory changed since the plan job ran). ``clusters`` (bootstrap) needs each cluster
    wholly in or wholly out of this inventory: its nodes join one another. ``mesh`` (cilium,
    verify) needs every node of the plan: the job acts on every cluster, and two slices
    would do it twice at once.
    """
    if scope not in INVENTORY_SCOPES:
        raise StateBackendError(
            "inventory scope %r is not allowed; allowed: %s" % (scope, ", ".join(INVENTORY_SCOPES))
        )
    here = set(hosts)
    nodes = {}
    for cluster in plan["clusters"]:
        nodes[cluster["name"]] = [node["host"] for node in cluster["nodes"]]
    planned = set(host for members in nodes.values() for host in members)
    problems = []
    unknown = sorted(here - planned)
    if unknown:
        problems.append(
            "%s %s in the inventory but not in the plan: the inventory changed since the plan "
            "job ran; launch the edgemesh plan job first"
            % (", ".join(unknown), "is" if len(unknown) == 1 else "are")
        )
    if scope == "clusters":
        split = [
            "%s (%d of its %d nodes)" % (name, len(here & set(members)), len(members))
            for name, members in sorted(nodes.items())
            if 0 < len(here & set(members)) < len(members)
        ]
        if split:
            problems.append(
                "this job bootstraps whole clusters, but its inventory holds only part of %s: "
                "a sliced job whose slices split clusters (slice it only when every slice "
                "holds whole clusters, else set its job slice count to 1), or the inventory "
                "changed since the plan job ran (launch it first)" % ", ".join(split)
            )
    if scope == "mesh":
        missing = sorted(planned - here)
        if missing:
            problems.append(
                "this job acts on every cluster of the plan, but its inventory lacks %d of "
                "the plan's %d nodes (%s): a sliced job template (set its job slice count to "
                "1), or the inventory changed since the plan job ran (launch it first)"
                % (
                    len(missing),
                    len(planned),
                    ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else ""),
                )
            )
    return problems


# ---------------------------------------------------------------------------
# Payload (store key -> text) <-> files
# ---------------------------------------------------------------------------


def is_cluster_key_name(cluster):
    return mesh_rules.is_dns_label(cluster)


def cluster_file_key(name, cluster):
    """Store key of a per-cluster file such as ``kubeconfig.eu-core`` or ``k3s-token.eu-core``."""
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


def build_payload(state=None, ca_cert=None, ca_key=None, cluster_files=None, plan=None):
    """Text payload (store key -> text) for the given parts; absent parts are left out.

    ``cluster_files`` maps (file name, cluster) to text, e.g. the kubeconfig a bootstrap
    wrote or the k3s join token, both of which a later job in a fresh container needs.
    ``plan`` is the text of plan.json, stored byte for byte; with ``state`` it must agree.
    """
    payload = {}
    if state is not None:
        payload[STATE_KEY] = dump_state(checked_state(state, "state to store"))
    if plan is not None:
        load_plan(plan, "plan to store")
        if state is not None:
            check_plan_agrees(plan, payload[STATE_KEY], "the files to store")
        payload[PLAN_KEY] = plan
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
    """-> dict(state=dict|None, plan=text|None, ca_cert, ca_key, cluster_files={(name,
    cluster): text}). A stored plan must agree with the stored state."""
    parts = {"state": None, "plan": None, "ca_cert": None, "ca_key": None, "cluster_files": {}}
    if STATE_KEY in payload:
        parts["state"] = load_state(payload[STATE_KEY], "%s key %s" % (where, STATE_KEY))
    if PLAN_KEY in payload:
        check_plan_agrees(payload[PLAN_KEY], payload.get(STATE_KEY), where)
        parts["plan"] = payload[PLAN_KEY]
    parts["ca_cert"] = payload.get(CA_CERT_KEY)
    parts["ca_key"] = payload.get(CA_KEY_KEY)
    for key, text in payload.items():
        if key in RESERVED_KEYS:
            continue
        name, dot, cluster = key.partition(".")
        if dot and _FILE_NAME_RE.match(name) and mesh_rules.is_dns_label(cluster):
            parts["cluster_files"][(name, cluster)] = text
    return parts


# ---------------------------------------------------------------------------
# What a job pulled, and what it changed since
# ---------------------------------------------------------------------------


def digest(text):
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class PullRecord:
    """What a job read from a store: where, the store's version (resourceVersion, file
    version; None when there was no store yet) and a digest of each key. state_pull.yml
    keeps it in the output dir; state_push.yml writes only what changed relative to it."""

    def __init__(self, where, version, digests):
        self.where = where
        self.version = version
        self.digests = dict(digests)

    @classmethod
    def of(cls, where, payload, version):
        return cls(where, version, dict((k, digest(v)) for k, v in payload.items()))

    def to_text(self):
        doc = {
            "format": STORE_FORMAT,
            "store": self.where,
            "version": self.version,
            "digests": self.digests,
        }
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_text(cls, text, path):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise StateBackendError("pull record %s: not valid JSON (%s)" % (path, exc))
        shape_ok = (
            isinstance(doc, dict)
            and doc.get("format") == STORE_FORMAT
            and isinstance(doc.get("store"), str)
            and (doc.get("version") is None or isinstance(doc.get("version"), str))
            and isinstance(doc.get("digests"), dict)
            and all(isinstance(v, str) for v in doc["digests"].values())
        )
        if not shape_ok:
            raise StateBackendError(
                "pull record %s is not one mesh_state get wrote; pull again (state_pull.yml)" % path
            )
        return cls(doc["store"], doc["version"], doc["digests"])


def changes_since_pull(update, pulled, current):
    """Split what a job wants to store into what it changed and what collides.

    ``update``: key -> text the job has now; ``pulled``: key -> digest when it pulled;
    ``current``: key -> text the store holds now. A key whose text equals what was pulled
    was not changed by this job and is left as the store has it (another job's newer value
    is kept). A changed key is a conflict when the store no longer holds what was pulled -
    someone else changed it meanwhile - unless it already holds this job's text.
    Returns (delta: key -> text, conflicts: sorted keys).
    """
    delta, conflicts = {}, []
    for key in sorted(update):
        mine = digest(update[key])
        base = pulled.get(key)
        if mine == base:
            continue
        theirs = digest(current[key]) if key in current else None
        if theirs == mine:
            continue
        if theirs != base:
            conflicts.append(key)
            continue
        delta[key] = update[key]
    return delta, conflicts


def conflict_message(where, keys, pulled_version, version):
    names = ", ".join("%r" % k for k in keys)
    return (
        "refusing to write %s: %s %s changed by someone else since this job pulled it "
        "(pulled version %s, now %s); nothing was written. Run the job again: it pulls the "
        "new content"
        % (
            where,
            "key" if len(keys) == 1 else "keys",
            names + (" was" if len(keys) == 1 else " were"),
            pulled_version or "none",
            version or "none",
        )
    )


# ---------------------------------------------------------------------------
# The store core and its two backends
# ---------------------------------------------------------------------------


class StateStore:
    """The core every backend shares: checked payloads, merge, refusals, compare-and-swap.

    A backend gives ``where`` (for messages), ``load()`` -> (payload, version or None when
    there is no store yet) and ``store(payload, version, create_namespace)``, which writes
    the whole payload only if the store is still at ``version`` (else ``VersionConflict``)
    and returns the new version.
    """

    where = "the state store"

    def load(self):  # pragma: no cover - every backend overrides it
        raise NotImplementedError

    def store(self, payload, version, create_namespace):  # pragma: no cover - likewise
        raise NotImplementedError

    def read(self):
        """-> (payload dict, version); ({}, None) when the store does not exist yet."""
        return self.load()

    def _refuse_renumbering(self, stored_text, new_text):
        problems = overwrite_problems(
            load_state(stored_text, "%s key %s" % (self.where, STATE_KEY)),
            load_state(new_text, "state to store"),
        )
        if problems:
            raise StateBackendError(
                "refusing to overwrite the state in %s: the new state was not planned from "
                "it (%s). Pull the state first, or set force to replace it."
                % (self.where, "; ".join(problems))
            )

    def _check(self, current, merged, delta, force):
        if STATE_KEY in delta and STATE_KEY in current and not force:
            self._refuse_renumbering(current[STATE_KEY], delta[STATE_KEY])
        if (PLAN_KEY in delta or STATE_KEY in delta) and PLAN_KEY in merged:
            check_plan_agrees(
                merged[PLAN_KEY], merged.get(STATE_KEY), "refusing to write %s" % self.where
            )

    def write(self, update, check_mode=False, force=False, create_namespace=True, pulled=None):
        """Apply what this job changed to the store's current content.

        ``update``: key -> text this job has now. ``pulled``: the ``PullRecord`` of this
        job's pull; without one, the first read of this call stands for it. Only keys that
        differ from what was pulled are written, onto what the store holds now, with
        compare-and-swap on its version; a write that loses the race re-reads and tries
        again (``MAX_WRITE_ATTEMPTS``). A changed key that someone else changed as well
        since the pull is refused (nothing written), as is a state that renumbers clusters
        of the stored one (unless ``force``) and a plan that does not agree with the state.

        Returns dict(changed, created, changed_keys, version, attempts).
        """
        if pulled is not None and pulled.where != self.where:
            raise StateBackendError(
                "this job pulled from %s, not from %s; pull from the backend it pushes to"
                % (pulled.where, self.where)
            )
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            current, version = self.load()
            if pulled is None:
                pulled = PullRecord.of(self.where, current, version)
            delta, conflicts = changes_since_pull(update, pulled.digests, current)
            if conflicts:
                raise StateBackendError(
                    conflict_message(self.where, conflicts, pulled.version, version)
                )
            merged = dict(current)
            merged.update(delta)
            self._check(current, merged, delta, force)
            result = {
                "changed": bool(delta),
                "created": version is None,
                "changed_keys": sorted(delta),
                "version": version,
                "attempts": attempt,
            }
            if not delta or check_mode:
                return result
            try:
                result["version"] = self.store(merged, version, create_namespace)
            except VersionConflict:
                continue
            return result
        raise StateBackendError(
            "%s changed under each of %d attempts to write it; run the job again"
            % (self.where, MAX_WRITE_ATTEMPTS)
        )


class SecretStateBackend(StateStore):
    """The store as one Opaque Secret in a management cluster.

    ``client`` is kubernetes.core's client (``K8SClient``, from ``connect``): Secrets are
    read, created and replaced through its dynamic resources. A replace carries the
    ``resourceVersion`` that was read, so the API server refuses it (HTTP 409) when another
    writer got in between; a create of a Secret someone else created meanwhile is refused
    the same way. Both make the core re-read and try again.
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
        """``call()``; a 404 gives ``missing``, a 409 is a ``VersionConflict``, other API
        errors and no answer a message."""
        try:
            return call()
        except StateBackendError:
            raise
        except ApiException as exc:
            if exc.status == 404 and missing is not None:
                return missing
            if exc.status == 409:
                raise VersionConflict()
            raise api_error(what, exc)
        except Exception as exc:  # urllib3/socket errors: the API server is not reachable
            raise unreachable(what, exc)

    def _secrets(self):
        return self.client.resource("Secret", "v1")

    def load(self):
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

    def store(self, payload, version, create_namespace=True):
        body = self._body(payload, version)
        if version is None:
            written = self._create(body, create_namespace)
        else:
            written = self._call(
                "writing " + self.where,
                lambda: self.client.replace(
                    self._secrets(), body, name=self.name, namespace=self.namespace
                ),
            )
        try:
            return written.to_dict()["metadata"]["resourceVersion"]
        except (AttributeError, KeyError, TypeError):
            return None

    def _create(self, body, create_namespace):
        def create():
            return self.client.create(self._secrets(), body, namespace=self.namespace)

        written = self._call("writing " + self.where, create, missing=_NOT_FOUND)
        if written is not _NOT_FOUND:
            return written
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
        try:
            self._call(
                "creating namespace %s" % self.namespace,
                lambda: self.client.create(self.client.resource("Namespace", "v1"), namespace),
            )
        except VersionConflict:  # another job created it meanwhile: fine
            pass
        return self._call("writing " + self.where, create)


class FileStateBackend(StateStore):
    """The store as one JSON file, e.g. on a volume (NFS, a shared PVC) that every execution
    environment mounts.

    The file holds ``{"managed_by", "format", "version", "data": {key: text}}``, mode 0600.
    A write takes an exclusive POSIX record lock (``fcntl.lockf``) on ``<path>.lock``,
    checks under it that the file is still at the version it read (compare-and-swap), then
    writes a temporary file in the same directory and renames it over the store, so a
    reader sees the old or the new file, never a part. Linux's NFS client supports these
    locks through the server's lock manager (flock(2) and fcntl(2) man pages: flock()
    locks are emulated with fcntl() byte-range locks on NFS since 2.6.12).
    """

    def __init__(self, path):
        if not path or not os.path.isabs(path):
            raise StateBackendError(
                "state store %r is not an absolute path; allowed: the absolute path of one "
                "JSON file (edgemesh_state_store), e.g. on a volume every job mounts" % (path,)
            )
        self.path = os.path.normpath(path)
        self.lock_path = self.path + ".lock"

    @property
    def where(self):
        return "state store %s" % self.path

    def load(self):
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return {}, None
            raise StateBackendError("cannot read %s: %s" % (self.where, exc))
        if not data.strip():  # an empty file someone created to mark the place
            return {}, None
        return self._parse(data)

    def _parse(self, data):
        try:
            doc = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateBackendError("%s: not valid JSON (%s)" % (self.where, exc))
        if not isinstance(doc, dict) or doc.get("managed_by") != MANAGED_BY:
            raise StateBackendError(
                '%s exists but is not a state store of %s (no "managed_by": "%s"); choose '
                "another path" % (self.where, MANAGED_BY, MANAGED_BY)
            )
        if doc.get("format") != STORE_FORMAT:
            raise StateBackendError(
                "%s: format %r is not supported; allowed: %d"
                % (self.where, doc.get("format"), STORE_FORMAT)
            )
        version = doc.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise StateBackendError(
                "%s: version %r is not allowed; allowed: an integer from 1" % (self.where, version)
            )
        data = doc.get("data")
        if not isinstance(data, dict):
            raise StateBackendError("%s: 'data' must be an object of key -> text" % self.where)
        for key, value in data.items():
            if not isinstance(value, str):
                raise StateBackendError(
                    "%s: key %r is %s; allowed: text" % (self.where, key, type(value).__name__)
                )
        return dict(data), str(version)

    def _lock(self):
        """An open descriptor of ``<path>.lock`` holding an exclusive lock (close releases)."""
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except (IOError, OSError) as exc:
            raise StateBackendError("cannot open the lock file %s: %s" % (self.lock_path, exc))
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EACCES, errno.EAGAIN):
                    os.close(fd)
                    raise StateBackendError(
                        "cannot lock %s (%s); the state store needs a file system with POSIX "
                        "locks (on NFS: the server's lock manager)" % (self.lock_path, exc)
                    )
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise StateBackendError(
                        "cannot lock %s within %g s: another job holds it; run the job again"
                        % (self.lock_path, LOCK_TIMEOUT)
                    )
            time.sleep(0.05)

    def store(self, payload, version, create_namespace=True):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            raise StateBackendError(
                "the directory %s of the state store does not exist; mount the shared volume "
                "there or correct edgemesh_state_store" % directory
            )
        fd = self._lock()
        try:
            if self.load()[1] != version:
                raise VersionConflict()
            new_version = 1 if version is None else int(version) + 1
            doc = {
                "managed_by": MANAGED_BY,
                "format": STORE_FORMAT,
                "version": new_version,
                "data": dict(sorted(payload.items())),
            }
            text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
            try:
                replace_file(self.path, text.encode("utf-8"), 0o600)
            except (IOError, OSError) as exc:
                raise StateBackendError("cannot write %s: %s" % (self.where, exc))
        finally:
            os.close(fd)
        return str(new_version)


# ---------------------------------------------------------------------------
# Local files (atomic, changed only when the bytes or the mode differ)
# ---------------------------------------------------------------------------


def read_text(path, what):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise StateBackendError("cannot read %s %s: %s" % (what, path, exc))


def replace_file(path, data, mode):
    """Write ``data`` to a temporary file beside ``path`` (``mode``), flush it to disk and
    rename it over ``path``: readers see the old or the new content, never a part."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".edgemesh-", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_private_file(path, text, check_mode=False, mode=0o600):
    """Write ``text`` to ``path`` (mode 0600 unless ``mode``); True when something changed."""
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            same = handle.read() == data
        mode_ok = (os.stat(path).st_mode & 0o777) == mode
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
        replace_file(path, data, mode)
    except (IOError, OSError) as exc:
        raise StateBackendError("cannot write %s: %s" % (path, exc))
    return True


def read_pull_record(path, check_mode=False):
    """The ``PullRecord`` at ``path``. Missing: an error, except in check mode, where the
    pull wrote nothing (None: the push compares with the store as it reads it)."""
    if check_mode and not os.path.exists(path):
        return None
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise StateBackendError(
            "no record of a pull at %s (%s): pull first (state_pull.yml, which every AWX job "
            "playbook starts with) so that the push knows what this job changed"
            % (path, exc.strerror or exc)
        )
    return PullRecord.from_text(text, path)


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

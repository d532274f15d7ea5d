# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for a Kubernetes API server, shared by the state backend and mesh_state tests.

No Kubernetes API server runs here. kubernetes.core's ``get_api_client`` builds a real
client configuration from the auth options (loading the real kubeconfig file) and then
calls ``create_api_client``, which would connect to the server, discover its API and return
a dynamic client (``kubernetes.dynamic.DynamicClient``). The fixture ``kubernetes_api``
replaces only that call: ``StandInKubernetesApiServer`` takes the dynamic client's place
under kubernetes.core's real ``K8SClient``. It answers ``resources.get`` with real
``kubernetes.dynamic.Resource`` objects, ``get``/``create``/``replace`` with real
``ResourceInstance`` objects, and refuses the way an API server does, with the real
dynamic-client exceptions: 404 for a missing object or namespace, 409 ``AlreadyExists`` on
a second create, 409 ``Conflict`` on a replace that carries a stale ``resourceVersion``.

Facts relied on (read in the installed kubernetes 37 and kubernetes.core 6.2 sources):
``K8SClient.resource`` calls ``resources.get(prefix=, api_version=, kind=)``; a
``Resource``'s verbs call the client's ``get(resource, name=, namespace=)``,
``create(resource, body, namespace=)`` and ``replace(resource, body, name=, namespace=)``;
``kubernetes.dynamic.exceptions.api_exception`` maps an ``ApiException`` status to its
``DynamicApiError`` subclass; a dry run is the ``dry_run`` parameter.
"""

import copy
import json

import pytest
import urllib3
from ansible_collections.kubernetes.core.plugins.module_utils.k8s import client as k8s_core_client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import Resource
from kubernetes.dynamic.exceptions import ResourceNotFoundError, api_exception
from kubernetes.dynamic.resource import ResourceInstance

# kind -> (plural name, namespaced)
KINDS = {
    "ConfigMap": ("configmaps", True),
    "Namespace": ("namespaces", False),
    "Secret": ("secrets", True),
    "Service": ("services", True),
}


def api_error(status, reason):
    """The exception the dynamic client raises for an HTTP error status."""
    return api_exception(ApiException(status=status, reason=reason))


class _Resources:
    def __init__(self, server):
        self.server = server

    def get(self, prefix=None, api_version=None, kind=None, **other):
        if api_version != "v1" or kind not in KINDS or other:
            raise ResourceNotFoundError("No matches found for %r" % dict(kind=kind, **other))
        plural, namespaced = KINDS[kind]
        verbs = ["get", "create", "update"]
        return Resource(
            prefix="api",
            api_version="v1",
            kind=kind,
            name=plural,
            namespaced=namespaced,
            verbs=verbs,
            client=self.server,
        )


class StandInKubernetesApiServer:
    """Stand-in for a Kubernetes API server, in the place of kubernetes.core's dynamic client.

    ``objects`` maps (kind, namespace, name) to the stored object; ``calls`` lists
    (verb, kind, namespace, name). ``intercept(verb, kind, hook)`` runs ``hook(namespace,
    name)`` before a verb is served: it may raise (an outage, a 403) or change the store
    (another writer).
    """

    def __init__(self, host="https://management.stand-in.invalid:6443", namespaces=()):
        self.host = host
        self.namespaces = set(namespaces)
        self.objects = {}
        self.version = 100
        self.calls = []
        self.intercepts = {}
        self.resources = _Resources(self)
        self.configurations = []

    @property
    def client(self):
        """kubernetes.core's real K8SClient over this stand-in."""
        return k8s_core_client.K8SClient(configuration=None, client=self)

    @property
    def secrets(self):
        return dict(
            ((ns, name), obj) for (kind, ns, name), obj in self.objects.items() if kind == "Secret"
        )

    def intercept(self, verb, kind, hook):
        self.intercepts[(verb, kind)] = hook

    def add(self, obj):
        """Store an object as another client would have created it."""
        meta = obj.setdefault("metadata", {})
        namespace = meta.get("namespace") if KINDS[obj["kind"]][1] else None
        self._store(obj["kind"], namespace, obj)
        if obj["kind"] == "Namespace":
            self.namespaces.add(meta["name"])

    def touch(self, kind, namespace, name):
        """Another writer replaced the object: it gets a new resourceVersion."""
        self.version += 1
        self.objects[(kind, namespace, name)]["metadata"]["resourceVersion"] = str(self.version)

    # --- the dynamic client's verbs ------------------------------------------------

    def _serve(self, verb, resource, namespace, name):
        namespace = namespace if resource.namespaced else None
        self.calls.append((verb, resource.kind, namespace, name))
        hook = self.intercepts.get((verb, resource.kind))
        if hook is not None:
            hook(namespace, name)
        return namespace

    def _store(self, kind, namespace, body):
        self.version += 1
        obj = json.loads(json.dumps(body))
        obj["metadata"]["resourceVersion"] = str(self.version)
        if namespace is not None:
            obj["metadata"]["namespace"] = namespace
        self.objects[(kind, namespace, obj["metadata"]["name"])] = obj
        return ResourceInstance(self, copy.deepcopy(obj))

    def get(self, resource, name=None, namespace=None, **params):
        namespace = self._serve("get", resource, namespace, name)
        obj = self.objects.get((resource.kind, namespace, name))
        if obj is None:
            raise api_error(404, "Not Found")
        return ResourceInstance(self, copy.deepcopy(obj))

    def create(self, resource, body=None, namespace=None, **params):
        name = body["metadata"]["name"]
        namespace = self._serve("create", resource, namespace, name)
        if namespace is not None and namespace not in self.namespaces:
            raise api_error(404, "Not Found")
        if (resource.kind, namespace, name) in self.objects:
            raise api_error(409, "AlreadyExists")
        if params.get("dry_run"):
            return ResourceInstance(self, copy.deepcopy(body))
        if resource.kind == "Namespace":
            self.namespaces.add(name)
        return self._store(resource.kind, namespace, body)

    def replace(self, resource, body=None, name=None, namespace=None, **params):
        name = name or body["metadata"]["name"]
        namespace = self._serve("replace", resource, namespace, name)
        current = self.objects.get((resource.kind, namespace, name))
        if current is None:
            raise api_error(404, "Not Found")
        sent = body["metadata"].get("resourceVersion")
        if sent is not None and sent != current["metadata"]["resourceVersion"]:
            raise api_error(409, "Conflict")
        if params.get("dry_run"):
            return ResourceInstance(self, copy.deepcopy(body))
        return self._store(resource.kind, namespace, body)


class StandInApiServers:
    """The API servers the kubeconfigs of a test point at, by host."""

    def __init__(self):
        self.servers = {}

    def add(self, host="https://management.stand-in.invalid:6443", namespaces=()):
        server = StandInKubernetesApiServer(host, namespaces)
        self.servers[host] = server
        return server

    def create_api_client(self, configuration, **headers):
        """Takes the place of kubernetes.core's create_api_client (which would connect)."""
        server = self.servers.get(configuration.host)
        if server is None:  # what urllib3 raises for a host nobody listens on
            raise urllib3.exceptions.MaxRetryError(
                None,
                "/version",
                urllib3.exceptions.NewConnectionError(
                    None, "Failed to establish a new connection: [Errno 111] Connection refused"
                ),
            )
        server.configurations.append((configuration, headers))
        return server


@pytest.fixture
def kubernetes_api(monkeypatch):
    """StandInApiServers, wired in where kubernetes.core would connect to a real server."""
    servers = StandInApiServers()
    monkeypatch.setattr(k8s_core_client, "create_api_client", servers.create_api_client)
    return servers


@pytest.fixture
def write_kubeconfig(tmp_path):
    """write_kubeconfig({context: server URL}, current=None) -> path of a token kubeconfig."""

    def write(contexts, current=None, name="kubeconfig"):
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": c, "cluster": {"server": url}} for c, url in contexts.items()],
            "users": [{"name": c, "user": {"token": "token-of-%s" % c}} for c in contexts],
            "contexts": [
                {"name": c, "context": {"cluster": c, "user": c}} for c in sorted(contexts)
            ],
            "current-context": current or sorted(contexts)[0],
        }
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        return str(path)

    return write

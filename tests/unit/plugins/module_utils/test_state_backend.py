# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/state_backend.py.

No Kubernetes API server exists here. ``StandInCoreV1`` below is a stand-in for
``kubernetes.client.CoreV1Api`` at the edge of these tests: it keeps Secrets in a dict,
returns the real ``kubernetes.client.V1Secret`` models and raises the real
``ApiException`` with the status codes an API server uses (404, 409 on a stale
resourceVersion), so the backend's own logic is what is exercised.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import os
import stat

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import state_backend as sb

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "cilium-config")

CA_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
CA_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcfake\n-----END EC PRIVATE KEY-----\n"


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def a_state(**clusters):
    state = {
        "format": 1,
        "max_connected_clusters": 255,
        "clusters": {
            "eu-core": {
                "id": 1,
                "pod_cidrs": ["10.1.0.0/16"],
                "service_cidrs": ["172.16.0.0/20"],
                "clustermesh_nodeport": 32379,
                "active": True,
            },
            "us-core": {
                "id": 2,
                "pod_cidrs": ["10.2.0.0/16"],
                "service_cidrs": ["172.16.16.0/20"],
                "clustermesh_nodeport": 32379,
                "active": True,
            },
        },
    }
    state["clusters"].update(clusters)
    return state


class StandInCoreV1:
    """Stand-in for kubernetes.client.CoreV1Api (Secrets and Namespaces only)."""

    def __init__(self, namespaces=("kube-system",)):
        self.namespaces = set(namespaces)
        self.secrets = {}
        self.version = 100
        self.calls = []

    def read_namespaced_secret(self, name, namespace):
        self.calls.append(("read", namespace, name))
        if (namespace, name) not in self.secrets:
            raise ApiException(status=404, reason="Not Found")
        return copy.deepcopy(self.secrets[(namespace, name)])

    def _store(self, namespace, body):
        self.version += 1
        meta = body["metadata"]
        self.secrets[(namespace, meta["name"])] = k8s.V1Secret(
            api_version="v1",
            kind="Secret",
            type=body["type"],
            data=dict(body["data"]),
            metadata=k8s.V1ObjectMeta(
                name=meta["name"],
                namespace=namespace,
                labels=dict(meta.get("labels") or {}),
                annotations=dict(meta.get("annotations") or {}),
                resource_version=str(self.version),
            ),
        )

    def create_namespaced_secret(self, namespace, body):
        self.calls.append(("create", namespace, body["metadata"]["name"]))
        if namespace not in self.namespaces:
            raise ApiException(status=404, reason="Not Found")
        if (namespace, body["metadata"]["name"]) in self.secrets:
            raise ApiException(status=409, reason="AlreadyExists")
        self._store(namespace, body)

    def replace_namespaced_secret(self, name, namespace, body):
        self.calls.append(("replace", namespace, name))
        current = self.secrets.get((namespace, name))
        if current is None:
            raise ApiException(status=404, reason="Not Found")
        if body["metadata"].get("resourceVersion") != current.metadata.resource_version:
            raise ApiException(status=409, reason="Conflict")
        self._store(namespace, body)

    def create_namespace(self, body):
        self.calls.append(("create-namespace", body["metadata"]["name"]))
        self.namespaces.add(body["metadata"]["name"])


# --- state validation -------------------------------------------------------------


def test_valid_state_round_trips_byte_stable():
    state = a_state()
    text = sb.dump_state(state)
    assert sb.load_state(text) == state
    assert sb.dump_state(sb.load_state(text)) == text
    assert text.endswith("\n") and text.index('"clusters"') < text.index('"format"')


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s: s.update(format=2), "unsupported format 2"),
        (lambda s: s.update(max_connected_clusters=300), "must be 255 or 511"),
        (lambda s: s.update(clusters=[]), "'clusters' must be a mapping"),
        (lambda s: s["clusters"].update(x=[]), "cluster 'x': entry must be a mapping"),
        (lambda s: s["clusters"]["us-core"].update(id=0), "id must be an integer 1..255"),
        (lambda s: s["clusters"]["us-core"].update(id=True), "id must be an integer"),
        (lambda s: s["clusters"]["us-core"].update(id=1), "id 1 is also held by cluster 'eu-core'"),
        (lambda s: s["clusters"]["us-core"].update(pod_cidrs="10.2.0.0/16"), "expected a list"),
        (lambda s: s["clusters"]["us-core"].update(pod_cidrs=["10.2.0.1/16"]), "is not a network"),
        (
            lambda s: s["clusters"]["us-core"].update(pod_cidrs=["10.1.128.0/17"]),
            "pod_cidrs 10.1.128.0/17 overlaps 10.1.0.0/16 of cluster 'eu-core'",
        ),
        (lambda s: s["clusters"]["us-core"].update(clustermesh_nodeport=70000), "must be a port"),
        (lambda s: s["clusters"]["us-core"].update(active="yes"), "active must be true or false"),
    ],
)
def test_invalid_state_is_a_clear_error(mutate, message):
    state = a_state()
    mutate(state)
    with pytest.raises(sb.StateBackendError, match=message.replace("(", r"\(").replace(".", r"\.")):
        sb.validate_state(state)


def test_load_state_rejects_bad_json():
    with pytest.raises(sb.StateBackendError, match="not valid JSON"):
        sb.load_state("{nope", "Secret x")


def test_overwrite_problems_allows_release_and_additions_but_not_renumbering():
    stored = a_state()
    new = a_state(**{"ap-edge": {"id": 3, "pod_cidrs": ["10.3.0.0/16"], "active": True}})
    del new["clusters"]["us-core"]  # released
    assert sb.overwrite_problems(stored, new) == []
    renumbered = a_state()
    renumbered["clusters"]["us-core"]["id"] = 7
    renumbered["clusters"]["eu-core"]["pod_cidrs"] = ["10.9.0.0/16"]
    problems = sb.overwrite_problems(stored, renumbered)
    assert problems == [
        "cluster 'eu-core': pod_cidrs changes from ['10.1.0.0/16'] to ['10.9.0.0/16']",
        "cluster 'us-core': id changes from 2 to 7",
    ]
    wider = a_state()
    wider["max_connected_clusters"] = 511
    assert sb.overwrite_problems(stored, wider) == [
        "max_connected_clusters changes from 255 to 511"
    ]


# --- payload ----------------------------------------------------------------------


def test_payload_encodes_and_splits_back():
    payload = sb.build_payload(
        state=a_state(),
        ca_cert=CA_CERT,
        ca_key=CA_KEY,
        cluster_files={
            ("kubeconfig", "eu-core"): "apiVersion: v1\n",
            ("k3s-token", "eu-core"): "t\n",
        },
    )
    assert sorted(payload) == [
        "k3s-token.eu-core",
        "kubeconfig.eu-core",
        "mesh-ca.crt",
        "mesh-ca.key",
        "mesh-state.json",
    ]
    data = sb.encode_data(payload)
    assert base64.b64decode(data["mesh-ca.key"]).decode() == CA_KEY
    parts = sb.split_payload(sb.decode_data(data))
    assert parts["state"] == a_state()
    assert parts["ca_cert"] == CA_CERT and parts["ca_key"] == CA_KEY
    assert parts["cluster_files"] == {
        ("kubeconfig", "eu-core"): "apiVersion: v1\n",
        ("k3s-token", "eu-core"): "t\n",
    }
    # keys this collection did not write are ignored, not misread
    assert sb.split_payload({"notes": "x", "a.B": "y"})["cluster_files"] == {}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ca_cert": CA_CERT}, "needs both the certificate and the key"),
        ({"ca_cert": "junk", "ca_key": CA_KEY}, "no PEM certificate found"),
        ({"ca_cert": CA_CERT, "ca_key": "junk"}, "no PEM private key found"),
        ({"cluster_files": {("kubeconfig", "eu core"): "x"}}, "cluster name 'eu core' cannot be"),
        ({"cluster_files": {("kube.config", "eu"): "x"}}, "file name 'kube.config' cannot be"),
        (
            {"cluster_files": {("kubeconfig", "eu-core"): " \n"}},
            "kubeconfig of cluster 'eu-core' is empty",
        ),
        ({"state": {"format": 1}}, "state to store: max_connected_clusters"),
    ],
)
def test_payload_errors(kwargs, message):
    with pytest.raises(sb.StateBackendError, match=message):
        sb.build_payload(**kwargs)


def test_decode_rejects_non_base64():
    with pytest.raises(sb.StateBackendError, match="key 'mesh-state.json' is not base64"):
        sb.decode_data({"mesh-state.json": "%%%"})


# --- Secret backend against the stand-in API ---------------------------------------


def test_write_creates_namespace_and_secret_then_reads_back():
    api = StandInCoreV1()
    backend = sb.SecretStateBackend(api, "edgemesh-system", "edgemesh-state")
    assert backend.read() == ({}, None)
    result = backend.write(sb.build_payload(state=a_state(), ca_cert=CA_CERT, ca_key=CA_KEY))
    assert result == {
        "changed": True,
        "created": True,
        "changed_keys": ["mesh-ca.crt", "mesh-ca.key", "mesh-state.json"],
    }
    assert ("create-namespace", "edgemesh-system") in api.calls
    secret = api.secrets[("edgemesh-system", "edgemesh-state")]
    assert secret.type == "Opaque"
    assert secret.metadata.labels == {"app.kubernetes.io/managed-by": "edgemesh.cluster_mesh"}
    payload, version = backend.read()
    assert version == secret.metadata.resource_version
    assert sb.split_payload(payload)["state"] == a_state()


def test_write_without_namespace_creation_is_a_clear_error():
    backend = sb.SecretStateBackend(StandInCoreV1(), "missing", "edgemesh-state")
    with pytest.raises(sb.StateBackendError, match="namespace 'missing' does not exist"):
        backend.write(sb.build_payload(state=a_state()), create_namespace=False)


def test_write_is_idempotent_and_merges_keys():
    api = StandInCoreV1(namespaces=["edgemesh-system"])
    backend = sb.SecretStateBackend(api, "edgemesh-system", "s")
    backend.write(sb.build_payload(state=a_state()))
    again = backend.write(sb.build_payload(state=a_state()))
    assert again == {"changed": False, "created": False, "changed_keys": []}
    # a kubeconfig-only update keeps the state
    upd = backend.write(
        sb.build_payload(cluster_files={("kubeconfig", "eu-core"): "apiVersion: v1\n"})
    )
    assert upd["changed_keys"] == ["kubeconfig.eu-core"]
    parts = sb.split_payload(backend.read()[0])
    assert parts["state"] == a_state()
    assert parts["cluster_files"] == {("kubeconfig", "eu-core"): "apiVersion: v1\n"}


def test_check_mode_reports_but_does_not_write():
    api = StandInCoreV1(namespaces=["ns"])
    backend = sb.SecretStateBackend(api, "ns", "s")
    result = backend.write(sb.build_payload(state=a_state()), check_mode=True)
    assert result["changed"] is True and result["created"] is True
    assert api.secrets == {}
    assert [c[0] for c in api.calls] == ["read"]


def test_write_refuses_renumbering_unless_forced():
    api = StandInCoreV1(namespaces=["ns"])
    backend = sb.SecretStateBackend(api, "ns", "s")
    backend.write(sb.build_payload(state=a_state()))
    fresh = a_state()
    fresh["clusters"]["eu-core"]["id"], fresh["clusters"]["us-core"]["id"] = 2, 1
    with pytest.raises(
        sb.StateBackendError, match="not planned from it .*'eu-core': id changes from 1 to 2"
    ):
        backend.write(sb.build_payload(state=fresh))
    assert backend.write(sb.build_payload(state=fresh), force=True)["changed"] is True
    assert sb.split_payload(backend.read()[0])["state"] == fresh


def test_concurrent_writer_is_a_conflict_not_a_lost_update():
    api = StandInCoreV1(namespaces=["ns"])
    backend = sb.SecretStateBackend(api, "ns", "s")
    backend.write(sb.build_payload(state=a_state()))
    real_read = api.read_namespaced_secret

    def read_then_someone_writes(name, namespace):
        secret = real_read(name, namespace)
        api.version += 1  # another job replaced the Secret after our read
        api.secrets[(namespace, name)].metadata.resource_version = str(api.version)
        return secret

    api.read_namespaced_secret = read_then_someone_writes
    with pytest.raises(sb.StateBackendError, match="changed by someone else .*409"):
        backend.write(sb.build_payload(cluster_files={("kubeconfig", "eu-core"): "x: y\n"}))


def test_foreign_secret_is_not_touched():
    api = StandInCoreV1(namespaces=["ns"])
    api._store("ns", {"type": "Opaque", "data": {}, "metadata": {"name": "s"}})
    with pytest.raises(sb.StateBackendError, match="not managed by edgemesh.cluster_mesh"):
        sb.SecretStateBackend(api, "ns", "s").read()


def test_api_errors_are_messages():
    class Forbidden(StandInCoreV1):
        def read_namespaced_secret(self, name, namespace):
            raise ApiException(status=403, reason="Forbidden")

    with pytest.raises(
        sb.StateBackendError, match="reading Secret ns/s failed: HTTP 403 Forbidden"
    ):
        sb.SecretStateBackend(Forbidden(), "ns", "s").read()

    class Down(StandInCoreV1):
        def read_namespaced_secret(self, name, namespace):
            raise ConnectionRefusedError(111, "Connection refused")

    with pytest.raises(
        sb.StateBackendError, match="reading Secret ns/s: the API server could not be reached"
    ):
        sb.SecretStateBackend(Down(), "ns", "s").read()
    with pytest.raises(sb.StateBackendError, match="needs a namespace and a name"):
        sb.SecretStateBackend(StandInCoreV1(), "", "s")


# --- private files ------------------------------------------------------------------


def test_write_private_file_mode_and_idempotence(tmp_path):
    path = str(tmp_path / "sub" / "mesh-state.json")
    assert sb.write_private_file(path, "a\n", check_mode=True) is True
    assert not os.path.exists(path)
    assert sb.write_private_file(path, "a\n") is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sb.write_private_file(path, "a\n") is False
    os.chmod(path, 0o644)
    assert sb.write_private_file(path, "a\n") is True  # a loose mode is fixed
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(os.listdir(str(tmp_path / "sub"))) == ["mesh-state.json"]


def test_read_text_missing_file(tmp_path):
    with pytest.raises(sb.StateBackendError, match="cannot read state file"):
        sb.read_text(str(tmp_path / "nope"), "state file")


# --- recovery from recorded cilium-config ---------------------------------------------


def test_parse_each_recorded_version():
    core = sb.parse_cilium_config(fixture("eu-core-1.18.yaml"))
    assert (core["name"], core["id"], core["pod_cidrs"]) == ("eu-core", 1, ["10.1.0.0/16"])
    assert core["mask_sizes"] == {"ipv4": 24} and core["max_connected_clusters"] == 255
    edge = sb.parse_cilium_config(fixture("eu-edge-1-1.19.yaml"))
    assert edge["pod_cidrs"] == ["10.2.0.0/16", "fd00:10:2::/104"]
    assert edge["mask_sizes"] == {"ipv4": 24, "ipv6": 120}
    us = sb.parse_cilium_config(fixture("us-core-1.20.yaml")["data"])  # data only works too
    assert us["pod_cidrs"] == ["10.3.0.0/16"]
    # the chart joins clusterPoolIPv4PodCIDRList with spaces; both pools are read ...
    two = dict(fixture("us-core-1.20.yaml")["data"])
    two["cluster-pool-ipv4-cidr"] = "10.3.0.0/17 10.3.128.0/17"
    assert sb.parse_cilium_config(two)["pod_cidrs"] == ["10.3.0.0/17", "10.3.128.0/17"]
    # ... but the planner's state holds one CIDR per family, so recovery says so
    with pytest.raises(sb.StateBackendError, match="holds two CIDRs of one address family"):
        sb.state_from_cluster_facts([{"cilium_config": two}])


def test_recover_state_from_three_clusters():
    facts = [
        {
            "source": "context eu-core",
            "cilium_config": fixture("eu-core-1.18.yaml"),
            "kubernetes_service_ips": ["172.16.0.1"],
            "clustermesh_nodeport": 32379,
        },
        {
            "source": "context eu-edge-1",
            "cilium_config": fixture("eu-edge-1-1.19.yaml"),
            "kubernetes_service_ips": ["172.16.16.1", "fd00:172:16::1"],
            "clustermesh_nodeport": "32379",
        },
        {
            "source": "context us-core",
            "cilium_config": fixture("us-core-1.20.yaml"),
            "service_cidrs": ["172.16.32.0/20"],
        },
    ]
    result = sb.state_from_cluster_facts(facts, service_cidr_prefix=20, service_cidr_prefix_v6=112)
    assert result["state"] == {
        "format": 1,
        "max_connected_clusters": 255,
        "clusters": {
            "eu-core": {
                "id": 1,
                "active": True,
                "pod_cidrs": ["10.1.0.0/16"],
                "service_cidrs": ["172.16.0.0/20"],
                "clustermesh_nodeport": 32379,
            },
            "eu-edge-1": {
                "id": 2,
                "active": True,
                "pod_cidrs": ["10.2.0.0/16", "fd00:10:2::/104"],
                "service_cidrs": ["172.16.16.0/20", "fd00:172:16::/112"],
                "clustermesh_nodeport": 32379,
            },
            "us-core": {
                "id": 3,
                "active": True,
                "pod_cidrs": ["10.3.0.0/16"],
                "service_cidrs": ["172.16.32.0/20"],
            },
        },
    }
    assert result["missing"] == {"us-core": ["clustermesh_nodeport"]}


def test_recover_without_service_prefix_reports_missing():
    result = sb.state_from_cluster_facts(
        [{"cilium_config": fixture("eu-core-1.18.yaml"), "kubernetes_service_ips": ["172.16.0.1"]}]
    )
    assert result["missing"] == {"eu-core": ["service_cidrs", "clustermesh_nodeport"]}
    assert "service_cidrs" not in result["state"]["clusters"]["eu-core"]


def test_kubernetes_ipam_needs_pod_cidrs():
    cm = fixture("k3s-kubernetes-ipam-1.19.yaml")
    with pytest.raises(
        sb.StateBackendError, match="ipam mode 'kubernetes' keeps pod CIDRs outside"
    ):
        sb.state_from_cluster_facts([{"source": "context lab", "cilium_config": cm}])
    result = sb.state_from_cluster_facts([{"cilium_config": cm, "pod_cidrs": ["10.42.0.0/16"]}])
    assert result["state"]["clusters"]["lab"]["pod_cidrs"] == ["10.42.0.0/16"]
    assert result["state"]["clusters"]["lab"]["id"] == 9


def test_fresh_install_has_nothing_to_recover():
    with pytest.raises(sb.StateBackendError, match="chart default 'default'"):
        sb.parse_cilium_config(fixture("fresh-install-1.20.yaml"))
    data = dict(fixture("fresh-install-1.20.yaml")["data"], **{"cluster-name": "lab"})
    with pytest.raises(sb.StateBackendError, match="cluster-id is 0"):
        sb.parse_cilium_config(data)


def _core_data(**changes):
    data = dict(fixture("eu-core-1.18.yaml")["data"])
    for key, value in changes.items():
        key = key.replace("_", "-")
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"cluster_name": None}, "key 'cluster-name' is missing"),
        ({"cluster_name": "EU_core"}, "is not a valid Cilium cluster name"),
        ({"cluster_id": "one"}, "cluster-id 'one' is not an integer"),
        ({"cluster_id": "300"}, "cluster-id 300 is outside 1..255"),
        ({"max_connected_clusters": "1023"}, "max-connected-clusters '1023' is not 255 or 511"),
        (
            {"cluster_pool_ipv4_cidr": None},
            "IPv4 is enabled but 'cluster-pool-ipv4-cidr' is missing",
        ),
        ({"cluster_pool_ipv4_cidr": "10.1.0.1/16"}, "is not a network CIDR"),
        ({"cluster_pool_ipv4_mask_size": "x"}, "cluster-pool-ipv4-mask-size 'x' is not an integer"),
        ({"cluster_pool_ipv4_mask_size": "8"}, "cluster-pool-ipv4-mask-size 8 does not fit inside"),
        ({"enable_ipv4": "false"}, "neither IPv4 nor IPv6 is enabled"),
    ],
)
def test_cilium_config_errors_name_the_cluster_and_key(changes, message):
    with pytest.raises(sb.StateBackendError, match=message):
        sb.parse_cilium_config(_core_data(**changes), "cilium-config of context eu-core")


def test_wrong_configmap_and_wrong_type():
    cm = fixture("eu-core-1.18.yaml")
    cm["metadata"]["name"] = "coredns"
    with pytest.raises(
        sb.StateBackendError, match="ConfigMap is 'coredns', expected 'cilium-config'"
    ):
        sb.parse_cilium_config(cm)
    with pytest.raises(sb.StateBackendError, match="expected a ConfigMap mapping, got list"):
        sb.parse_cilium_config([])


def test_recovery_detects_mesh_inconsistencies():
    core = fixture("eu-core-1.18.yaml")
    with pytest.raises(sb.StateBackendError, match="recovered twice"):
        sb.state_from_cluster_facts([{"cilium_config": core}, {"cilium_config": core}])
    wide = _core_data(cluster_name="us-core", cluster_id="3", max_connected_clusters="511")
    wide["cluster-pool-ipv4-cidr"] = "10.3.0.0/16"
    with pytest.raises(sb.StateBackendError, match="max-connected-clusters 511 differs from 255"):
        sb.state_from_cluster_facts([{"cilium_config": core}, {"cilium_config": wide}])
    clash = _core_data(cluster_name="us-core", cluster_id="1", cluster_pool_ipv4_cidr="10.3.0.0/16")
    with pytest.raises(sb.StateBackendError, match="id 1 is also held by cluster 'eu-core'"):
        sb.state_from_cluster_facts([{"cilium_config": core}, {"cilium_config": clash}])
    overlap = _core_data(
        cluster_name="us-core", cluster_id="3", cluster_pool_ipv4_cidr="10.1.64.0/18"
    )
    with pytest.raises(sb.StateBackendError, match="overlaps 10.1.0.0/16 of cluster 'eu-core'"):
        sb.state_from_cluster_facts([{"cilium_config": core}, {"cilium_config": overlap}])
    with pytest.raises(sb.StateBackendError, match="at least one cluster"):
        sb.state_from_cluster_facts([])
    with pytest.raises(sb.StateBackendError, match="item 0 has no cilium_config"):
        sb.state_from_cluster_facts([{}])
    with pytest.raises(sb.StateBackendError, match="kubernetes Service IP 'x' is not an address"):
        sb.state_from_cluster_facts(
            [{"cilium_config": core, "kubernetes_service_ips": ["x"]}], service_cidr_prefix=20
        )
    with pytest.raises(sb.StateBackendError, match="clustermesh_nodeport 'abc' is not a port"):
        sb.state_from_cluster_facts([{"cilium_config": core, "clustermesh_nodeport": "abc"}])


def test_merge_recovered_into_stored_state():
    stored = a_state()
    stored["clusters"]["gone"] = {"id": 9, "pod_cidrs": ["10.9.0.0/16"], "active": False}
    recovered = sb.state_from_cluster_facts(
        [{"cilium_config": fixture("eu-core-1.18.yaml"), "clustermesh_nodeport": 32379}]
    )["state"]
    merged = sb.merge_states(stored, recovered)
    assert merged == stored  # the live cluster agrees with the stored state
    edge = sb.state_from_cluster_facts([{"cilium_config": fixture("eu-edge-1-1.19.yaml")}])["state"]
    with pytest.raises(
        sb.StateBackendError, match="cluster 'eu-edge-1' .*overlaps|id 2 is also held"
    ):
        sb.merge_states(stored, edge)  # eu-edge-1 would reuse us-core's ID 2
    del stored["clusters"]["us-core"]
    merged = sb.merge_states(stored, edge)
    assert merged["clusters"]["eu-edge-1"]["id"] == 2
    assert merged["clusters"]["gone"]["active"] is False


def test_merge_conflict_fails_or_prefers_live():
    stored = a_state()
    stored["clusters"]["eu-core"]["active"] = False
    moved = _core_data(cluster_id="7")
    recovered = sb.state_from_cluster_facts([{"cilium_config": moved}])["state"]
    with pytest.raises(
        sb.StateBackendError, match="cluster 'eu-core': stored id 1 differs from the live value 7"
    ):
        sb.merge_states(stored, recovered)
    merged = sb.merge_states(stored, recovered, prefer="live")
    assert merged["clusters"]["eu-core"]["id"] == 7
    assert merged["clusters"]["eu-core"]["active"] is True
    assert merged["clusters"]["eu-core"]["service_cidrs"] == ["172.16.0.0/20"]  # kept
    wide = copy.deepcopy(recovered)
    wide["max_connected_clusters"] = 511
    with pytest.raises(sb.StateBackendError, match="stored state has max_connected_clusters 255"):
        sb.merge_states(stored, wide)
    assert sb.merge_states(None, recovered) == recovered


# --- live reading helpers, against a stand-in that serves the recorded ConfigMap -------


class StandInClusterApi:
    """Stand-in for CoreV1Api of a workload cluster: serves a recorded cilium-config."""

    def __init__(self, cm_data, service_ips=("172.16.0.1",), nodeport=32379):
        self.cm_data = cm_data
        self.service_ips = list(service_ips)
        self.nodeport = nodeport

    def read_namespaced_config_map(self, name, namespace):
        if (namespace, name) != ("kube-system", "cilium-config") or self.cm_data is None:
            raise ApiException(status=404, reason="Not Found")
        return k8s.V1ConfigMap(data=dict(self.cm_data))

    def read_namespaced_service(self, name, namespace):
        if (namespace, name) == ("default", "kubernetes"):
            return k8s.V1Service(
                spec=k8s.V1ServiceSpec(cluster_ip=self.service_ips[0], cluster_ips=self.service_ips)
            )
        if (namespace, name) == ("kube-system", "clustermesh-apiserver") and self.nodeport:
            port = k8s.V1ServicePort(port=2379, node_port=self.nodeport)
            return k8s.V1Service(spec=k8s.V1ServiceSpec(ports=[port]))
        raise ApiException(status=404, reason="Not Found")


def test_read_cluster_facts_feeds_recovery():
    api = StandInClusterApi(fixture("eu-core-1.18.yaml")["data"])
    facts = sb.read_cluster_facts(api, "context eu-core")
    assert facts["kubernetes_service_ips"] == ["172.16.0.1"]
    assert facts["clustermesh_nodeport"] == 32379
    state = sb.state_from_cluster_facts([facts], service_cidr_prefix=20)["state"]
    assert state["clusters"]["eu-core"]["service_cidrs"] == ["172.16.0.0/20"]
    no_mesh = sb.read_cluster_facts(StandInClusterApi(facts["cilium_config"], nodeport=None), "c")
    assert "clustermesh_nodeport" not in no_mesh
    with pytest.raises(
        sb.StateBackendError, match="c: ConfigMap kube-system/cilium-config not found"
    ):
        sb.read_cluster_facts(StandInClusterApi(None), "c")


def test_kubeconfig_contexts_and_client(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "eu-core", "cluster": {"server": "https://192.0.2.11:6443"}}],
                "users": [{"name": "eu-core", "user": {"token": "t"}}],
                "contexts": [
                    {"name": "us-core", "context": {"cluster": "eu-core", "user": "eu-core"}},
                    {"name": "eu-core", "context": {"cluster": "eu-core", "user": "eu-core"}},
                ],
                "current-context": "eu-core",
            }
        )
    )
    assert sb.kubeconfig_contexts(str(path)) == ["eu-core", "us-core"]
    api = sb.core_v1_from_kubeconfig(str(path), "eu-core")
    assert api.api_client.configuration.host == "https://192.0.2.11:6443"
    with pytest.raises(sb.StateBackendError, match="cannot load context 'nope'"):
        sb.core_v1_from_kubeconfig(str(path), "nope")
    with pytest.raises(sb.StateBackendError, match="does not exist"):
        sb.core_v1_from_kubeconfig(str(tmp_path / "missing"))

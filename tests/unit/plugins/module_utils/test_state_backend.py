# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/state_backend.py.

No Kubernetes API server exists here. The ``kubernetes_api`` fixture
(tests/unit/plugins/conftest.py) puts a stand-in for the API server in the place of the
dynamic client under kubernetes.core's real ``K8SClient``: it keeps objects in a dict,
returns real ``ResourceInstance`` objects and raises the real dynamic-client exceptions
with the status codes an API server uses (404, 409 on a stale resourceVersion), so the
backend's own logic and kubernetes.core's client and auth handling are what is exercised.
The state's rules themselves are tested in test_mesh_state_schema.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import os
import re
import stat

import pytest
import yaml
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import api_exception

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
        (lambda s: s.update(format=2), "format 2 is not supported; allowed: 1"),
        (
            lambda s: s.update(max_connected_clusters=300),
            "max_connected_clusters 300 is not allowed; allowed: 255 or 511",
        ),
        (lambda s: s.update(clusters=[]), "'clusters' must be an object keyed by cluster name"),
        (lambda s: s["clusters"].update(x=[]), "cluster 'x': expected an object, got list"),
        (
            lambda s: s["clusters"]["us-core"].update(id=0),
            "cluster 'us-core': id 0 is not allowed; allowed: 1-255",
        ),
        (lambda s: s["clusters"]["us-core"].update(id=True), "id True is not allowed"),
        (
            lambda s: s["clusters"]["us-core"].update(id=1),
            "cluster ID 1 is claimed by clusters 'eu-core' and 'us-core'",
        ),
        (
            lambda s: s["clusters"]["us-core"].update(pod_cidrs="10.2.0.0/16"),
            "pod_cidrs '10.2.0.0/16' is not a list",
        ),
        (
            lambda s: s["clusters"]["us-core"].update(pod_cidrs=["10.2.0.1/16"]),
            "pod_cidrs entry '10.2.0.1/16' has host bits set",
        ),
        (
            lambda s: s["clusters"]["us-core"].update(pod_cidrs=["10.1.128.0/17"]),
            "cluster 'eu-core' pod CIDR 10.1.0.0/16 overlaps cluster 'us-core' pod CIDR "
            "10.1.128.0/17",
        ),
        (
            lambda s: s["clusters"]["us-core"].update(clustermesh_nodeport=70000),
            "clustermesh_nodeport 70000 is not allowed; allowed: 30000-32767",
        ),
        (
            lambda s: s["clusters"]["us-core"].update(clustermesh_nodeport=8080),
            "clustermesh_nodeport 8080 is not allowed; allowed: 30000-32767",
        ),
        (
            lambda s: s["clusters"]["us-core"].update(active="yes"),
            "active 'yes' is not allowed; allowed: true or false",
        ),
    ],
)
def test_invalid_state_is_a_clear_error(mutate, message):
    """The backend refuses what the one schema (mesh_state_schema) refuses, with its text."""
    state = a_state()
    mutate(state)
    with pytest.raises(sb.StateBackendError, match=re.escape(message)):
        sb.load_state(json.dumps(state), "Secret ns/s key mesh-state.json")
    with pytest.raises(sb.StateBackendError, match="^state to store: .*" + re.escape(message)):
        sb.build_payload(state=state)


def test_load_state_rejects_bad_json():
    with pytest.raises(sb.StateBackendError, match="not valid JSON"):
        sb.load_state("{nope", "Secret x")
    with pytest.raises(sb.StateBackendError, match="Secret x: empty"):
        sb.load_state("", "Secret x")


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


# --- Secret backend against the stand-in API server -----------------------------------


def test_write_creates_namespace_and_secret_then_reads_back(kubernetes_api):
    api = kubernetes_api.add(namespaces=["kube-system"])
    backend = sb.SecretStateBackend(api.client, "edgemesh-system", "edgemesh-state")
    assert backend.read() == ({}, None)
    result = backend.write(sb.build_payload(state=a_state(), ca_cert=CA_CERT, ca_key=CA_KEY))
    assert result == {
        "changed": True,
        "created": True,
        "changed_keys": ["mesh-ca.crt", "mesh-ca.key", "mesh-state.json"],
    }
    assert ("create", "Namespace", None, "edgemesh-system") in api.calls
    secret = api.secrets[("edgemesh-system", "edgemesh-state")]
    assert secret["type"] == "Opaque"
    assert secret["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "edgemesh.cluster_mesh"}
    payload, version = backend.read()
    assert version == secret["metadata"]["resourceVersion"]
    assert sb.split_payload(payload)["state"] == a_state()


def test_write_without_namespace_creation_is_a_clear_error(kubernetes_api):
    backend = sb.SecretStateBackend(kubernetes_api.add().client, "missing", "edgemesh-state")
    with pytest.raises(sb.StateBackendError, match="namespace 'missing' does not exist"):
        backend.write(sb.build_payload(state=a_state()), create_namespace=False)


def test_write_is_idempotent_and_merges_keys(kubernetes_api):
    api = kubernetes_api.add(namespaces=["edgemesh-system"])
    backend = sb.SecretStateBackend(api.client, "edgemesh-system", "s")
    backend.write(sb.build_payload(state=a_state()))
    again = backend.write(sb.build_payload(state=a_state()))
    assert again == {"changed": False, "created": False, "changed_keys": []}
    # a kubeconfig-only update keeps the state
    upd = backend.write(
        sb.build_payload(cluster_files={("kubeconfig", "eu-core"): "apiVersion: v1\n"})
    )
    assert upd["changed_keys"] == ["kubeconfig.eu-core"]
    assert api.calls[-1][:2] == ("replace", "Secret")
    parts = sb.split_payload(backend.read()[0])
    assert parts["state"] == a_state()
    assert parts["cluster_files"] == {("kubeconfig", "eu-core"): "apiVersion: v1\n"}


def test_check_mode_reports_but_does_not_write(kubernetes_api):
    api = kubernetes_api.add(namespaces=["ns"])
    backend = sb.SecretStateBackend(api.client, "ns", "s")
    result = backend.write(sb.build_payload(state=a_state()), check_mode=True)
    assert result["changed"] is True and result["created"] is True
    assert api.secrets == {}
    assert [c[0] for c in api.calls] == ["get"]


def test_write_refuses_renumbering_unless_forced(kubernetes_api):
    backend = sb.SecretStateBackend(kubernetes_api.add(namespaces=["ns"]).client, "ns", "s")
    backend.write(sb.build_payload(state=a_state()))
    fresh = a_state()
    fresh["clusters"]["eu-core"]["id"], fresh["clusters"]["us-core"]["id"] = 2, 1
    with pytest.raises(
        sb.StateBackendError, match="not planned from it .*'eu-core': id changes from 1 to 2"
    ):
        backend.write(sb.build_payload(state=fresh))
    assert backend.write(sb.build_payload(state=fresh), force=True)["changed"] is True
    assert sb.split_payload(backend.read()[0])["state"] == fresh


def test_concurrent_writer_is_a_conflict_not_a_lost_update(kubernetes_api):
    api = kubernetes_api.add(namespaces=["ns"])
    backend = sb.SecretStateBackend(api.client, "ns", "s")
    backend.write(sb.build_payload(state=a_state()))
    # another job replaces the Secret after our read, before our replace
    api.intercept("replace", "Secret", lambda namespace, name: api.touch("Secret", namespace, name))
    with pytest.raises(sb.StateBackendError, match="changed by someone else .*409"):
        backend.write(sb.build_payload(cluster_files={("kubeconfig", "eu-core"): "x: y\n"}))
    sent = [c for c in api.calls if c[0] == "replace"]
    assert len(sent) == 1  # refused, not retried over the other writer's update


def test_concurrent_first_writers_conflict_too(kubernetes_api):
    api = kubernetes_api.add(namespaces=["ns"])

    def someone_created_it(namespace, name):
        api.add(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": namespace},
                "data": {},
            }
        )

    api.intercept("create", "Secret", someone_created_it)
    with pytest.raises(sb.StateBackendError, match="changed by someone else .*409"):
        sb.SecretStateBackend(api.client, "ns", "s").write(sb.build_payload(state=a_state()))


def test_foreign_secret_is_not_touched(kubernetes_api):
    api = kubernetes_api.add(namespaces=["ns"])
    api.add(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "data": {},
            "metadata": {"name": "s", "namespace": "ns"},
        }
    )
    with pytest.raises(sb.StateBackendError, match="not managed by edgemesh.cluster_mesh"):
        sb.SecretStateBackend(api.client, "ns", "s").read()


def test_api_errors_are_messages(kubernetes_api):
    forbidden = kubernetes_api.add(namespaces=["ns"])

    def refuse(namespace, name):
        raise api_exception(ApiException(status=403, reason="Forbidden"))

    forbidden.intercept("get", "Secret", refuse)
    with pytest.raises(
        sb.StateBackendError, match="reading Secret ns/s failed: HTTP 403 Forbidden"
    ):
        sb.SecretStateBackend(forbidden.client, "ns", "s").read()

    down = kubernetes_api.add(host="https://down.stand-in.invalid", namespaces=["ns"])

    def refused(namespace, name):
        raise ConnectionRefusedError(111, "Connection refused")

    down.intercept("get", "Secret", refused)
    with pytest.raises(
        sb.StateBackendError, match="reading Secret ns/s: the API server could not be reached"
    ):
        sb.SecretStateBackend(down.client, "ns", "s").read()
    with pytest.raises(sb.StateBackendError, match="needs a namespace and a name"):
        sb.SecretStateBackend(forbidden.client, "", "s")


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
    with pytest.raises(
        sb.StateBackendError, match="cluster ID 1 is claimed by clusters 'eu-core' and 'us-core'"
    ):
        sb.state_from_cluster_facts([{"cilium_config": core}, {"cilium_config": clash}])
    overlap = _core_data(
        cluster_name="us-core", cluster_id="3", cluster_pool_ipv4_cidr="10.1.64.0/18"
    )
    with pytest.raises(
        sb.StateBackendError,
        match="cluster 'eu-core' pod CIDR 10.1.0.0/16 overlaps cluster 'us-core' pod CIDR "
        "10.1.64.0/18",
    ):
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


# --- live reading helpers, against a stand-in API server serving the recorded ConfigMap ---


def workload_cluster(servers, cm_data, service_ips=("172.16.0.1",), nodeport=32379):
    """A stand-in API server of a workload cluster with a recorded cilium-config."""
    api = servers.add(host="https://workload-%d.stand-in.invalid" % len(servers.servers))
    if cm_data is not None:
        api.add(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cilium-config", "namespace": "kube-system"},
                "data": dict(cm_data),
            }
        )
    api.add(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default"},
            "spec": {"clusterIP": service_ips[0], "clusterIPs": list(service_ips)},
        }
    )
    if nodeport:
        api.add(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "clustermesh-apiserver", "namespace": "kube-system"},
                "spec": {"ports": [{"port": 2379, "nodePort": nodeport}]},
            }
        )
    return api


def test_read_cluster_facts_feeds_recovery(kubernetes_api):
    api = workload_cluster(kubernetes_api, fixture("eu-core-1.18.yaml")["data"])
    facts = sb.read_cluster_facts(api.client, "context eu-core")
    assert facts["kubernetes_service_ips"] == ["172.16.0.1"]
    assert facts["clustermesh_nodeport"] == 32379
    state = sb.state_from_cluster_facts([facts], service_cidr_prefix=20)["state"]
    assert state["clusters"]["eu-core"]["service_cidrs"] == ["172.16.0.0/20"]
    no_mesh = workload_cluster(kubernetes_api, facts["cilium_config"], nodeport=None)
    assert "clustermesh_nodeport" not in sb.read_cluster_facts(no_mesh.client, "c")
    with pytest.raises(
        sb.StateBackendError, match="c: ConfigMap kube-system/cilium-config not found"
    ):
        sb.read_cluster_facts(workload_cluster(kubernetes_api, None).client, "c")


KUBECONFIG = {
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


def test_kubeconfig_contexts_and_client(tmp_path, kubernetes_api):
    """connect() goes through kubernetes.core's get_api_client: the real kubeconfig loading
    and configuration; only the connection (create_api_client) is the stand-in's."""
    server = kubernetes_api.add(host="https://192.0.2.11:6443")
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(KUBECONFIG))
    assert sb.kubeconfig_contexts(str(path)) == ["eu-core", "us-core"]
    assert sb.kubeconfig_contexts(KUBECONFIG) == ["eu-core", "us-core"]
    api = sb.connect({"kubeconfig": str(path), "context": "eu-core"}, "reading Secret ns/s")
    assert api.configuration.host == "https://192.0.2.11:6443"
    assert list(api.configuration.api_key.values()) == ["Bearer t"]  # the user of the context
    assert server.configurations[-1][0] is api.configuration
    as_mapping = sb.connect({"kubeconfig": KUBECONFIG, "context": None}, "reading Secret ns/s")
    assert as_mapping.configuration.host == "https://192.0.2.11:6443"
    with pytest.raises(sb.StateBackendError, match="cannot load context 'nope'"):
        sb.connect({"kubeconfig": str(path), "context": "nope"}, "reading Secret ns/s")
    with pytest.raises(sb.StateBackendError, match="does not exist"):
        sb.connect({"kubeconfig": str(tmp_path / "missing")}, "reading Secret ns/s")
    with pytest.raises(sb.StateBackendError, match="does not exist"):
        sb.kubeconfig_contexts(str(tmp_path / "missing"))
    path.write_text("{not: [yaml")
    with pytest.raises(sb.StateBackendError, match="cannot read kubeconfig"):
        sb.kubeconfig_contexts(str(path))


def test_connect_reports_a_server_nobody_answers_for(tmp_path, kubernetes_api):
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(KUBECONFIG))  # no stand-in server for 192.0.2.11
    with pytest.raises(
        sb.StateBackendError, match="reading Secret ns/s: the API server could not be reached"
    ):
        sb.connect({"kubeconfig": str(path)}, "reading Secret ns/s")


def test_connect_to_a_closed_loopback_port_is_a_message(tmp_path):
    """The real kubernetes.core client and urllib3, no stand-in: nothing listens on
    127.0.0.1:1, so connecting (kubernetes.core discovers the API) is refused."""
    doc = copy.deepcopy(KUBECONFIG)
    doc["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(doc))
    with pytest.raises(
        sb.StateBackendError,
        match="reading Secret ns/s: the API server could not be reached \\(MaxRetryError",
    ):
        sb.connect({"kubeconfig": str(path), "context": "eu-core"}, "reading Secret ns/s")

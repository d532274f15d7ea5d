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
import hashlib
import json
import multiprocessing
import os
import re
import stat
import subprocess
import sys
import time

import pytest
import yaml
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import api_exception

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import state_backend as sb
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import plan_mesh
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.plans import inventory_cluster

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


# --- the plan: shape and agreement with the state ------------------------------------


MESH = [
    ("eu-core", "k3s", [("eu-1", "192.0.2.11", "server"), ("eu-2", "192.0.2.12", "agent")]),
    ("us-core", "kubeadm", [("us-1", "198.51.100.11", "server")]),
    ("edge-7", "k3s", [("edge-7", "203.0.113.7", "server")]),
]


def planned(clusters=None, state=None):
    """(plan.json text, mesh-state.json text) of a real plan of the planner (mesh_planner)."""
    result = plan_mesh([inventory_cluster(*c) for c in (clusters or MESH)], {}, state)
    return json.dumps(result["plan"], indent=2, sort_keys=True) + "\n", sb.dump_state(
        result["state"]
    )


def test_a_plan_agrees_with_the_state_planned_with_it():
    plan, state = planned()
    assert sb.plan_state_problems(json.loads(plan), sb.load_state(state)) == []
    assert sb.check_plan_agrees(plan, state, "Secret ns/s") == json.loads(plan)
    payload = sb.build_payload(state=state, plan=plan)
    assert payload["plan.json"] == plan  # stored byte for byte
    assert sb.split_payload(payload)["plan"] == plan


def test_plan_and_state_that_disagree_are_named():
    plan, state = planned()
    other = sb.load_state(state)
    other["clusters"]["us-core"]["clustermesh_nodeport"] = 32001
    other["clusters"]["gone"] = {"id": 9, "pod_cidrs": ["10.99.0.0/16"], "active": False}
    del other["clusters"]["edge-7"]
    problems = sb.plan_state_problems(json.loads(plan), other)
    assert problems == [
        "cluster 'edge-7' is in the plan but not in the state",
        "cluster 'gone' is in the state but not in the plan",
        "cluster 'us-core': clustermesh_nodeport is 32381 in the plan, 32001 in the state",
    ]
    with pytest.raises(
        sb.StateBackendError,
        match=re.escape(
            "Secret ns/s: plan.json does not agree with mesh-state.json (cluster 'edge-7'"
        ),
    ):
        sb.check_plan_agrees(plan, sb.dump_state(other), "Secret ns/s")
    with pytest.raises(sb.StateBackendError, match="the files to store: plan.json does not agree"):
        sb.build_payload(state=other, plan=plan)
    with pytest.raises(sb.StateBackendError, match="Secret: plan.json without mesh-state.json"):
        sb.split_payload({"plan.json": plan})
    wider = sb.load_state(state)
    wider["max_connected_clusters"] = 511
    assert sb.plan_state_problems(json.loads(plan), wider) == [
        "max_connected_clusters is 255 in the plan, 511 in the state"
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "plan to store: empty; allowed: the plan.json playbooks/plan.yml wrote"),
        ("{nope", "plan to store: not valid JSON"),
        ('{"clusters": {}}', "the plan is not a mapping with 'mesh' and 'clusters'"),
        ('{"mesh": {}, "clusters": [{"name": "x"}]}', "plan cluster x: the plan has no"),
    ],
)
def test_a_plan_that_is_not_one_is_refused(text, message):
    with pytest.raises(sb.StateBackendError, match=re.escape(message)):
        sb.build_payload(plan=text)


def test_inventory_problems_per_scope():
    plan = json.loads(planned()[0])
    everyone = ["eu-1", "eu-2", "us-1", "edge-7"]
    for scope in sb.INVENTORY_SCOPES:
        assert sb.inventory_problems(plan, everyone, scope) == []
    # a slice: same groups, part of the hosts
    assert sb.inventory_problems(plan, ["eu-1", "edge-7"], "nodes") == []
    assert sb.inventory_problems(plan, ["us-1", "edge-7"], "clusters") == []
    (split,) = sb.inventory_problems(plan, ["eu-1", "edge-7"], "clusters")
    assert split.startswith(
        "this job bootstraps whole clusters, but its inventory holds only part of eu-core "
        "(1 of its 2 nodes): a sliced job whose slices split clusters"
    )
    (partial,) = sb.inventory_problems(plan, ["eu-1", "eu-2"], "mesh")
    assert partial.startswith(
        "this job acts on every cluster of the plan, but its inventory lacks 2 of the plan's 4 "
        "nodes (edge-7, us-1): a sliced job template (set its job slice count to 1)"
    )
    (unknown,) = sb.inventory_problems(plan, ["eu-1", "eu-9"], "nodes")
    assert unknown == (
        "eu-9 is in the inventory but not in the plan: the inventory changed since the plan "
        "job ran; launch the edgemesh plan job first"
    )
    with pytest.raises(sb.StateBackendError, match="inventory scope 'all' is not allowed"):
        sb.inventory_problems(plan, [], "all")


# --- what a job pulled and what it changed since ---------------------------------------


def test_changes_since_pull():
    pulled = {"a": sb.digest("1"), "b": sb.digest("1"), "c": sb.digest("1")}
    current = {"a": "1", "b": "2", "c": "1", "d": "9"}
    update = {
        "a": "1",  # not changed by this job: left as the store has it
        "b": "1",  # not changed by this job, changed by someone else: theirs is kept
        "c": "3",  # changed by this job only: written
        "d": "9",  # added by both with the same text: nothing to do
        "e": "5",  # new: written
    }
    assert sb.changes_since_pull(update, pulled, current) == ({"c": "3", "e": "5"}, [])
    # changed by this job AND by someone else since the pull: a conflict
    assert sb.changes_since_pull({"b": "7", "d": "8"}, pulled, current) == ({}, ["b", "d"])


def test_pull_record_round_trip_and_refusals(tmp_path):
    record = sb.PullRecord.of("state store /x", {"k": "v"}, "3")
    again = sb.PullRecord.from_text(record.to_text(), "p")
    assert (again.where, again.version, again.digests) == ("state store /x", "3", record.digests)
    assert again.digests == {"k": "sha256:" + hashlib.sha256(b"v").hexdigest()}
    with pytest.raises(sb.StateBackendError, match="pull record p: not valid JSON"):
        sb.PullRecord.from_text("{", "p")
    with pytest.raises(sb.StateBackendError, match="pull record p is not one mesh_state get wrote"):
        sb.PullRecord.from_text('{"format": 1, "store": "x", "version": 3, "digests": {}}', "p")
    missing = str(tmp_path / "state-pulled.json")
    with pytest.raises(sb.StateBackendError, match="no record of a pull at .*: pull first"):
        sb.read_pull_record(missing)
    assert sb.read_pull_record(missing, check_mode=True) is None


# --- the same core, the same checks: both backends ----------------------------------------


@pytest.fixture(params=["secret", "file_store"])
def job(request, kubernetes_api, tmp_path):
    """job() -> a new backend object on ONE store, as each job of a run would make it."""
    if request.param == "secret":
        api = kubernetes_api.add(namespaces=["ns"])
        return lambda: sb.SecretStateBackend(api.client, "ns", "s")
    (tmp_path / "shared").mkdir()
    path = str(tmp_path / "shared" / "state.json")
    return lambda: sb.FileStateBackend(path)


def pull(backend):
    payload, version = backend.read()
    return payload, sb.PullRecord.of(backend.where, payload, version)


def test_disjoint_changes_of_concurrent_jobs_all_land(job):
    plan, state = planned()
    job().write(sb.build_payload(state=state, plan=plan))
    first, second = job(), job()
    seen1, pulled1 = pull(first)  # both slices pull the same version
    seen2, pulled2 = pull(second)
    one = dict(seen1, **{"kubeconfig.eu-core": "eu: 1\n"})
    two = dict(seen2, **{"kubeconfig.us-core": "us: 1\n", "k3s-token.us-core": "t\n"})
    assert first.write(one, pulled=pulled1)["changed_keys"] == ["kubeconfig.eu-core"]
    result = second.write(two, pulled=pulled2)
    assert result["changed_keys"] == ["k3s-token.us-core", "kubeconfig.us-core"]
    stored, version = job().read()
    assert stored["kubeconfig.eu-core"] == "eu: 1\n" and stored["kubeconfig.us-core"] == "us: 1\n"
    assert (stored["plan.json"], stored["mesh-state.json"]) == (plan, state)  # untouched
    assert result["version"] == version


def test_the_same_key_changed_by_two_jobs_is_refused_for_the_second(job):
    job().write({"kubeconfig.eu-core": "original\n"})
    first, second = job(), job()
    seen, pulled1 = pull(first)
    dummy, pulled2 = pull(second)
    first.write({"kubeconfig.eu-core": "first\n"}, pulled=pulled1)
    before = job().read()
    with pytest.raises(sb.StateBackendError) as refused:
        second.write({"kubeconfig.eu-core": "second\n", "kubeconfig.x": "x\n"}, pulled=pulled2)
    assert re.match(
        r"refusing to write (Secret ns/s|state store .*state.json): key 'kubeconfig.eu-core' was "
        r"changed by someone else since this job pulled it \(pulled version \S+, now \S+\); "
        r"nothing was written",
        str(refused.value),
    ), str(refused.value)
    assert job().read() == before  # nothing written, the first job's value kept
    # the same change made twice is no conflict, just nothing to do
    third = job()
    dummy, pulled3 = pull(third)
    assert first.write({"kubeconfig.eu-core": "first\n"}, pulled=pulled2)["changed"] is False
    assert third.write({"kubeconfig.eu-core": "first\n"}, pulled=pulled3)["changed"] is False
    assert seen == {"kubeconfig.eu-core": "original\n"}


def test_a_key_this_job_did_not_change_keeps_the_newer_value(job):
    job().write({"mesh-ca.crt": CA_CERT, "mesh-ca.key": CA_KEY})
    late = job()
    seen, pulled = pull(late)
    rotated = CA_CERT.replace("fake", "rotated")
    job().write({"mesh-ca.crt": rotated, "mesh-ca.key": CA_KEY})
    # the late job pushes everything it has: the CA as it pulled it, and a new kubeconfig
    result = late.write(dict(seen, **{"kubeconfig.a": "a\n"}), pulled=pulled)
    assert result["changed_keys"] == ["kubeconfig.a"]
    assert job().read()[0]["mesh-ca.crt"] == rotated


def test_both_backends_refuse_renumbering_and_disagreeing_plans(job):
    plan, state = planned()
    job().write(sb.build_payload(state=state, plan=plan))
    renumbered = sb.load_state(state)
    renumbered["clusters"]["eu-core"]["id"] = 7
    with pytest.raises(sb.StateBackendError, match="not planned from it .*'eu-core': id changes"):
        job().write(sb.build_payload(state=renumbered))
    # forced, a state alone still has to agree with the stored plan
    with pytest.raises(sb.StateBackendError, match="plan.json does not agree with mesh-state.json"):
        job().write(sb.build_payload(state=renumbered), force=True)
    replan, restate = planned(state=sb.dump_state(renumbered))
    assert job().write(sb.build_payload(state=restate, plan=replan), force=True)["changed"]
    stored = job().read()[0]
    assert sb.split_payload(stored)["plan"] == replan
    # a plan alone that does not match the stored state: refused, nothing written
    with pytest.raises(sb.StateBackendError, match="refusing to write .*does not agree"):
        job().write({"plan.json": plan})
    assert job().read()[0] == stored


def test_force_does_not_override_a_concurrent_change(job):
    plan, state = planned()
    job().write(sb.build_payload(state=state, plan=plan))
    late = job()
    dummy, pulled = pull(late)
    # meanwhile another plan job adds a cluster
    ap_plan, ap_state = planned(
        MESH + [("ap-1", "k3s", [("ap-1", "203.0.113.9", "server")])], state
    )
    job().write(sb.build_payload(state=ap_state, plan=ap_plan))
    sa_plan, sa_state = planned(
        MESH + [("sa-1", "k3s", [("sa-1", "203.0.113.8", "server")])], state
    )
    with pytest.raises(sb.StateBackendError, match="keys 'mesh-state.json', 'plan.json' were"):
        late.write(sb.build_payload(state=sa_state, plan=sa_plan), force=True, pulled=pulled)
    assert job().read()[0]["plan.json"] == ap_plan


def test_a_pull_from_another_store_is_refused(job, tmp_path):
    other = sb.PullRecord("state store /elsewhere.json", None, {})
    with pytest.raises(sb.StateBackendError, match="this job pulled from state store /elsewhere"):
        job().write({"kubeconfig.a": "a\n"}, pulled=other)


def test_check_mode_of_both_backends_writes_nothing(job):
    before = job().read()
    result = job().write({"kubeconfig.a": "a\n"}, check_mode=True)
    assert result["changed"] is True and result["changed_keys"] == ["kubeconfig.a"]
    assert job().read() == before


# --- Secret backend against the stand-in API server -----------------------------------


def test_write_creates_namespace_and_secret_then_reads_back(kubernetes_api):
    api = kubernetes_api.add(namespaces=["kube-system"])
    backend = sb.SecretStateBackend(api.client, "edgemesh-system", "edgemesh-state")
    assert backend.read() == ({}, None)
    result = backend.write(sb.build_payload(state=a_state(), ca_cert=CA_CERT, ca_key=CA_KEY))
    secret = api.secrets[("edgemesh-system", "edgemesh-state")]
    assert result == {
        "changed": True,
        "created": True,
        "changed_keys": ["mesh-ca.crt", "mesh-ca.key", "mesh-state.json"],
        "version": secret["metadata"]["resourceVersion"],
        "attempts": 1,
    }
    assert ("create", "Namespace", None, "edgemesh-system") in api.calls
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
    assert (again["changed"], again["created"], again["changed_keys"]) == (False, False, [])
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


def another_writer_once(api, key, text):
    """A hook for the stand-in: before our first replace, another client changes ``key``
    (a new resourceVersion, as the API server gives any write)."""
    done = []

    def hook(namespace, name):
        if done:
            return
        done.append(True)
        secret = api.objects[("Secret", namespace, name)]
        secret["data"][key] = base64.b64encode(text.encode()).decode()
        api.touch("Secret", namespace, name)

    return hook


def test_a_409_on_replace_is_re_read_and_retried_without_losing_the_other_update(
    kubernetes_api,
):
    api = kubernetes_api.add(namespaces=["ns"])
    backend = sb.SecretStateBackend(api.client, "ns", "s")
    backend.write(sb.build_payload(state=a_state()))
    # another job writes kubeconfig.us-core after our read, before our replace: HTTP 409
    api.intercept("replace", "Secret", another_writer_once(api, "kubeconfig.us-core", "us\n"))
    result = backend.write({"kubeconfig.eu-core": "eu\n"})
    assert result["attempts"] == 2 and result["changed_keys"] == ["kubeconfig.eu-core"]
    assert [c[0] for c in api.calls if c[1] == "Secret"][-4:] == [
        "get",
        "replace",
        "get",
        "replace",
    ]
    stored = backend.read()[0]
    assert (stored["kubeconfig.eu-core"], stored["kubeconfig.us-core"]) == ("eu\n", "us\n")


def test_a_409_over_the_same_key_is_refused_not_retried_over_it(kubernetes_api):
    api = kubernetes_api.add(namespaces=["ns"])
    backend = sb.SecretStateBackend(api.client, "ns", "s")
    backend.write(sb.build_payload(state=a_state()))
    api.intercept("replace", "Secret", another_writer_once(api, "kubeconfig.eu-core", "theirs\n"))
    with pytest.raises(sb.StateBackendError, match="key 'kubeconfig.eu-core' was changed by"):
        backend.write({"kubeconfig.eu-core": "ours\n"})
    assert backend.read()[0]["kubeconfig.eu-core"] == "theirs\n"
    assert len([c for c in api.calls if c[0] == "replace"]) == 1


def test_a_store_that_keeps_changing_gives_up_with_a_message(kubernetes_api):
    api = kubernetes_api.add(namespaces=["ns"])
    backend = sb.SecretStateBackend(api.client, "ns", "s")
    backend.write(sb.build_payload(state=a_state()))
    api.intercept("replace", "Secret", lambda namespace, name: api.touch("Secret", namespace, name))
    with pytest.raises(sb.StateBackendError, match="Secret ns/s changed under each of 5 attempts"):
        backend.write({"kubeconfig.eu-core": "x: y\n"})
    assert len([c for c in api.calls if c[0] == "replace"]) == sb.MAX_WRITE_ATTEMPTS


def test_concurrent_first_writers_both_land(kubernetes_api):
    api = kubernetes_api.add(namespaces=["ns"])
    done = []

    def someone_created_it(namespace, name):
        if done:
            return
        done.append(True)
        api.add(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": {"app.kubernetes.io/managed-by": "edgemesh.cluster_mesh"},
                },
                "data": {"kubeconfig.us-core": base64.b64encode(b"us\n").decode()},
            }
        )

    api.intercept("create", "Secret", someone_created_it)  # 409 AlreadyExists for us
    backend = sb.SecretStateBackend(api.client, "ns", "s")
    result = backend.write({"kubeconfig.eu-core": "eu\n"})
    assert result["attempts"] == 2 and result["created"] is False
    assert sorted(backend.read()[0]) == ["kubeconfig.eu-core", "kubeconfig.us-core"]


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


# --- file store: a real file, real locks, real processes ----------------------------------


def test_file_store_on_disk(tmp_path):
    path = tmp_path / "state.json"
    backend = sb.FileStateBackend(str(path))
    assert backend.where == "state store %s" % path and backend.read() == ({}, None)
    result = backend.write(sb.build_payload(state=a_state(), ca_cert=CA_CERT, ca_key=CA_KEY))
    assert (result["created"], result["version"]) == (True, "1")
    assert backend.write({"kubeconfig.eu-core": "eu\n"})["version"] == "2"
    doc = json.loads(path.read_text())
    assert doc["managed_by"] == "edgemesh.cluster_mesh" and doc["format"] == 1
    assert doc["version"] == 2 and doc["data"]["mesh-ca.key"] == CA_KEY
    assert sorted(doc["data"]) == [
        "kubeconfig.eu-core",
        "mesh-ca.crt",
        "mesh-ca.key",
        "mesh-state.json",
    ]
    for name in ("state.json", "state.json.lock"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert sorted(os.listdir(str(tmp_path))) == ["state.json", "state.json.lock"]  # no temp left
    assert backend.write({"kubeconfig.eu-core": "eu\n"})["changed"] is False
    assert json.loads(path.read_text())["version"] == 2
    path.write_text("")  # an empty file marks the place: no store yet
    assert backend.read() == ({}, None)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{nope", "state store .*: not valid JSON"),
        (
            '{"data": {}}',
            'exists but is not a state store of edgemesh.cluster_mesh \\(no "managed_by"',
        ),
        (
            '{"managed_by": "edgemesh.cluster_mesh", "format": 2, "version": 1, "data": {}}',
            "format 2 is not supported; allowed: 1",
        ),
        (
            '{"managed_by": "edgemesh.cluster_mesh", "format": 1, "version": true, "data": {}}',
            "version True is not allowed; allowed: an integer from 1",
        ),
        (
            '{"managed_by": "edgemesh.cluster_mesh", "format": 1, "version": 1, "data": []}',
            "'data' must be an object of key -> text",
        ),
        (
            '{"managed_by": "edgemesh.cluster_mesh", "format": 1, "version": 1, "data": {"k": 1}}',
            "key 'k' is int; allowed: text",
        ),
    ],
)
def test_file_store_refuses_what_it_did_not_write(tmp_path, content, message):
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(sb.StateBackendError, match=message):
        sb.FileStateBackend(str(path)).read()
    with pytest.raises(sb.StateBackendError, match=message):
        sb.FileStateBackend(str(path)).write({"kubeconfig.a": "a\n"})
    assert path.read_text() == content


def test_file_store_path_errors(tmp_path):
    with pytest.raises(
        sb.StateBackendError, match="state store 'rel/state.json' is not an absolute"
    ):
        sb.FileStateBackend("rel/state.json")
    gone = sb.FileStateBackend(str(tmp_path / "not-mounted" / "state.json"))
    with pytest.raises(
        sb.StateBackendError, match="the directory .*not-mounted of the state store does not exist"
    ):
        gone.write({"kubeconfig.a": "a\n"})
    assert not (tmp_path / "not-mounted").exists()


def test_file_store_compare_and_swap_retries_after_another_writer(tmp_path):
    path = str(tmp_path / "state.json")
    sb.FileStateBackend(path).write({"kubeconfig.a": "a\n"})

    class Racing(sb.FileStateBackend):
        """Our job; another job (a second real backend on the file) writes right after our
        first read, before our locked compare-and-swap."""

        reads = 0

        def load(self):
            result = super(Racing, self).load()
            Racing.reads += 1
            if Racing.reads == 1:
                sb.FileStateBackend(path).write({"kubeconfig.b": "b\n"})
            return result

    result = Racing(path).write({"kubeconfig.c": "c\n"})
    assert result["attempts"] == 2 and result["version"] == "3"
    assert sorted(sb.FileStateBackend(path).read()[0]) == [
        "kubeconfig.a",
        "kubeconfig.b",
        "kubeconfig.c",
    ]


LOCK_HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_lock(path, seconds):
    """Another process holding the store's POSIX lock (locks are per process)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, path + ".lock", str(seconds)], stdout=subprocess.PIPE
    )
    assert holder.stdout.readline() == b"locked\n"
    return holder


def test_file_store_waits_for_the_lock_of_another_process(tmp_path):
    path = str(tmp_path / "state.json")
    holder = hold_lock(path, 1.0)
    started = time.monotonic()
    try:
        assert sb.FileStateBackend(path).write({"kubeconfig.a": "a\n"})["version"] == "1"
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=10)
    assert waited >= 0.7, waited


def test_file_store_lock_timeout_is_a_message(tmp_path, monkeypatch):
    path = str(tmp_path / "state.json")
    monkeypatch.setattr(sb, "LOCK_TIMEOUT", 0.3)
    holder = hold_lock(path, 5.0)
    try:
        with pytest.raises(
            sb.StateBackendError, match="cannot lock .*state.json.lock within 0.3 s"
        ):
            sb.FileStateBackend(path).write({"kubeconfig.a": "a\n"})
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert not os.path.exists(path)


def _push_from_a_process(path, pulled_text, update, barrier, results):
    barrier.wait()
    try:
        result = sb.FileStateBackend(path).write(
            update, pulled=sb.PullRecord.from_text(pulled_text, "pulled")
        )
        results.put(("landed", sorted(update), result["attempts"]))
    except sb.StateBackendError as exc:
        results.put(("refused", sorted(update), str(exc)))


def race(path, updates):
    """Each update written by its own process, all released at once, all from one pull."""
    backend = sb.FileStateBackend(path)
    payload, version = backend.read()
    pulled = sb.PullRecord.of(backend.where, payload, version).to_text()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(updates)), context.Queue()
    workers = [
        context.Process(target=_push_from_a_process, args=(path, pulled, u, barrier, results))
        for u in updates
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for dummy in workers]
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


def test_file_store_processes_at_once_disjoint_keys_all_land(tmp_path):
    path = str(tmp_path / "state.json")
    sb.FileStateBackend(path).write({"mesh-state.json": sb.dump_state(a_state())})
    outcomes = race(path, [{"kubeconfig.c%d" % n: "%d\n" % n} for n in range(6)])
    assert sorted(o[0] for o in outcomes) == ["landed"] * 6
    payload, version = sb.FileStateBackend(path).read()
    assert sorted(payload) == ["kubeconfig.c%d" % n for n in range(6)] + ["mesh-state.json"]
    assert version == "7"


def test_file_store_processes_at_once_one_key_exactly_one_lands(tmp_path):
    path = str(tmp_path / "state.json")
    sb.FileStateBackend(path).write({"kubeconfig.eu-core": "original\n"})
    outcomes = race(path, [{"kubeconfig.eu-core": "writer %d\n" % n} for n in range(4)])
    landed = [o for o in outcomes if o[0] == "landed"]
    refused = [o for o in outcomes if o[0] == "refused"]
    assert len(landed) == 1 and len(refused) == 3
    assert all("key 'kubeconfig.eu-core' was changed by someone else" in o[2] for o in refused)
    payload, version = sb.FileStateBackend(path).read()
    assert payload["kubeconfig.eu-core"].startswith("writer ") and version == "2"


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

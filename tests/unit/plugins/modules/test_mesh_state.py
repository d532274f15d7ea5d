# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh_state module's get/put round trip between local files and the state Secret.

No API server exists here: the ``kubernetes_api`` fixture (tests/unit/plugins/conftest.py)
puts a stand-in for the API server where kubernetes.core's ``get_api_client`` would
connect. The module's auth options, the kubeconfig it loads, kubernetes.core's client and
everything the module does with files, options and results are real.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import stat

import pytest
import yaml
from ansible.module_utils import _internal as module_internal
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import state_backend as sb
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import plan_mesh
from ansible_collections.edgemesh.cluster_mesh.plugins.modules import mesh_state

CA_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
CA_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcfake\n-----END EC PRIVATE KEY-----\n"
STATE = {
    "format": 1,
    "max_connected_clusters": 255,
    "clusters": {"eu-core": {"id": 1, "pod_cidrs": ["10.1.0.0/16"], "active": True}},
}
MANAGEMENT = "https://management.stand-in.invalid:6443"
# Path of the kubeconfig the tests' tasks name (written by the ``api`` fixture).
KUBECONFIG = {"path": None}


@pytest.fixture
def api(kubernetes_api, write_kubeconfig):
    """The management cluster's stand-in API server, reached through a real kubeconfig."""
    KUBECONFIG["path"] = write_kubeconfig({"management": MANAGEMENT})
    return kubernetes_api.add(host=MANAGEMENT, namespaces=["edgemesh-system"])


@pytest.fixture(autouse=True)
def as_on_a_target(monkeypatch):
    """Run the module as on a managed host.

    Once any controller code is imported in this pytest process (the filter tests do),
    ansible-core routes module warnings to the controller's display instead of the
    result; a module never runs that way, so restore the target's behaviour.
    """
    monkeypatch.setattr(module_internal, "is_controller", False)


def run(args, capsys, check_mode=False):
    args = dict(args, _ansible_check_mode=check_mode)
    args.setdefault("kubeconfig", KUBECONFIG["path"])
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            mesh_state.main()
    return json.loads(capsys.readouterr().out)


def write(path, text, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)


def test_put_then_get_in_a_fresh_directory(api, capsys, tmp_path):
    job1 = tmp_path / "job1"
    write(str(job1 / "mesh-state.json"), sb.dump_state(STATE))
    write(str(job1 / "mesh-ca" / "ca.crt"), CA_CERT)
    write(str(job1 / "mesh-ca" / "ca.key"), CA_KEY)
    write(str(job1 / "eu-core" / "kubeconfig"), "apiVersion: v1\nkind: Config\n")
    write(str(job1 / "eu-core" / "k3s-token"), "token\n")
    write(str(job1 / "mgmt" / "kubeconfig"), "from the credential\n")
    write(str(job1 / "Not_A_Cluster" / "kubeconfig"), "x\n")
    put = {
        "action": "put",
        "state_path": str(job1 / "mesh-state.json"),
        "ca_cert_path": str(job1 / "mesh-ca" / "ca.crt"),
        "ca_key_path": str(job1 / "mesh-ca" / "ca.key"),
        "output_dir": str(job1),
        "exclude_keys": ["kubeconfig.mgmt"],
    }
    checked = run(put, capsys, check_mode=True)
    assert checked["changed"] is True and api.secrets == {}
    result = run(put, capsys)
    assert result["changed"] is True and result["found"] is False
    assert result["cluster_file_keys"] == ["k3s-token.eu-core", "kubeconfig.eu-core"]
    assert CA_KEY not in json.dumps(result)
    assert "Not_A_Cluster/kubeconfig is not under a cluster's directory" in json.dumps(
        result["warnings"]
    )
    assert run(put, capsys)["changed"] is False  # idempotent
    configuration, headers = api.configurations[-1]  # what kubernetes.core built
    assert configuration.host == MANAGEMENT and headers == {}

    job2 = tmp_path / "job2"  # the next job's fresh container
    get = {
        "action": "get",
        "state_path": str(job2 / "mesh-state.json"),
        "ca_cert_path": str(job2 / "mesh-ca" / "ca.crt"),
        "ca_key_path": str(job2 / "mesh-ca" / "ca.key"),
        "output_dir": str(job2),
    }
    assert run(get, capsys, check_mode=True)["changed"] is True
    assert not job2.exists()
    result = run(get, capsys)
    assert result["found"] is True and result["ca_present"] is True
    assert result["state"] == STATE
    assert CA_KEY not in json.dumps(result)
    for rel, text in (
        ("mesh-state.json", sb.dump_state(STATE)),
        ("mesh-ca/ca.key", CA_KEY),
        ("eu-core/kubeconfig", "apiVersion: v1\nkind: Config\n"),
        ("eu-core/k3s-token", "token\n"),
    ):
        assert (job2 / rel).read_text() == text
        assert stat.S_IMODE((job2 / rel).stat().st_mode) == 0o600
    assert not (job2 / "mgmt").exists()
    assert run(get, capsys)["changed"] is False


def test_put_refuses_a_renumbered_state(api, capsys, tmp_path):
    path = str(tmp_path / "mesh-state.json")
    write(path, sb.dump_state(STATE))
    run({"action": "put", "state_path": path}, capsys)
    other = copy.deepcopy(STATE)
    other["clusters"]["eu-core"]["id"] = 4
    write(path, sb.dump_state(other))
    result = run({"action": "put", "state_path": path}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("mesh_state put: refusing to overwrite the state")
    assert run({"action": "put", "state_path": path, "force": True}, capsys)["changed"] is True


def test_get_of_a_missing_secret_and_bad_inputs(api, capsys, tmp_path):
    result = run({"action": "get", "state_path": str(tmp_path / "s.json")}, capsys)
    assert result["found"] is False and result["state"] is None and result["changed"] is False
    result = run({"action": "put", "state_path": str(tmp_path / "missing.json")}, capsys)
    assert result["failed"] and "cannot read state file" in result["msg"]
    result = run({"action": "put", "ca_cert_path": str(tmp_path / "ca.crt")}, capsys)
    assert result["failed"] and result["msg"] == "give ca_cert_path and ca_key_path together"
    nothing = run({"action": "put"}, capsys)
    assert (nothing["changed"], nothing["changed_keys"], nothing.get("failed")) == (False, [], None)
    assert api.secrets == {}
    result = run({"action": "recover"}, capsys)
    assert result["failed"] and result["msg"] == "recover needs contexts or clusters"


def test_put_refuses_a_state_the_schema_refuses(api, capsys, tmp_path):
    path = str(tmp_path / "mesh-state.json")
    bad = copy.deepcopy(STATE)
    bad["clusters"]["eu-core"]["clustermesh_nodeport"] = 8080
    write(path, json.dumps(bad))
    result = run({"action": "put", "state_path": path}, capsys)
    assert result["failed"] is True
    assert result["msg"] == (
        "mesh_state put: %s: cluster 'eu-core': clustermesh_nodeport 8080 is not allowed; "
        "allowed: 30000-32767" % path
    )
    assert api.secrets == {}


def test_auth_options_and_env_reach_kubernetes_core(api, capsys, tmp_path, monkeypatch):
    """The shared kubernetes.core auth options: a context, K8S_AUTH_KUBECONFIG, impersonation."""
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", KUBECONFIG["path"])
    result = run(
        {"action": "get", "kubeconfig": None, "context": "management", "impersonate_user": "bob"},
        capsys,
    )
    assert result["found"] is False and not result.get("failed"), result
    configuration, headers = api.configurations[-1]
    assert configuration.host == MANAGEMENT
    assert headers == {"Impersonate-User": "bob"}
    result = run({"action": "get", "context": "nope"}, capsys)
    assert result["failed"] and "mesh_state get: cannot load context 'nope'" in result["msg"]


def test_unreachable_management_cluster(kubernetes_api, write_kubeconfig, capsys):
    """No server answers for the kubeconfig's host: a message naming the Secret."""
    KUBECONFIG["path"] = write_kubeconfig({"management": "https://gone.stand-in.invalid"})
    result = run({"action": "get"}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith(
        "mesh_state get: reading Secret edgemesh-system/edgemesh-state: the API server could "
        "not be reached"
    )


def test_recover_through_contexts(kubernetes_api, write_kubeconfig, capsys, tmp_path):
    """action=recover reads cilium-config and both Services through each context."""
    fixtures = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")
    with open(os.path.join(fixtures, "cilium-config", "eu-core-1.18.yaml")) as handle:
        configmap = yaml.safe_load(handle)
    eu = kubernetes_api.add(host="https://eu-core.stand-in.invalid")
    eu.add(configmap)
    eu.add(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default"},
            "spec": {"clusterIP": "172.16.0.1", "clusterIPs": ["172.16.0.1"]},
        }
    )
    KUBECONFIG["path"] = write_kubeconfig(
        {"eu-core": "https://eu-core.stand-in.invalid", "management": MANAGEMENT}
    )
    path = str(tmp_path / "mesh-state.json")
    args = {"action": "recover", "contexts": ["eu-core"], "service_cidr_prefix": 20}
    result = run(dict(args, state_path=path), capsys)
    assert result["changed"] is True, result
    assert result["state"]["clusters"]["eu-core"] == {
        "id": 1,
        "active": True,
        "pod_cidrs": ["10.1.0.0/16"],
        "service_cidrs": ["172.16.0.0/20"],
    }
    assert result["missing"] == {"eu-core": ["clustermesh_nodeport"]}
    with open(path) as handle:
        assert handle.read() == sb.dump_state(result["state"])
    assert [c[:2] for c in eu.calls] == [
        ("get", "ConfigMap"),
        ("get", "Service"),
        ("get", "Service"),
    ]
    result = run(dict(args, contexts=["us-core"]), capsys)
    assert result["failed"] and result["msg"] == (
        "contexts us-core are not in the kubeconfig (it has: eu-core, management)"
    )


# --- backend=file_store: one JSON file, the same keys and checks -------------------------


def a_plan():
    """(plan.json text, mesh-state.json text) of a real plan (mesh_planner.plan_mesh)."""
    clusters = [
        {
            "group": "cluster_eu_core",
            "vars": {
                "edgemesh_cluster_name": "eu-core",
                "edgemesh_region": "eu-west",
                "edgemesh_distribution": "k3s",
            },
            "nodes": [
                {"host": "eu-1", "ip": "192.0.2.11", "role": "server"},
                {"host": "eu-2", "ip": "192.0.2.12", "role": "agent"},
            ],
        }
    ]
    result = plan_mesh(clusters, {}, None)
    return json.dumps(result["plan"], indent=2) + "\n", sb.dump_state(result["state"])


def job_args(action, out, store, **more):
    args = {
        "action": action,
        "backend": "file_store",
        "store": str(store),
        "kubeconfig": None,
        "state_path": str(out / "mesh-state.json"),
        "plan_path": str(out / "plan.json"),
        "output_dir": str(out),
        "pull_record": str(out / "state-pulled.json"),
    }
    args.update(more)
    return args


def test_file_store_plan_job_then_a_sliced_job(capsys, tmp_path):
    store = tmp_path / "shared" / "state.json"
    store.parent.mkdir()
    plan, state = a_plan()
    planjob = tmp_path / "plan-job"
    assert run(job_args("get", planjob, store), capsys)["found"] is False
    write(str(planjob / "mesh-state.json"), state)
    write(str(planjob / "plan.json"), plan, mode=0o644)
    result = run(job_args("put", planjob, store), capsys)
    assert result["changed_keys"] == ["mesh-state.json", "plan.json"], result
    assert result["where"] == "state store %s" % store and result["version"] == "1"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600

    # a bootstrap slice in a fresh container: check mode first (nothing written, the plan
    # comes back in the result), then for real
    slice1 = tmp_path / "slice-1"
    get = job_args("get", slice1, store, require_plan=True, inventory_hosts=["eu-1", "eu-2"])
    checked = run(dict(get, inventory_scope="clusters"), capsys, check_mode=True)
    assert checked["plan"] == json.loads(plan) and not slice1.exists()
    pulled = run(dict(get, inventory_scope="clusters"), capsys)
    assert pulled["plan_found"] is True and pulled["version"] == "1"
    assert (slice1 / "plan.json").read_text() == plan
    assert stat.S_IMODE((slice1 / "plan.json").stat().st_mode) == 0o644  # as the planner
    for name in ("mesh-state.json", "state-pulled.json"):
        assert stat.S_IMODE((slice1 / name).stat().st_mode) == 0o600
    record = json.loads((slice1 / "state-pulled.json").read_text())
    assert record["version"] == "1" and sorted(record["digests"]) == [
        "mesh-state.json",
        "plan.json",
    ]
    assert "plan" not in pulled  # only a check-mode pull hands the plan back
    assert run(dict(get, inventory_scope="clusters"), capsys)["changed"] is False
    write(str(slice1 / "eu-core" / "kubeconfig"), "apiVersion: v1\n")
    put = job_args("put", slice1, store, state_path=None, plan_path=None)
    assert run(put, capsys)["changed_keys"] == ["kubeconfig.eu-core"]
    doc = json.loads(store.read_text())
    assert doc["version"] == 2 and (doc["data"]["plan.json"], doc["data"]["mesh-state.json"]) == (
        plan,
        state,
    )


def test_file_store_refusals_through_the_module(capsys, tmp_path):
    store = tmp_path / "state.json"
    out = tmp_path / "job"
    result = run(job_args("get", out, store, require_plan=True), capsys)
    assert result["failed"] and result["msg"] == (
        "mesh_state get: state store %s holds no plan: launch the edgemesh plan job first (it "
        "stores plan.json beside mesh-state.json; this job does not plan by itself)" % store
    )
    assert not out.exists()  # nothing written
    plan, state = a_plan()
    sb.FileStateBackend(str(store)).write({"plan.json": plan, "mesh-state.json": state})
    result = run(
        job_args("get", out, store, inventory_hosts=["eu-1"], inventory_scope="mesh"), capsys
    )
    assert result["failed"] and result["msg"].startswith(
        "mesh_state get: the plan in state store %s does not fit this job's inventory: this job "
        "acts on every cluster of the plan, but its inventory lacks 1 of the plan's 2 nodes "
        "(eu-2)" % store
    )
    assert not out.exists()
    put = job_args("put", out, store, state_path=None, plan_path=None)
    write(str(out / "eu-core" / "kubeconfig"), "mine\n")
    result = run(put, capsys)
    assert result["failed"] and "mesh_state put: no record of a pull at %s" % out in result["msg"]
    assert run(put, capsys, check_mode=True)["changed_keys"] == ["kubeconfig.eu-core"]
    run(job_args("get", out, store), capsys)
    sb.FileStateBackend(str(store)).write({"kubeconfig.eu-core": "someone else's\n"})
    result = run(put, capsys)
    assert result["failed"] and result["msg"].startswith(
        "mesh_state put: refusing to write state store %s: key 'kubeconfig.eu-core' was "
        "changed by someone else since this job pulled it (pulled version 1, now 2)" % store
    )
    result = run({"action": "get", "backend": "file_store"}, capsys)
    assert (
        result["failed"]
        and "backend is file_store but all of the following are missing: store" in result["msg"]
    )


def test_documentation_parses_and_documents_the_store_options():
    """ansible-doc and validate-modules read these; a ': ' in a plain scalar breaks them."""
    doc = yaml.safe_load(mesh_state.DOCUMENTATION)
    yaml.safe_load(mesh_state.EXAMPLES)
    returned = yaml.safe_load(mesh_state.RETURN)
    options = doc["options"]
    assert options["backend"]["choices"] == ["kubernetes", "file_store"]
    assert options["inventory_scope"]["choices"] == list(sb.INVENTORY_SCOPES)
    for name in ("store", "plan_path", "pull_record", "require_plan", "inventory_hosts"):
        assert options[name]["description"], name
    assert {"plan_found", "plan", "where", "version"} <= set(returned)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh_state module's get/put round trip between local files and the state Secret.

No API server exists here: ``core_v1_from_kubeconfig`` is replaced, at the edge of the
test, by a stand-in CoreV1Api that keeps Secrets in a dict and raises the real
``ApiException``. Everything the module does with files, options and results is real.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import stat

import pytest
from ansible.module_utils import _internal as module_internal
from ansible.module_utils.testing import patch_module_args
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import state_backend as sb
from ansible_collections.edgemesh.cluster_mesh.plugins.modules import mesh_state

CA_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
CA_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcfake\n-----END EC PRIVATE KEY-----\n"
STATE = {
    "format": 1,
    "max_connected_clusters": 255,
    "clusters": {"eu-core": {"id": 1, "pod_cidrs": ["10.1.0.0/16"], "active": True}},
}


class StandInCoreV1:
    """Stand-in for kubernetes.client.CoreV1Api: Secrets in a dict."""

    def __init__(self):
        self.secrets = {}
        self.version = 0

    def read_namespaced_secret(self, name, namespace):
        if (namespace, name) not in self.secrets:
            raise ApiException(status=404, reason="Not Found")
        return copy.deepcopy(self.secrets[(namespace, name)])

    def _store(self, namespace, body):
        self.version += 1
        meta = body["metadata"]
        self.secrets[(namespace, meta["name"])] = k8s.V1Secret(
            data=dict(body["data"]),
            metadata=k8s.V1ObjectMeta(
                name=meta["name"], labels=meta["labels"], resource_version=str(self.version)
            ),
        )

    def create_namespaced_secret(self, namespace, body):
        self._store(namespace, body)

    def replace_namespaced_secret(self, name, namespace, body):
        self._store(namespace, body)

    def create_namespace(self, body):
        raise AssertionError("the namespace exists in this stand-in")


@pytest.fixture
def api(monkeypatch):
    stand_in = StandInCoreV1()
    monkeypatch.setattr(mesh_state.sb, "core_v1_from_kubeconfig", lambda path, ctx: stand_in)
    return stand_in


@pytest.fixture(autouse=True)
def as_on_a_target(monkeypatch):
    """Run the module as on a managed host.

    Once any controller code is imported in this pytest process (the filter tests do),
    ansible-core routes module warnings to the controller's display instead of the
    result; a module never runs that way, so restore the target's behaviour.
    """
    monkeypatch.setattr(module_internal, "is_controller", False)


def run(args, capsys, check_mode=False):
    args = dict(args, kubeconfig="/unused/kubeconfig", _ansible_check_mode=check_mode)
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

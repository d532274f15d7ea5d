# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live clusters adopted into the plan, end to end (issue 15 #2, issue 13 "rebuild from live").

Real ``ansible-playbook`` runs on copies of the example inventory in tmp_path:

* ``playbooks/plan.yml`` with live files in ``<output_dir>/live/`` (shaped as
  playbooks/adopt_live.yml writes them from the chart's cilium-config): adopted, refused
  (nothing written), and a lost state rebuilt with ``edgemesh_state_rebuild=live``;
* ``playbooks/adopt_live.yml``: syntax check, a cluster whose kubeconfig is not here, and
  the files it writes when ``kubernetes.core.k8s_info`` reads a **stand-in** Kubernetes API
  server (a local HTTP server in this test: no API server runs here). The stand-in answers
  only what the kubernetes client asks for one ConfigMap: /version, discovery (/api, /api/v1, /apis)
  and GET of ``kube-system/cilium-config`` (404 for a cluster without Cilium), as the
  Kubernetes API reference describes those endpoints.
"""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import live_config

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = str(pathlib.Path(sys.executable).parent / "ansible-playbook")
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")


def run(playbook, inv, *args):
    proc = subprocess.run(
        [PLAYBOOK, "-i", str(inv), str(ROOT / "playbooks" / playbook)] + list(args),
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        check=False,
    )
    proc.out = " ".join((proc.stdout + proc.stderr).split())
    return proc


def snapshot(directory):
    found = {}
    for base, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, directory)] = hashlib.sha256(handle.read()).hexdigest()
    return found


def chart_configmap(name, cid, v4):
    """cilium-config data as the chart writes it (strings), with keys the planner ignores."""
    return {
        "cluster-name": name,
        "cluster-id": str(cid),
        "ipam": "cluster-pool",
        "cluster-pool-ipv4-cidr": v4,
        "cluster-pool-ipv4-mask-size": "24",
        "routing-mode": "tunnel",
    }


def write_live(inv, name, data):
    live = inv / ".edgemesh" / "live"
    live.mkdir(parents=True, exist_ok=True)
    (live / ("%s.json" % name)).write_text(live_config.live_file_text(name, data))


def planned(inv):
    plan = json.loads((inv / ".edgemesh" / "plan.json").read_text())
    return dict((c["name"], (c["id"], c["pod_cidrs"])) for c in plan["clusters"])


@pytest.fixture(name="inv")
def inv_fixture(tmp_path):
    inv = tmp_path / "mesh"
    shutil.copytree(ROOT / "inventories" / "example", inv, ignore=shutil.ignore_patterns(".*"))
    return inv


def test_plan_adopts_a_live_cluster(inv):
    write_live(inv, "eu-core", chart_configmap("eu-core", 9, "10.42.0.0/16"))
    write_live(inv, "eu-edge-1", None)  # looked: no Cilium yet
    proc = run("plan.yml", inv)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert planned(inv) == {
        "eu-core": (9, ["10.42.0.0/16"]),
        "eu-edge-1": (1, ["10.0.0.0/16"]),
        "us-core": (2, ["10.1.0.0/16"]),
    }


def test_plan_refuses_a_state_that_contradicts_the_live_cluster(inv):
    assert run("plan.yml", inv).returncode == 0  # eu-core: ID 1, 10.0.0.0/16
    write_live(inv, "eu-core", chart_configmap("eu-core", 9, "10.0.0.0/16"))
    before = snapshot(inv / ".edgemesh")
    proc = run("plan.yml", inv)
    assert proc.returncode != 0
    assert (
        "cluster 'eu-core' (group cluster_eu_core): the state file records edgemesh_cluster_id "
        "1, but the running cluster's cilium-config has 9 (live/eu-core.json)"
    ) in proc.out
    assert "Traceback" not in proc.out and "Finalization of task args" not in proc.out
    assert snapshot(inv / ".edgemesh") == before


def test_a_broken_live_file_is_named(inv):
    (inv / ".edgemesh" / "live").mkdir(parents=True)
    (inv / ".edgemesh" / "live" / "eu-core.json").write_text("{not json")
    proc = run("plan.yml", inv)
    assert proc.returncode != 0
    assert "live/eu-core.json is not JSON" in proc.out and "Traceback" not in proc.out


def test_a_lost_state_is_rebuilt_from_the_live_clusters(inv):
    assert run("plan.yml", inv).returncode == 0
    first = planned(inv)
    (inv / ".edgemesh" / "mesh-state.json").unlink()
    write_live(inv, "eu-core", chart_configmap("eu-core", 1, "10.0.0.0/16"))
    proc = run("plan.yml", inv, "-e", "edgemesh_state_rebuild=live")
    assert proc.returncode != 0  # eu-edge-1 and us-core are in plan.json, not live
    assert "cluster 'eu-edge-1' (group cluster_eu_edge_1): edgemesh_state_rebuild is 'live'" in (
        proc.out
    )
    assert not (inv / ".edgemesh" / "mesh-state.json").exists()
    write_live(inv, "eu-edge-1", chart_configmap("eu-edge-1", 2, "10.1.0.0/16"))
    write_live(inv, "us-core", chart_configmap("us-core", 3, "10.2.0.0/16"))
    proc = run("plan.yml", inv, "-e", "edgemesh_state_rebuild=live")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert planned(inv) == first
    assert (inv / ".edgemesh" / "mesh-state.json").is_file()


# ---------------------------------------------------------------- playbooks/adopt_live.yml


def test_adopt_live_syntax(inv):
    proc = run("adopt_live.yml", inv, "--syntax-check")
    assert proc.returncode == 0, proc.out


class StandInApiHandler(BaseHTTPRequestHandler):
    """Stand-in for a Kubernetes API server: discovery and one ConfigMap (test double)."""

    configmaps = {}  # server port -> cilium-config data, or None for no Cilium

    def log_message(self, *args):  # quiet
        del args

    seen = []

    def _send(self, code, body):
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0].rstrip("/")
        self.seen.append(self.path)
        data = self.configmaps.get(self.server.server_address[1])
        if path == "/version":
            self._send(200, {"major": "1", "minor": "35", "gitVersion": "v1.35.2"})
        elif path == "/api":
            self._send(200, {"kind": "APIVersions", "versions": ["v1"]})
        elif path == "/apis":
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        elif path == "/api/v1":
            resource = {"name": "configmaps", "namespaced": True, "kind": "ConfigMap"}
            resource["verbs"] = ["get", "list"]
            self._send(
                200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [resource]}
            )
        elif path == "/api/v1/namespaces/kube-system/configmaps/cilium-config" and data:
            meta = {"name": "cilium-config", "namespace": "kube-system"}
            self._send(
                200, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}
            )
        else:
            status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}
            self._send(404, dict(status, reason="NotFound", message="not found"))


@pytest.fixture(name="api_servers")
def api_servers_fixture():
    servers = []

    def start(data):
        server = ThreadingHTTPServer(("127.0.0.1", 0), StandInApiHandler)
        StandInApiHandler.configmaps[server.server_address[1]] = data
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d" % server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def kubeconfig(path, url):
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": url}}],
                "users": [{"name": "u", "user": {"token": "stand-in"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )


def test_adopt_live_writes_what_the_stand_in_api_serves(inv, tmp_path, api_servers):
    data = chart_configmap("eu-core", 9, "10.42.0.0/16")
    kubeconfig(tmp_path / "eu-core.kubeconfig", api_servers(data))
    kubeconfig(tmp_path / "eu-edge-1.kubeconfig", api_servers(None))
    group_vars = inv / "group_vars"
    with open(group_vars / "cluster_eu_core.yml", "a") as handle:
        handle.write("edgemesh_kubeconfig: %s\n" % (tmp_path / "eu-core.kubeconfig"))
    with open(group_vars / "cluster_eu_edge_1.yml", "a") as handle:
        handle.write("edgemesh_kubeconfig: %s\n" % (tmp_path / "eu-edge-1.kubeconfig"))
    with open(group_vars / "cluster_us_core.yml", "a") as handle:
        handle.write("edgemesh_kubeconfig: %s\n" % (tmp_path / "missing.kubeconfig"))
    proc = run("adopt_live.yml", inv)
    assert proc.returncode == 0, (proc.stdout[-3000:], StandInApiHandler.seen)
    assert "Not read (no such kubeconfig on the control node): us-core at" in proc.out
    live = inv / ".edgemesh" / "live"
    assert sorted(p.name for p in live.iterdir()) == ["eu-core.json", "eu-edge-1.json"]
    assert (live / "eu-core.json").read_text() == live_config.live_file_text("eu-core", data)
    assert json.loads((live / "eu-edge-1.json").read_text())["data"] is None
    assert oct((live / "eu-core.json").stat().st_mode & 0o777) == "0o644"
    # The planner then keeps the live ID and pool of eu-core.
    proc = run("plan.yml", inv)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert planned(inv)["eu-core"] == (9, ["10.42.0.0/16"])

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real Cilium chart rendered by the real helm with exactly what roles/cilium passes.

One ansible-playbook run per session (render/render.yml) includes the role's own
tasks/values.yml - the code path of the Helm upgrade, mesh CA included - for every
supported Cilium version (mesh_rules.CILIUM_MINORS, chart_tested) and every plan of
render/plans.py (made by the real planner), and renders each cluster with
kubernetes.core.helm_template and helm v4.1.4 (the first cluster of every plan twice, for
the byte-identical check). The assertions read the rendered objects: cilium-config, the CA Secret, the mesh peers' Secrets and hostAliases, the
clustermesh-apiserver Service/Deployment/PDB, tolerations, and the chart's NOTES.

Facts relied on (read in the charts themselves): the clustermesh-config templates write
one endpoint ``https://<peer>.<clustermesh.config.domain>:<port>`` per peer and one
hostAlias per peer IP; templates/warnings.txt of 1.20.0 warns when the relay server TLS
is off; the operator's default tolerations include the control-plane taint.
"""

import base64
import collections
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import api_endpoints
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import cilium_values as cv
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules, plan_types

from .conftest import ROOT, chart_path

HERE = pathlib.Path(__file__).resolve().parent
_SPEC = importlib.util.spec_from_file_location(
    "edgemesh_render_plans", HERE / "render" / "plans.py"
)
plans = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(plans)

VERSIONS = [m.chart_tested for m in mesh_rules.CILIUM_MINORS]
SCENARIOS = sorted(plans.SCENARIOS)
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STATS = collections.Counter()


class Render:
    """One cluster's render: the objects, both texts, helm's stderr, values, plan."""

    def __init__(self, out, plan, cluster, version):
        self.out = out
        self.version = version
        self.plan = plan
        self.cluster = dict((c["name"], c) for c in plan["clusters"])[cluster]
        data = json.loads((out / "render.json").read_text())
        self.text = data["renders"][0]
        # Only the first cluster of each plan is rendered a second time.
        self.second = data["renders"][1] if len(data["renders"]) > 1 else None
        self.stderr = data["stderr"]
        self.values = data["values"]
        self.lb_objects = data["lb_objects"]
        self.objects = [d for d in yaml.load_all(self.text, Loader=Loader) if d]

    def get(self, kind, name):
        found = [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name]
        assert len(found) == 1, "%s/%s: %d objects in the render" % (kind, name, len(found))
        STATS["checked", self.version] += 1
        return found[0]

    def find(self, kind, name):
        return [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name]


def _run_renders(tmp, helm):
    jobs, index = [], {}
    for version in VERSIONS:
        chart = chart_path(helm, version)
        for scenario in SCENARIOS:
            plan, names = plans.make_plan(scenario, version)
            plan_file = tmp / ("plan-%s-%s.json" % (scenario, version))
            plan_file.write_text(json.dumps(plan))
            for number, name in enumerate(names):
                out = tmp / version / scenario / name
                out.mkdir(parents=True)
                jobs.append(
                    {
                        "plan": str(plan_file),
                        "cluster": name,
                        "chart": chart,
                        "out": str(out),
                        "times": 2 if number == 0 else 1,
                    }
                )
                index[(version, scenario, name)] = (out, plan)
    (tmp / "jobs.json").write_text(json.dumps(jobs))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    cmd = [
        os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        str(HERE / "render" / "render.yml"),
        "-e",
        json.dumps(
            {
                "render_jobs_file": str(tmp / "jobs.json"),
                "render_ca_dir": str(tmp / "mesh-ca"),
                "render_helm": helm,
            }
        ),
    ]
    started = time.time()
    proc = subprocess.run(
        cmd, cwd=str(ROOT), env=env, capture_output=True, text=True, check=False, timeout=3600
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    STATS["render seconds"] = round(time.time() - started, 1)
    STATS["renders"] = sum(job["times"] for job in jobs)
    result = dict((key, Render(out, plan, key[2], key[0])) for key, (out, plan) in index.items())
    result["_ca_dir"] = tmp / "mesh-ca"
    return result


@pytest.fixture(scope="session")
def renders(tmp_path_factory, helm_binary):
    result = _run_renders(tmp_path_factory.mktemp("renders"), helm_binary)
    yield result
    for version in VERSIONS:
        mine = [r for k, r in result.items() if isinstance(k, tuple) and k[0] == version]
        sys.stdout.write(
            "\nchart %s: %d clusters rendered (%d helm renders), %d objects rendered, "
            "%d object checks, %d peers checked"
            % (
                version,
                len(mine),
                len(mine) + sum(1 for r in mine if r.second is not None),
                sum(len(r.objects) for r in mine),
                STATS["checked", version],
                STATS["peers", version],
            )
        )
    sys.stdout.write("\nplaybook with every render: %ss\n" % STATS["render seconds"])


def _each(renders, version, scenario=None):
    return [
        r
        for k, r in sorted(renders.items(), key=lambda kv: str(kv[0]))
        if isinstance(k, tuple) and k[0] == version and (scenario is None or k[1] == scenario)
    ]


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def _peer_entries(values):
    clusters = values["clustermesh"]["config"]["clusters"]
    if isinstance(clusters, list):
        return dict((c["name"], c) for c in clusters)
    return clusters


def _pod_spec(obj):
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


# ------------------------------------------------------------ one render, many checks


@pytest.mark.parametrize("version", VERSIONS)
def test_cilium_config_carries_the_plan(renders, version):
    for r in _each(renders, version):
        cluster, config = r.cluster, r.get("ConfigMap", "cilium-config")["data"]
        assert config["cluster-name"] == cluster["name"]
        assert config["cluster-id"] == str(cluster["id"])
        assert config["max-connected-clusters"] == str(r.plan["mesh"]["max_connected_clusters"])
        assert config["ipam"] == "cluster-pool"
        v4 = [c for c in cluster["pod_cidrs"] if ":" not in c]
        v6 = [c for c in cluster["pod_cidrs"] if ":" in c]
        assert config["cluster-pool-ipv4-cidr"] == " ".join(v4)
        assert config.get("cluster-pool-ipv6-cidr", "") == " ".join(v6)
        assert config["enable-ipv6"] == ("true" if v6 else "false")
        assert config["kube-proxy-replacement"] == "true"
        assert config["enable-wireguard"] == "true"
        native = (cluster.get("cilium") or {}).get("routing_mode") == "native"
        assert config["routing-mode"] == ("native" if native else "tunnel")
        if native:
            assert config["auto-direct-node-routes"] == "true"
            assert config["ipv4-native-routing-cidr"] == cv.covering_cidr(
                [p for c in r.plan["clusters"] for p in c["pod_cidrs"] if ":" not in p]
            )
        else:
            assert config["tunnel-protocol"] == "vxlan"
        api = r.get("DaemonSet", "cilium")["spec"]["template"]["spec"]["containers"][0]["env"]
        env = dict((e["name"], e.get("value")) for e in api)
        # issue 15 #1: every node's own loopback (api_endpoints), never one server
        local = api_endpoints.agent_endpoint(plan_types.ClusterPlan.from_dict(cluster))
        assert (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]) == (
            local.host,
            str(local.port),
        )
        assert local.host == "127.0.0.1" or cluster.get("kubeconfig")


@pytest.mark.parametrize("version", VERSIONS)
def test_the_ca_secret_is_the_mesh_ca(renders, version):
    ca_dir = pathlib.Path(renders["_ca_dir"])
    cert, key = (ca_dir / "ca.crt").read_text(), (ca_dir / "ca.key").read_text()
    for r in _each(renders, version):
        data = r.get("Secret", "cilium-ca")["data"]
        assert data["ca.crt"] == _b64(cert) and data["ca.key"] == _b64(key)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_peer_is_dialled_at_its_planned_address_and_port(renders, version):
    for r in _each(renders, version):
        by_name = dict((c["name"], c) for c in r.plan["clusters"])
        peers = sorted(set(by_name) - {r.cluster["name"]})
        kvstoremesh = r.get("Secret", "cilium-kvstoremesh")["data"]
        assert sorted(kvstoremesh) == peers
        aliases = collections.defaultdict(list)
        spec = r.get("Deployment", "clustermesh-apiserver")["spec"]["template"]["spec"]
        for alias in spec["hostAliases"]:
            for hostname in alias["hostnames"]:
                aliases[hostname].append(alias["ip"])
        for peer in peers:
            address = plans.LB_ADDRESSES.get(peer) if r.values.get("l2announcements") else None
            # NodePort: every node of the peer; LoadBalancer: its address on 2379
            ips = [address] if address else cv.node_ips(plan_cluster(by_name[peer]))
            port = 2379 if address else by_name[peer]["clustermesh_nodeport"]
            config = yaml.safe_load(base64.b64decode(kvstoremesh[peer]))
            hostname = "%s.mesh.cilium.io" % peer
            assert config["endpoints"] == ["https://%s:%d" % (hostname, port)]
            assert aliases[hostname] == ips, (r.out, peer)
        # the agents reach the remote clusters through the local KVStoreMesh
        assert sorted(r.get("Secret", "cilium-clustermesh")["data"]) == peers
        STATS["peers", version] += len(peers)


def plan_cluster(data):
    from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.plan_types import (
        ClusterPlan,
    )

    return ClusterPlan.from_dict(data)


@pytest.mark.parametrize("version", VERSIONS)
def test_clustermesh_apiserver_service_replicas_and_pdb(renders, version):
    for r in _each(renders, version):
        spec = r.get("Service", "clustermesh-apiserver")["spec"]
        address = (r.cluster.get("cilium") or {}).get("clustermesh_addresses", {})
        address = address.get(r.cluster["name"])
        if address:
            assert (spec["type"], spec["loadBalancerIP"]) == ("LoadBalancer", address)
            assert spec["ports"][0]["port"] == 2379
        else:
            assert spec["type"] == "NodePort"
            assert spec["ports"][0]["nodePort"] == r.cluster["clustermesh_nodeport"]
            # every node forwards to a replica, so every node IP the peers dial answers
            assert spec["externalTrafficPolicy"] == "Cluster"
        replicas = r.get("Deployment", "clustermesh-apiserver")["spec"]["replicas"]
        pdb = r.find("PodDisruptionBudget", "clustermesh-apiserver")
        if len(r.cluster["nodes"]) >= 2:
            assert replicas == 2 and pdb[0]["spec"]["maxUnavailable"] == 1
        else:
            assert replicas == 1 and pdb == []


@pytest.mark.parametrize("version", VERSIONS)
def test_loadbalancer_exposure_is_answered_on_bare_metal(renders, version):
    for r in _each(renders, version, "loadbalancer"):
        config = r.get("ConfigMap", "cilium-config")["data"]
        assert config["enable-l2-announcements"] == "true"
        service = r.get("Service", "clustermesh-apiserver")
        pool, policy = r.lb_objects
        assert pool["spec"]["blocks"] == [{"cidr": service["spec"]["loadBalancerIP"] + "/32"}]
        for obj in (pool, policy):
            labels = obj["spec"]["serviceSelector"]["matchLabels"]
            assert labels.items() <= service["metadata"]["labels"].items()
        assert policy["spec"]["loadBalancerIPs"] is True
    for r in _each(renders, version, "example"):
        assert (
            r.lb_objects == []
            and "enable-l2-announcements" not in r.get("ConfigMap", "cilium-config")["data"]
        )


def _tolerates(tolerations, taint):
    for t in tolerations or []:
        if t.get("effect") not in (None, "", taint["effect"]):
            continue
        if t.get("operator", "Equal") == "Exists" and t.get("key") in (None, "", taint["key"]):
            return True
        if t.get("key") == taint["key"] and t.get("value", "") == taint.get("value", ""):
            return True
    return False


MESH_PODS = (
    ("Deployment", "clustermesh-apiserver"),
    ("Deployment", "hubble-relay"),
    ("Deployment", "cilium-operator"),
    ("DaemonSet", "cilium"),
)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_mesh_pod_schedules_on_a_tainted_control_plane_only_node(renders, version):
    """Single-node kubeadm clusters keep kubeadm's control-plane taint (issue 15 #4)."""
    taint = mesh_rules.CONTROL_PLANE_TAINT
    for r in _each(renders, version, "single-node"):
        pods = [r.get(kind, name) for kind, name in MESH_PODS]
        # the certgen Jobs and CronJobs (clustermesh-apiserver and Hubble certificates)
        certgen = [o for o in r.objects if o["kind"] in ("Job", "CronJob")]
        assert len([o for o in certgen if o["kind"] == "Job"]) == 2
        assert "hubble-generate-certs" in [o["metadata"]["name"] for o in certgen]
        pods += certgen
        for obj in pods:
            spec = _pod_spec(obj)
            assert _tolerates(spec.get("tolerations"), taint), (obj["kind"], obj["metadata"])
            # one node: no required anti-affinity may keep a second replica pending
            replicas = obj["spec"].get("replicas", 1) if obj["kind"] == "Deployment" else 1
            required = (spec.get("affinity") or {}).get("podAntiAffinity", {})
            if required.get("requiredDuringSchedulingIgnoredDuringExecution"):
                assert replicas == 1, obj["metadata"]["name"]
            STATS["checked", version] += 1


@pytest.mark.parametrize("version", VERSIONS)
def test_511_clusters(renders, version):
    r = renders[(version, "511-clusters", "m511")]
    config = r.get("ConfigMap", "cilium-config")["data"]
    assert (config["cluster-id"], config["max-connected-clusters"]) == ("511", "511")
    assert len(r.get("Secret", "cilium-kvstoremesh")["data"]) == 510


@pytest.mark.parametrize("version", VERSIONS)
def test_a_second_render_is_byte_identical(renders, version):
    twice = [r for r in _each(renders, version) if r.second is not None]
    assert len(twice) == len(SCENARIOS), [r.out for r in twice]
    for r in twice:
        assert r.text == r.second, r.out


@pytest.mark.parametrize("version", VERSIONS)
def test_helm_reports_nothing_but_the_known_harmless_note(renders, version):
    clusters_as_map = mesh_rules.minor_rules(version).clusters_as_map
    for r in _each(renders, version):
        assert cv.helm_warnings(r.stderr) == [], r.stderr
        # the note the role drops is really there when the peers are a map
        assert ("Ignoring non-table value" in r.stderr) == clusters_as_map


@pytest.mark.parametrize("version", VERSIONS)
def test_the_chart_notes_carry_no_warning(renders, helm_binary, version, tmp_path):
    """helm install --dry-run=client (offline) prints the NOTES helm_template leaves out."""
    for scenario in SCENARIOS:
        r = _each(renders, version, scenario)[0]
        values = tmp_path / ("%s.json" % scenario)
        values.write_text(json.dumps(r.values))
        proc = subprocess.run(
            [helm_binary, "install", "cilium", chart_path(helm_binary, version), "-n"]
            + ["kube-system", "--dry-run=client", "-f", str(values)],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, KUBECONFIG=str(tmp_path / "none")),
        )
        notes = proc.stdout.split("\nNOTES:\n", 1)[1]
        assert "Your release version is %s." % version in notes
        assert "WARNING" not in notes, notes
        assert "with Hubble Relay" in notes

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify and global_services roles' Python decisions, run by real Ansible on localhost.

* The roles' own tasks that call the filters (taken from roles/*/tasks/*.yml, not
  restated) with the roles' vars files: the cross-cluster policies of global_services, and
  the verify role's checks fed with canned API answers - a stand-in for the Kubernetes API,
  named as such.
* playbooks/verify.yml against clusters whose API refuses connections (127.0.0.1, a closed
  port): real kubernetes.core calls fail, and the table and the failure list say so.
* playbooks/global_services.yml refusing bad settings in its preflight.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLE_VARS = ROOT / "inventories" / "example" / "group_vars" / "all" / "cilium.yml"
ROLE_DEFAULTS = yaml.safe_load(
    (ROOT / "roles" / "global_services" / "defaults" / "main.yml").read_text(encoding="utf-8")
)

CLUSTERS = [
    {"name": "eu-core", "region": "eu-west"},
    {"name": "eu-edge-1", "region": "eu-west"},
    {"name": "us-core", "region": "us-east"},
]


def role_task(role, tasks_file, name):
    """A task of a role's task file, by name (blocks searched too)."""

    def walk(tasks):
        for task in tasks:
            yield task
            yield from walk(task.get("block", []))

    path = ROOT / "roles" / role / "tasks" / tasks_file
    (task,) = [t for t in walk(yaml.safe_load(path.read_text())) if t.get("name") == name]
    return task


def ansible(tmp, plays):
    playbook = tmp / "pb.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    inventory = tmp / "hosts.ini"
    inventory.write_text("unused ansible_host=192.0.2.1\n")
    bin_dir = pathlib.Path(sys.executable).parent
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [str(bin_dir / "ansible-playbook"), "-i", str(inventory), str(playbook)],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc


def dump_task(fact, dest):
    return {
        "name": "Keep the result",
        "ansible.builtin.copy": {
            "dest": str(dest),
            "content": "{{ %s | to_json }}" % fact,
            "mode": "0644",
        },
    }


def render_policies(tmp):
    build = role_task(
        "global_services",
        "configure.yml",
        "Build the wanted Service annotations and policies of this cluster",
    )
    plays = [
        {
            "name": "Policies of %s" % cluster["name"],
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": [
                str(EXAMPLE_VARS),
                str(ROOT / "roles" / "global_services" / "vars" / "main.yml"),
            ],
            # the role's defaults as play vars: the vars files (example) take precedence
            "vars": {
                **ROLE_DEFAULTS,
                "global_services_plan": {"clusters": CLUSTERS},
                "global_services_cluster_name": cluster["name"],
                "global_services_output_dir": str(tmp),
                "global_services_kubeconfig": "",
            },
            "tasks": [
                build,
                dump_task("_global_services_wanted_policies", tmp / (cluster["name"] + ".json")),
            ],
        }
        for cluster in CLUSTERS
    ]
    ansible(tmp, plays)
    return dict(
        (c["name"], json.loads((tmp / (c["name"] + ".json")).read_text())) for c in CLUSTERS
    )


def cluster_selector(rule):
    (selector,) = rule["fromEndpoints"]
    (expr,) = [
        e for e in selector["matchExpressions"] if e["key"] == "io.cilium.k8s.policy.cluster"
    ]
    assert expr["operator"] == "In"
    return expr["values"]


def test_region_isolation_and_allow_list(tmp_path):
    policies = render_policies(tmp_path)
    for name, region_clusters in (
        ("eu-core", ["eu-core", "eu-edge-1"]),
        ("eu-edge-1", ["eu-core", "eu-edge-1"]),
        ("us-core", ["us-core"]),
    ):
        ccnp = policies[name]["CiliumClusterwideNetworkPolicy//edgemesh-region-isolation"]
        assert ccnp["kind"] == "CiliumClusterwideNetworkPolicy"
        spec = ccnp["spec"]
        # default-deny between regions: only same-region clusters (explicitly) + entities
        assert cluster_selector(spec["ingress"][0]) == region_clusters
        assert "world" not in spec["ingress"][1]["fromEntities"]
        assert spec["endpointSelector"]["matchExpressions"][0]["values"] == ["kube-system"]
        assert "ingressDeny" not in spec  # denies would override the allow-list

    # the us -> eu reports flow exists only where it is enforced: the EU clusters
    key = "CiliumNetworkPolicy/reports/edgemesh-allow-us-reports-to-eu-api"
    assert key in policies["eu-core"] and key in policies["eu-edge-1"]
    assert key not in policies["us-core"]
    cnp = policies["eu-core"][key]
    rule = cnp["spec"]["ingress"][0]
    assert cluster_selector(rule) == ["us-core"]
    assert {"key": "k8s:io.kubernetes.pod.namespace", "operator": "In", "values": ["reports"]} in (
        rule["fromEndpoints"][0]["matchExpressions"]
    )
    assert rule["fromEndpoints"][0]["matchLabels"] == {"app": "report-job"}
    assert rule["toPorts"] == [{"ports": [{"port": "8443", "protocol": "TCP"}]}]
    assert cnp["spec"]["endpointSelector"] == {"matchLabels": {"app": "reports-api"}}

    echo = policies["us-core"]["CiliumNetworkPolicy/demo/edgemesh-allow-echo-from-everywhere"]
    assert cluster_selector(echo["spec"]["ingress"][0]) == ["eu-core", "eu-edge-1", "us-core"]
    # without from_namespace the selector must not default to the policy's namespace
    assert {"key": "k8s:io.kubernetes.pod.namespace", "operator": "Exists"} in (
        echo["spec"]["ingress"][0]["fromEndpoints"][0]["matchExpressions"]
    )
    for per_cluster in policies.values():
        for definition in per_cluster.values():
            labels = definition["metadata"]["labels"]
            assert labels == {"app.kubernetes.io/managed-by": "edgemesh-global-services"}


STATUS_OK = """KVStore:                 Disabled
Kubernetes:              Ok         1.33 (v1.33.5) [linux/amd64]
KubeProxyReplacement:    True   [eth0   192.0.2.11 fe80::1 (Direct Routing)]
Host firewall:           Disabled
Encryption:              Wireguard   [NodeEncryption: Disabled, cilium_wg0 (Pubkey: x=, Port: 51871, Peers: 2)]
Cluster health:          3/3 reachable   (2026-01-01T00:00:00Z)
ClusterMesh:             2/2 remote clusters ready, 1 global-services
"""

STATUS_PARTITIONED = STATUS_OK.replace("2/2 remote clusters ready", "1/2 remote clusters ready")
STATUS_NO_WG = STATUS_OK.replace("Wireguard   [NodeEncryption", "Disabled   [NodeEncryption")


def evaluate(tmp, cases):
    """Canned API answers (stand-in for the Kubernetes API) -> the verify role's checks."""
    evaluate_task = role_task("verify", "service.yml", "Evaluate the checks")
    plays = []
    for index, (status, ds_ready, local_ready) in enumerate(cases):
        workloads = {
            "results": [
                {
                    "api_found": True,
                    "resources": [
                        {"status": {"desiredNumberScheduled": 3, "numberReady": ds_ready}}
                    ],
                },
                {
                    "api_found": True,
                    "resources": [{"spec": {"replicas": 2}, "status": {"readyReplicas": 2}}],
                },
                {"api_found": True, "resources": []},
            ]
        }
        slices = [{"endpoints": [{"conditions": {"ready": local_ready}}]}]
        facts = {
            "__verify_workloads": workloads,
            "__verify_agents": {
                "api_found": True,
                "resources": [{"metadata": {"name": "cilium-abcde"}}],
            },
            "__verify_status": {"stdout": status},
            "__verify_local_services": {
                "results": [{"item": {"name": "echo", "namespace": "demo"}, "resources": slices}]
            },
            "verify_cluster_name": "eu-core",
            "verify_plan": {"clusters": [{"name": "eu-core", "peers": ["eu-edge-1", "us-core"]}]},
            "verify_expect_encryption": True,
            "verify_expect_kube_proxy_replacement": True,
        }
        plays.append(
            {
                "name": "Checks %d" % index,
                "hosts": "localhost",
                "gather_facts": False,
                "vars_files": [
                    str(ROOT / "roles" / "verify" / "vars" / "main.yml"),
                ],
                "vars": facts,
                "tasks": [
                    evaluate_task,
                    dump_task("verify_checks", tmp / ("checks-%d.json" % index)),
                ],
            }
        )
    ansible(tmp, plays)
    return [json.loads((tmp / ("checks-%d.json" % i)).read_text()) for i in range(len(cases))]


def test_verify_checks_healthy_partitioned_and_broken(tmp_path):
    ok, partitioned, no_wg, empty = evaluate(
        tmp_path,
        [
            (STATUS_OK, 3, True),
            (STATUS_PARTITIONED, 2, False),
            (STATUS_NO_WG, 3, True),
            ("", 3, True),
        ],
    )
    assert ok["agents"] == {"ok": True, "detail": "3/3 ready"}
    assert ok["operator"]["ok"] is True
    assert ok["clustermesh-apiserver"] == {"ok": False, "detail": "Deployment not found"}
    assert ok["clustermesh"] == {"ok": True, "detail": "2/2 remote ready, want 2/2"}
    assert ok["encryption"] == {"ok": True, "detail": "Wireguard"}
    assert ok["kube-proxy-replacement"] == {"ok": True, "detail": "True"}
    assert ok["local-affinity"]["ok"] is True

    assert partitioned["clustermesh"] == {"ok": False, "detail": "1/2 remote ready, want 2/2"}
    assert partitioned["agents"] == {"ok": False, "detail": "2/3 ready"}
    assert partitioned["local-affinity"] == {
        "ok": False,
        "detail": "no ready local endpoints: demo/echo",
    }

    assert no_wg["encryption"] == {"ok": False, "detail": "Disabled"}

    assert empty["clustermesh"]["ok"] is False
    assert empty["clustermesh"]["detail"] == "no cilium-dbg status: exec in cilium-abcde failed"


def refusing_mesh(tmp_path, write_mesh):
    """Two existing clusters whose API server address refuses connections (port 1)."""
    inventory = write_mesh(tmp_path, 2)
    for kubeconfig in (tmp_path / "kubeconfigs").glob("*.yaml"):
        data = yaml.safe_load(kubeconfig.read_text())
        data["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
        kubeconfig.write_text(yaml.safe_dump(data))
    return inventory


def test_verify_playbook_reports_an_unreachable_api(runner, tmp_path, write_mesh):
    """issue 15 #5: the reads are retried, all together within verify_wait_timeout (here 3 s,
    one try a second), then the failed checks say how long they waited. Real kubernetes.core
    calls against a closed port; the retries are counted from ansible's own RETRYING lines."""
    inventory = refusing_mesh(tmp_path, write_mesh)
    runner.run("plan.yml", inventory)
    started = time.monotonic()
    wait = '{"verify_wait_timeout": 3, "verify_wait_delay": 1}'
    proc = runner.run("verify.yml", inventory, "-e", wait, check=False)[0]
    assert time.monotonic() - started >= 3
    assert proc.returncode != 0
    flat = " ".join(proc.stdout.split())  # the result callback wraps long lines
    for cluster in ("c01", "c02"):
        retries = re.findall(
            r"FAILED - RETRYING: \[edgemesh-cilium-%s\]: Wait for" % cluster, proc.stdout
        )
        # waited (at least one retry), and never past the shared deadline: at most
        # timeout / delay retries over all the waits of the cluster together
        assert 1 <= len(retries) <= 3, proc.stdout[-3000:]
        assert (
            "%s: agents: API call failed (unreachable or forbidden) (still so after"
            " waiting 3 s)" % cluster
        ) in flat

    def shown(line):
        return " ".join(line.split()) in flat

    assert shown(
        "cluster | agents | operator | clustermesh-apiserver | clustermesh | encryption"
        " | kube-proxy-replacement | local-affinity"
    )
    for cluster in ("c01", "c02"):
        assert shown("%s | FAIL | FAIL | FAIL | FAIL | FAIL | FAIL | ok |" % cluster), proc.stdout[
            -3000:
        ]
        assert shown("%s: agents: API call failed (unreachable or forbidden)" % cluster)
        assert shown("%s: clustermesh: no cilium-dbg status: API call failed" % cluster)
        assert shown("%s: clustermesh: no cilium-dbg status: API call failed (still so" % cluster)
    # no global services here: nothing to look for, so local-affinity passes
    assert "local-affinity: " not in flat


REFUSING_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "x", "cluster": {"server": "https://127.0.0.1:1"}}],
    "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
    "current-context": "x",
    "users": [{"name": "x", "user": {"token": "unused"}}],
}


def test_global_services_refuses_bad_settings_with_clear_messages(runner):
    example = ROOT / "inventories" / "example"
    runner.run("plan.yml", example)
    # kubeconfigs whose API refuses connections: the playbook goes as far as the role
    # (since issue 13 it refuses a cluster without a kubeconfig before any role runs)
    for cluster in ("eu-core", "eu-edge-1", "us-core"):
        (runner.out / cluster).mkdir(parents=True, exist_ok=True)
        (runner.out / cluster / "kubeconfig").write_text(yaml.safe_dump(REFUSING_KUBECONFIG))
    bad_service = '{"global_services_services": [{"name": "echo", "namespace": "demo", "affinity": "sideways"}]}'
    proc = runner.run("global_services.yml", example, "-e", bad_service, check=False)[0]
    assert proc.returncode != 0
    # the services are checked by their builder (Python), whose messages name the service
    assert "global_services: global service demo/echo: affinity" in proc.stdout
    bad_flow = (
        '{"global_services_allowed_flows": [{"name": "x", "to_namespace": "demo", '
        '"to_labels": {"app": "echo"}, "ports": [{"port": 80}], "from_regions": ["mars"]}]}'
    )
    proc = runner.run("global_services.yml", example, "-e", bad_flow, check=False)[0]
    assert proc.returncode != 0
    # the flow is checked by the policy builder (Python), whose messages carry its name
    assert "mesh_policies: allowed flow x is invalid" in proc.stdout
    assert "regions: eu-west, us-east" in proc.stdout
    # the example's own settings pass; what is missing here is a cluster to talk to
    proc = runner.run("global_services.yml", example, check=False)[0]
    assert proc.returncode != 0
    flat = " ".join(proc.stdout.split())
    assert "TASK [edgemesh.cluster_mesh.global_services : Mark the global services]" in flat
    assert "HTTPSConnectionPool(host='127.0.0.1', port=1)" in flat.replace("''", "'")
    assert "is invalid" not in proc.stdout and "is not allowed" not in proc.stdout
    for cluster in ("eu-core", "eu-edge-1", "us-core"):
        (runner.out / cluster / "kubeconfig").unlink()
    proc = runner.run("verify.yml", example, check=False)[0]
    assert proc.returncode != 0
    assert "No kubeconfig on the control node for 3 planned cluster(s)" in proc.stdout


def test_global_services_refuses_namespace_export_before_1_20(runner):
    """issue 16 #5: namespace export listed needs Cilium 1.20; the example plans 1.19.6, so
    the role's preflight (real Ansible, the namespace_export filter) stops, naming the
    version, before any task talks to a cluster."""
    example = ROOT / "inventories" / "example"
    runner.run("plan.yml", example)
    for cluster in ("eu-core", "eu-edge-1", "us-core"):
        (runner.out / cluster).mkdir(parents=True, exist_ok=True)
        (runner.out / cluster / "kubeconfig").write_text(yaml.safe_dump(REFUSING_KUBECONFIG))
    listed = '{"global_services_namespace_export": "listed"}'
    proc = runner.run("global_services.yml", example, "-e", listed, check=False)[0]
    assert proc.returncode != 0
    flat = " ".join(proc.stdout.split())
    assert (
        "namespace_export: namespace export listed needs Cilium 1.20 (clustermesh.defaultGlobalNamespace"
        " and the namespace annotation clustermesh.cilium.io/global); the plan's Cilium is 1.19.6"
        " (minor 1.19); allowed here: all" in flat
    )
    assert "Mark the global services" not in flat

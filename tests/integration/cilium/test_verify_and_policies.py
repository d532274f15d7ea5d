# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' Jinja logic, rendered by real Ansible on localhost without a cluster:
the cross-cluster policies of global_services and the verify role's check evaluation
(fed with canned API answers - a stand-in for the Kubernetes API, named as such)."""

import json
import os
import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLE_VARS = ROOT / "inventories" / "example" / "group_vars" / "all" / "cilium.yml"

CLUSTERS = [
    {"name": "eu-core", "region": "eu-west"},
    {"name": "eu-edge-1", "region": "eu-west"},
    {"name": "us-core", "region": "us-east"},
]


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


def render_policies(tmp):
    template = ROOT / "roles" / "global_services" / "templates" / "policies.json.j2"
    task = {
        "name": "Render",
        "ansible.builtin.copy": {
            "dest": str(tmp) + "/{{ item }}.json",
            "content": "{{ lookup('ansible.builtin.template', '%s') }}" % template,
            "mode": "0644",
        },
        "vars": {
            "_global_services_cluster": "{{ _global_services_clusters | selectattr('name', 'eq', item) | first }}",
            "_global_services_region_clusters": (
                "{{ _global_services_clusters | selectattr('region', 'eq', "
                "_global_services_cluster.region) | map(attribute='name') | sort }}"
            ),
        },
        "loop": [c["name"] for c in CLUSTERS],
    }
    ansible(
        tmp,
        [
            {
                "name": "Policies",
                "hosts": "localhost",
                "gather_facts": False,
                "vars_files": [str(EXAMPLE_VARS)],
                "vars": {"_global_services_clusters": CLUSTERS},
                "tasks": [task],
            }
        ],
    )
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


def evaluate(tmp, status, ds_ready=3, local_ready=True):
    """Canned API answers (stand-in for the Kubernetes API) -> the verify role's checks."""
    template = ROOT / "roles" / "verify" / "templates" / "checks.json.j2"
    workloads = {
        "results": [
            {
                "api_found": True,
                "resources": [{"status": {"desiredNumberScheduled": 3, "numberReady": ds_ready}}],
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
        "_verify_expected_remotes": 2,
        "verify_expect_encryption": True,
        "verify_expect_kube_proxy_replacement": True,
    }
    ansible(
        tmp,
        [
            {
                "name": "Checks",
                "hosts": "localhost",
                "gather_facts": False,
                "vars": facts,
                "tasks": [
                    {
                        "name": "Evaluate",
                        "ansible.builtin.copy": {
                            "dest": str(tmp / "checks.json"),
                            "content": "{{ lookup('ansible.builtin.template', '%s') }}" % template,
                            "mode": "0644",
                        },
                    }
                ],
            }
        ],
    )
    return json.loads((tmp / "checks.json").read_text())


def test_verify_checks_healthy_partitioned_and_broken(tmp_path):
    ok = evaluate(tmp_path, STATUS_OK)
    assert ok["agents"] == {"ok": True, "detail": "3/3 ready"}
    assert ok["operator"]["ok"] is True
    assert ok["clustermesh-apiserver"] == {"ok": False, "detail": "Deployment not found"}
    assert ok["clustermesh"] == {"ok": True, "detail": "2/2 remote ready, want 2/2"}
    assert ok["encryption"] == {"ok": True, "detail": "Wireguard"}
    assert ok["kube-proxy-replacement"] == {"ok": True, "detail": "True"}
    assert ok["local-affinity"]["ok"] is True

    partitioned = evaluate(tmp_path, STATUS_PARTITIONED, ds_ready=2, local_ready=False)
    assert partitioned["clustermesh"] == {"ok": False, "detail": "1/2 remote ready, want 2/2"}
    assert partitioned["agents"] == {"ok": False, "detail": "2/3 ready"}
    assert partitioned["local-affinity"] == {
        "ok": False,
        "detail": "no ready local endpoints: demo/echo",
    }

    no_wg = evaluate(tmp_path, STATUS_NO_WG)
    assert no_wg["encryption"] == {"ok": False, "detail": "Disabled"}

    empty = evaluate(tmp_path, "")
    assert empty["clustermesh"]["ok"] is False
    assert empty["clustermesh"]["detail"] == "no cilium-dbg status: exec in cilium-abcde failed"


def test_global_services_refuses_bad_settings_with_clear_messages(runner):
    example = ROOT / "inventories" / "example"
    runner.run("plan.yml", example)
    bad_service = '{"global_services_services": [{"name": "echo", "namespace": "demo", "affinity": "sideways"}]}'
    proc = runner.run("global_services.yml", example, "-e", bad_service, check=False)[0]
    assert proc.returncode != 0
    assert "global_services: service demo/echo is invalid" in proc.stdout
    bad_flow = (
        '{"global_services_allowed_flows": [{"name": "x", "to_namespace": "demo", '
        '"to_labels": {"app": "echo"}, "ports": [{"port": 80}], "from_regions": ["mars"]}]}'
    )
    proc = runner.run("global_services.yml", example, "-e", bad_flow, check=False)[0]
    assert proc.returncode != 0
    assert "global_services: allowed flow x is invalid" in proc.stdout
    assert "regions: eu-west, us-east" in proc.stdout
    # the example's own settings pass; what is missing here is a cluster to talk to
    proc = runner.run("global_services.yml", example, check=False)[0]
    assert proc.returncode != 0
    assert "global_services: no kubeconfig for cluster eu-core" in proc.stdout
    assert "is invalid" not in proc.stdout
    proc = runner.run("verify.yml", example, check=False)[0]
    assert "verify: no kubeconfig for cluster us-core" in proc.stdout

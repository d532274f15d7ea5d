# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cilium_status: reading ``cilium-dbg status`` and the verify role's registered answers.

The status texts are real agent output, verbatim, from Cilium's documentation and issue
tracker (tests/fixtures/cilium-status/README.md names each source). Lines built here from
the printer's format strings (``FormatStatusResponse`` in cilium/cilium
``pkg/client/client.go``, 1.18 to 1.20 as vendored by cilium/cilium-cli v0.18.6, v0.19.2 and
v0.19.7) are marked ``printer format``; they cover what no verbatim sample showed (the
1.19+ ClusterMesh line without global services, ``Encryption: Disabled``).

The registered k8s_info / k8s_exec answers are a stand-in for a Kubernetes API server
(none can run here): dictionaries of the shape kubernetes.core registers.
"""

import pathlib

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_status import (
    API_FAILED,
    CHECKS,
    AgentStatus,
    Expectations,
    RemoteCluster,
    StatusInputError,
    checks_from_registered,
    parse_remotes,
    parse_status,
    ready,
    remote_problems,
    report,
    retries_left,
)

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "cilium-status"


def sample(name):
    return (FIXTURES / name).read_text(encoding="utf-8")


MESH_DOCS = sample("docs-troubleshooting-clustermesh.txt")
WIREGUARD_DOCS = sample("docs-encryption-wireguard.txt")
KPR_DOCS = sample("docs-kubeproxy-free.txt")
AGENT_1_19 = sample("issue-46100-v1.19.3-verbose-head.txt")
AGENT_1_15 = sample("issue-33863-v1.15.0-pre.2-head.txt")
AGENT_1_13 = sample("issue-24227-v1.13.0-head.txt")
# One agent's answer, assembled from the three verbatim documentation samples.
HEALTHY = KPR_DOCS + WIREGUARD_DOCS + MESH_DOCS
# printer format (1.19 and 1.20): "ClusterMesh:\t%d/%d remote clusters ready\n" and
# "Encryption:\t%s\t%s\n" with mode Disabled and no details.
MESH_1_19_PARTIAL = "ClusterMesh:\t1/2 remote clusters ready\n"
ENCRYPTION_DISABLED = "Encryption:\tDisabled\t\n"


def test_all_ready_from_the_documentation():
    assert parse_status(HEALTHY) == AgentStatus(1, 1, "Wireguard", "True")


def test_remote_cluster_lines_are_not_read_as_the_summary():
    status = parse_status(MESH_DOCS)
    assert (status.remote_clusters_ready, status.remote_clusters_total) == (1, 1)
    assert (
        status.has_clustermesh and status.encryption == "" and status.kube_proxy_replacement == ""
    )


def test_1_19_agent_without_clustermesh_line():
    status = parse_status(AGENT_1_19)
    assert status == AgentStatus(None, None, "", "True")
    assert not status.has_clustermesh


def test_kube_proxy_replacement_false_and_pre_1_14_disabled():
    assert parse_status(AGENT_1_15).kube_proxy_replacement == "False"
    assert parse_status(AGENT_1_13).kube_proxy_replacement == "Disabled"


def test_pre_1_16_wording_is_not_a_clustermesh_line():
    # "1/1 clusters ready": Cilium before 1.16, which the collection does not support.
    assert not parse_status(AGENT_1_13).has_clustermesh


def test_1_19_format_and_disabled_encryption():
    status = parse_status(MESH_1_19_PARTIAL + ENCRYPTION_DISABLED)
    assert status == AgentStatus(1, 2, "Disabled", "")


def test_empty_output_and_bad_input():
    assert parse_status("") == AgentStatus()
    with pytest.raises(StatusInputError, match="^cilium-dbg status output is None; allowed: text"):
        parse_status(None)


def deployment(replicas, ready):
    return {
        "api_found": True,
        "resources": [{"spec": {"replicas": replicas}, "status": {"readyReplicas": ready}}],
    }


def registered(status, ds_ready=3, local_ready=True, clustermesh=None, agents=None):
    """Stand-in for what the verify role registers from a Kubernetes API server."""
    workloads = [
        {
            "api_found": True,
            "resources": [{"status": {"desiredNumberScheduled": 3, "numberReady": ds_ready}}],
        },
        deployment(2, 2),
        clustermesh or {"api_found": True, "resources": []},
    ]
    slices = [{"endpoints": [{"conditions": {"ready": local_ready}}]}]
    return {
        "workloads": {"results": workloads},
        "agents": agents
        or {"api_found": True, "resources": [{"metadata": {"name": "cilium-abcde"}}]},
        "status": {"stdout": status},
        "local_services": {
            "results": [{"item": {"name": "echo", "namespace": "demo"}, "resources": slices}]
        },
    }


def checks(status, remotes=1, encryption=True, kpr=True, **kwargs):
    return checks_from_registered(
        registered(status, **kwargs), Expectations(remotes, encryption, kpr)
    )


def test_healthy_cluster():
    ok = checks(HEALTHY)
    assert list(ok) == list(CHECKS)
    assert ok["agents"] == {"ok": True, "detail": "3/3 ready"}
    assert ok["operator"]["ok"] is True
    assert ok["clustermesh-apiserver"] == {"ok": False, "detail": "Deployment not found"}
    assert ok["clustermesh"] == {"ok": True, "detail": "1/1 remote ready, want 1/1"}
    assert ok["encryption"] == {"ok": True, "detail": "Wireguard"}
    assert ok["kube-proxy-replacement"] == {"ok": True, "detail": "True"}
    assert ok["local-affinity"] == {"ok": True, "detail": "1 services with local endpoints"}


def test_partitioned_cluster():
    # the documentation's agent sees 1/1, but the plan has two peers: one is missing
    cut = checks(HEALTHY, remotes=2, ds_ready=2, local_ready=False)
    assert cut["clustermesh"] == {"ok": False, "detail": "1/1 remote ready, want 2/2"}
    assert cut["agents"] == {"ok": False, "detail": "2/3 ready"}
    assert cut["local-affinity"] == {"ok": False, "detail": "no ready local endpoints: demo/echo"}
    # printer format (1.19+): one of two remote clusters not ready
    half = checks(KPR_DOCS + WIREGUARD_DOCS + MESH_1_19_PARTIAL, remotes=2)
    assert half["clustermesh"] == {"ok": False, "detail": "1/2 remote ready, want 2/2"}


def test_no_clustermesh_line():
    assert checks(AGENT_1_19)["clustermesh"] == {"ok": False, "detail": "no ClusterMesh line"}
    assert checks(AGENT_1_13)["clustermesh"] == {"ok": False, "detail": "no ClusterMesh line"}


def test_wireguard_versus_disabled_encryption():
    assert checks(HEALTHY)["encryption"] == {"ok": True, "detail": "Wireguard"}
    disabled = checks(KPR_DOCS + ENCRYPTION_DISABLED + MESH_DOCS)
    assert disabled["encryption"] == {"ok": False, "detail": "Disabled"}
    assert checks(KPR_DOCS + MESH_DOCS)["encryption"] == {
        "ok": False,
        "detail": "no Encryption line",
    }
    # not expected: any value passes, and the detail still says what the agent runs
    relaxed = checks(KPR_DOCS + ENCRYPTION_DISABLED + MESH_DOCS, encryption=False)
    assert relaxed["encryption"] == {"ok": True, "detail": "Disabled"}


def test_kube_proxy_replacement_true_and_false():
    assert checks(AGENT_1_19)["kube-proxy-replacement"] == {"ok": True, "detail": "True"}
    assert checks(AGENT_1_15)["kube-proxy-replacement"] == {"ok": False, "detail": "False"}
    assert checks(AGENT_1_13)["kube-proxy-replacement"] == {"ok": False, "detail": "Disabled"}
    assert checks(AGENT_1_15, kpr=False)["kube-proxy-replacement"] == {
        "ok": True,
        "detail": "False",
    }
    assert checks(WIREGUARD_DOCS)["kube-proxy-replacement"] == {
        "ok": False,
        "detail": "no KubeProxyReplacement line",
    }


def test_exec_failed_no_agent_and_api_down():
    empty = checks("")
    assert empty["clustermesh"] == {
        "ok": False,
        "detail": "no cilium-dbg status: exec in cilium-abcde failed",
    }
    assert empty["encryption"]["detail"] == empty["kube-proxy-replacement"]["detail"]
    idle = checks("", agents={"api_found": True, "resources": []})
    assert idle["clustermesh"]["detail"] == "no cilium-dbg status: no running agent"
    down = checks("", agents={"msg": "connection refused"})
    assert down["encryption"] == {"ok": False, "detail": "no cilium-dbg status: API call failed"}


def test_api_failures_and_missing_workloads():
    nothing = checks_from_registered(
        {"workloads": {"results": [{"msg": "refused"}, {"msg": "refused"}, {"msg": "refused"}]}},
        Expectations(2),
    )
    for check in ("agents", "operator", "clustermesh-apiserver"):
        assert nothing[check] == {"ok": False, "detail": API_FAILED}
    assert nothing["clustermesh"]["detail"] == "no cilium-dbg status: API call failed"
    assert nothing["local-affinity"] == {"ok": True, "detail": "0 services with local endpoints"}
    gone = checks_from_registered(
        {"workloads": {"results": [{"api_found": True}]}}, Expectations(0)
    )
    assert gone["agents"] == {"ok": False, "detail": "DaemonSet cilium not found"}


def test_workload_counts():
    zero = registered(HEALTHY)
    zero["workloads"]["results"][0] = {
        "api_found": True,
        "resources": [{"status": {"desiredNumberScheduled": 0}}],
    }
    zero["workloads"]["results"][1] = {
        "api_found": True,
        "resources": [{"metadata": {"name": "op"}}],
    }
    result = checks_from_registered(zero, Expectations(1))
    assert result["agents"] == {"ok": False, "detail": "0/0 ready"}
    assert result["operator"] == {"ok": False, "detail": "0/1 ready"}  # replicas default to 1
    scaled = checks(HEALTHY, clustermesh=deployment(0, None))
    assert scaled["clustermesh-apiserver"] == {"ok": True, "detail": "0/0 ready"}


def test_local_endpoints_ready_in_any_slice():
    data = registered(HEALTHY)
    data["local_services"]["results"] = [
        {
            "item": {"name": "a"},
            "resources": [
                {"endpoints": None},
                {"endpoints": [{"conditions": {}}, {"conditions": {"ready": True}}]},
            ],
        },
        {
            "item": {"name": "b", "namespace": "x"},
            "resources": [{"endpoints": [{"addresses": ["10.0.0.1"]}]}],
        },
    ]
    result = checks_from_registered(data, Expectations(1))
    assert result["local-affinity"] == {"ok": False, "detail": "no ready local endpoints: x/b"}


@pytest.mark.parametrize(
    "data,message",
    [
        ("text", "registered results are 'text'; allowed: a mapping"),
        (
            {"workload": {}},
            "unknown key workload; allowed: workloads, agents, status, local_services",
        ),
        ({"workloads": []}, r"workloads: \[\] is not the registered result of a looped task"),
        (
            {"workloads": {"results": ["x"]}},
            r"workloads\[0\] \(DaemonSet cilium\): 'x' is not a registered",
        ),
        ({"agents": {"resources": "x"}}, "agents: resources is 'x'; allowed: a list of objects"),
        ({"status": "x"}, "status: 'x' is not a registered k8s_exec result"),
        ({"local_services": {"results": [{}]}}, r"local_services\[0\]: \{\} carries no item"),
    ],
)
def test_registered_results_of_another_shape_are_refused(data, message):
    with pytest.raises(StatusInputError, match="^" + message):
        checks_from_registered(data, Expectations(1))


def test_report_table_and_failures():
    healthy = checks(HEALTHY)
    cut = checks(HEALTHY, remotes=2, ds_ready=2)
    result = report(["eu-core", "eu-edge-1", "us-core"], [healthy, cut, {}])
    assert result["table"] == [
        "cluster   | agents | operator | clustermesh-apiserver | clustermesh | encryption"
        " | kube-proxy-replacement | local-affinity",
        "eu-core   | ok     | ok       | FAIL                  | ok          | ok        "
        " | ok                     | ok             |",
        "eu-edge-1 | FAIL   | ok       | FAIL                  | FAIL        | ok        "
        " | ok                     | ok             |",
        "us-core   | -      | -        | -                     | -           | -         "
        " | -                      | -              |",
    ]
    assert result["failures"] == [
        "eu-core: clustermesh-apiserver: Deployment not found",
        "eu-edge-1: agents: 2/3 ready",
        "eu-edge-1: clustermesh-apiserver: Deployment not found",
        "eu-edge-1: clustermesh: 1/1 remote ready, want 2/2",
        "us-core: not checked (see the errors above)",
    ]


def test_report_dry_run_and_short_names():
    dry = {"dry-run": {"ok": True, "detail": "check mode: no kubeconfig yet"}}
    result = report(["a"], [dry])
    assert result["table"][1] == "a       |" + "".join(" %s |" % "-".ljust(len(c)) for c in CHECKS)
    assert result["failures"] == []
    assert report([], []) == {"table": [result["table"][0]], "failures": []}


# --- issue 15 #5: the waits and naming what is still not ready ---------------------------
# printer format (FormatStatusResponseRemoteClusters, pkg/client/client.go): one line per
# remote cluster "   <name>: ready|not ready, <n> nodes, ...", then "   └  <status>" lines;
# without --all-clusters only the clusters that are not ready are listed. The status text
# of the not-ready cluster follows the documentation sample's etcd line.
REMOTE_DOWN = (
    "   us-core: not ready, 0 nodes, 0 endpoints, 0 identities, 0 services,"
    " 4 reconnections (last: 7s ago)\n"
    "   \u2514  etcd: 0/1 connected, leases=0, lock lease-ID=0, has-quorum=false:"
    " https://us-core.mesh.cilium.io:2379 - context deadline exceeded\n"
)
TWO_REMOTES_ONE_DOWN = (
    KPR_DOCS + WIREGUARD_DOCS + MESH_DOCS.replace("1/1 remote", "1/2 remote") + REMOTE_DOWN
)
PEERS = ("k8s-c2", "us-core")


def test_parse_remotes_reads_every_listed_cluster():
    (c2,) = parse_remotes(MESH_DOCS)
    assert c2 == RemoteCluster("k8s-c2", True, c2.detail)
    assert c2.detail.startswith("etcd: 1/1 connected, leases=0")
    c2, down = parse_remotes(TWO_REMOTES_ONE_DOWN)
    assert (down.name, down.ready) == ("us-core", False)
    assert down.detail.endswith("context deadline exceeded")
    assert parse_remotes(AGENT_1_19) == () and parse_remotes("") == ()
    with pytest.raises(StatusInputError):
        parse_remotes(None)


def test_clustermesh_names_the_remote_that_is_not_ready():
    cell = checks(TWO_REMOTES_ONE_DOWN, remotes=2)["clustermesh"]
    assert cell["ok"] is False
    assert cell["detail"].startswith(
        "1/2 remote ready, want 2/2; us-core not ready (etcd: 0/1 connected"
    )


def test_clustermesh_names_missing_and_unknown_peers():
    # the agent lists every remote (--all-clusters): k8s-c2 only, the plan wants us-core too
    expect = Expectations(2, peers=PEERS)
    cell = checks_from_registered(registered(HEALTHY), expect)["clustermesh"]
    assert cell == {
        "ok": False,
        "detail": "1/1 remote ready, want 2/2; us-core not connected",
    }
    cell = checks_from_registered(registered(HEALTHY), Expectations(1, peers=("eu-edge-1",)))
    assert cell["clustermesh"] == {
        "ok": False,
        "detail": "1/1 remote ready, want 1/1; eu-edge-1 not connected; k8s-c2 not in the plan",
    }
    # all listed and all peers: healthy
    ok = checks_from_registered(registered(HEALTHY), Expectations(1, peers=("k8s-c2",)))
    assert ok["clustermesh"] == {"ok": True, "detail": "1/1 remote ready, want 1/1"}


def test_remote_problems_only_claims_missing_when_all_are_listed():
    down = parse_remotes(REMOTE_DOWN)
    # not-ready-only listing (1 of 2): k8s-c2 is not listed but may well be ready
    assert remote_problems(down, 2, PEERS) == [
        "us-core not ready (%s)" % down[0].detail,
    ]
    assert remote_problems((), 2, PEERS) == []


def looped_status(*texts):
    return {
        "results": [
            {"item": "cilium-%d" % i, "stdout": text, "failed": not text}
            for i, text in enumerate(texts)
        ]
    }


def test_every_agent_is_asked_and_failing_agents_are_named():
    data = registered("")
    data["status"] = looped_status(HEALTHY, TWO_REMOTES_ONE_DOWN, "")
    cells = checks_from_registered(data, Expectations(1))
    assert cells["clustermesh"]["ok"] is False
    detail = cells["clustermesh"]["detail"]
    assert detail.startswith("2/3 agents: cilium-1: 1/2 remote ready, want 1/1; us-core not")
    assert detail.endswith("cilium-2: no cilium-dbg status: exec in cilium-2 failed")
    assert cells["encryption"] == {
        "ok": False,
        "detail": "1/3 agents: cilium-2: no cilium-dbg status: exec in cilium-2 failed",
    }
    data["status"] = looped_status(HEALTHY, HEALTHY)
    assert checks_from_registered(data, Expectations(1))["clustermesh"] == {
        "ok": True,
        "detail": "1/1 remote ready, want 1/1 (all 2 agents)",
    }


def test_many_failing_agents_are_summed_up():
    data = registered("")
    data["status"] = looped_status(*([MESH_1_19_PARTIAL] * 5))
    detail = checks_from_registered(data, Expectations(2))["clustermesh"]["detail"]
    assert detail.startswith("5/5 agents: cilium-0: 1/2 remote ready, want 2/2; cilium-1")
    assert detail.endswith("; and 2 more agents")


def test_no_agent_to_ask_in_a_loop():
    data = registered("", agents={"api_found": True, "resources": []})
    data["status"] = {"results": [], "skipped": True}
    assert checks_from_registered(data, Expectations(1))["clustermesh"] == {
        "ok": False,
        "detail": "no cilium-dbg status: no running agent",
    }
    data["status"] = {"results": ["x"]}
    with pytest.raises(StatusInputError, match=r"status\[0\]: 'x' is not a registered"):
        checks_from_registered(data, Expectations(1))


def test_failed_cells_say_how_long_the_role_waited():
    cells = checks_from_registered(registered(HEALTHY, ds_ready=2), Expectations(1, waited=300))
    assert cells["agents"] == {"ok": False, "detail": "2/3 ready (still so after waiting 300 s)"}
    assert cells["encryption"] == {"ok": True, "detail": "Wireguard"}


def test_ready_decides_each_wait():
    expect = Expectations(1)
    ds = {"api_found": True, "resources": [{"kind": "DaemonSet", "status": {}}]}
    ds["resources"][0]["status"] = {"desiredNumberScheduled": 3, "numberReady": 3}
    assert ready("workload", ds, expect) is True
    ds["resources"][0]["status"]["numberReady"] = 2
    assert ready("workload", ds, expect) is False
    deploy = deployment(2, 1)
    deploy["resources"][0]["kind"] = "Deployment"
    assert ready("workload", deploy, expect) is False
    deploy["resources"][0]["status"]["readyReplicas"] = 2
    assert ready("workload", deploy, expect) is True
    assert ready("workload", {"api_found": True, "resources": []}, expect) is False
    assert ready("workload", {"msg": "connection refused", "failed": True}, expect) is False
    assert ready("agents", {"api_found": True, "resources": [{}]}, expect) is True
    assert ready("agents", {"api_found": True, "resources": []}, expect) is False
    assert ready("status", {"stdout": HEALTHY}, expect) is True
    assert ready("status", {"stdout": TWO_REMOTES_ONE_DOWN}, Expectations(2)) is False
    assert ready("status", {"stdout": HEALTHY}, Expectations(1, encryption=False)) is True
    assert ready("status", {"stdout": KPR_DOCS + MESH_DOCS}, expect) is False  # no WireGuard
    assert ready("status", {"failed": True, "msg": "exec failed"}, expect) is False
    slices = {"api_found": True, "resources": [{"endpoints": [{"conditions": {"ready": True}}]}]}
    assert ready("endpoints", slices, expect) is True
    assert ready("endpoints", {"api_found": True, "resources": []}, expect) is False


def test_ready_refuses_other_input():
    with pytest.raises(StatusInputError, match="wait 'pods' is unknown; allowed: workload"):
        ready("pods", {}, Expectations(1))
    with pytest.raises(StatusInputError, match="status: 'x' is not a registered result"):
        ready("status", "x", Expectations(1))
    with pytest.raises(StatusInputError, match="kind 'Pod'; allowed: DaemonSet, Deployment"):
        ready("workload", {"resources": [{"kind": "Pod"}]}, Expectations(1))


def test_retries_left_share_one_deadline():
    assert retries_left(1000, 1000, 300, 10) == 30
    assert retries_left(1000, 1295, 300, 10) == 0
    assert retries_left(1000, 1400, 300, 10) == 0  # past the deadline: one last try
    assert retries_left(1000, 1000, 0, 10) == 0  # no wait: one try
    assert retries_left(1000.5, 1100.25, 300, 7) == 28
    for bad in ((-1, 0, 300, 10), (0, 0, "300", 10), (0, 0, 300, 0), (0, True, 300, 10)):
        with pytest.raises(StatusInputError, match="allowed: seconds"):
            retries_left(*bad)

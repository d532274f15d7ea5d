# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live clusters adopted into the plan (issue 15 #2, issue 13 "rebuild from live").

The live data is shaped as the Cilium chart writes ``kube-system/cilium-config``
(templates/cilium-configmap.yaml of the 1.18-1.20 charts: every value a string, cluster-id
as a decimal string, the cluster-pool CIDR lists space-separated) and as
playbooks/adopt_live.yml stores it: only live_config.KEYS, None for a cluster without
Cilium. Every test here fails on the planner before ``plan_mesh(live=...)`` existed.
"""

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (
    PlanError,
    plan_mesh,
)


def cluster(name, ip, region="eu-west", **pins):
    cvars = {"edgemesh_cluster_name": name, "edgemesh_region": region}
    cvars.update(("edgemesh_" + k, v) for k, v in pins.items())
    node = {"host": name + "-1", "ip": ip, "ip_v6": "", "role": "server"}
    return {"group": "cluster_" + name.replace("-", "_"), "vars": cvars, "nodes": [node]}


THREE = [
    cluster("eu-core", "192.0.2.11"),
    cluster("eu-edge-1", "198.51.100.21"),
    cluster("us-core", "203.0.113.31", region="us-east"),
]


def configmap(name, cid, v4="10.42.0.0/16", v6="", ipam="cluster-pool"):
    data = {"cluster-name": name, "cluster-id": str(cid), "ipam": ipam}
    if v4:
        data["cluster-pool-ipv4-cidr"] = v4
    if v6:
        data["cluster-pool-ipv6-cidr"] = v6
    return data


def by_name(result):
    return dict((c["name"], c) for c in result["plan"]["clusters"])


def refuse(*args, **kwargs):
    with pytest.raises(PlanError) as err:
        plan_mesh(*args, **kwargs)
    message = str(err.value)
    assert "Traceback" not in message
    return message


def test_a_live_cluster_keeps_its_id_and_pool():
    result = plan_mesh(THREE, {}, None, live={"eu-core": configmap("eu-core", 7)})
    plan = by_name(result)
    assert plan["eu-core"]["id"] == 7
    assert plan["eu-core"]["pod_cidrs"] == ["10.42.0.0/16"]
    assert [plan[n]["id"] for n in ("eu-edge-1", "us-core")] == [1, 2]
    assert result["state"]["clusters"]["eu-core"]["id"] == 7
    # The next plan reads the state it wrote and the same live file: nothing moves.
    again = plan_mesh(THREE, {}, result["state"], live={"eu-core": configmap("eu-core", 7)})
    assert again["state"] == result["state"]


def test_a_dual_stack_live_cluster_keeps_both_pools():
    settings = {
        "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
        "edgemesh_service_cidr_pool_v6": ["fd00:20::/104"],
    }
    live = {"us-core": configmap("us-core", 3, v6="fd00:10:0:4200::/56")}
    plan = by_name(plan_mesh(THREE, settings, None, live=live))
    assert plan["us-core"]["pod_cidrs"] == ["10.42.0.0/16", "fd00:10:0:4200::/56"]


def test_an_agreeing_inventory_pin_is_fine_a_different_one_is_refused():
    live = {"eu-core": configmap("eu-core", 7)}
    pinned = [cluster("eu-core", "192.0.2.11", cluster_id=7, pod_cidr="10.42.0.0/16")] + THREE[1:]
    assert by_name(plan_mesh(pinned, {}, None, live=live))["eu-core"]["id"] == 7
    pinned = [cluster("eu-core", "192.0.2.11", cluster_id=4, pod_cidr="10.9.0.0/16")] + THREE[1:]
    message = refuse(pinned, {}, None, live=live)
    assert (
        "cluster 'eu-core' (group cluster_eu_core): edgemesh_cluster_id 4 (inventory) differs "
        "from the running cluster's cilium-config value 7 (live/eu-core.json)"
    ) in message
    assert "allowed: edgemesh_cluster_id: 7 (or remove the pin)" in message
    assert "edgemesh_pod_cidr 10.9.0.0/16 (inventory) differs" in message
    assert "value 10.42.0.0/16" in message and "re-run playbooks/adopt_live.yml" in message


def test_a_state_that_contradicts_the_live_cluster_is_refused():
    state = plan_mesh(THREE, {}, None)["state"]  # eu-core got ID 1 and 10.0.0.0/16
    message = refuse(THREE, {}, state, live={"eu-core": configmap("eu-core", 7)})
    assert (
        "cluster 'eu-core' (group cluster_eu_core): the state file records edgemesh_cluster_id "
        "1, but the running cluster's cilium-config has 7 (live/eu-core.json)"
    ) in message
    assert "edgemesh_state_rebuild: live" in message
    assert "the state file records edgemesh_pod_cidr 10.0.0.0/16" in message


@pytest.mark.parametrize(
    "holder, how",
    [
        ("pin", "edgemesh_cluster_id in the inventory"),
        ("state", "the state file"),
        ("live", "its running cilium-config has the same cluster-id, live/us-core.json"),
    ],
)
def test_a_live_id_that_another_cluster_holds_is_refused_naming_both(holder, how):
    clusters, state = list(THREE), None
    live = {"eu-core": configmap("eu-core", 2)}
    if holder == "pin":
        clusters[2] = cluster("us-core", "203.0.113.31", region="us-east", cluster_id=2)
    elif holder == "state":
        state = plan_mesh(THREE[1:], {}, None)["state"]  # eu-edge-1: 1, us-core: 2
        clusters = THREE  # eu-core joins, live with ID 2
    else:
        live["us-core"] = configmap("us-core", 2, v4="10.43.0.0/16")
    message = refuse(clusters, {}, state, live=live)
    assert (
        "cluster ID 2: cluster 'eu-core' runs with it (cilium-config cluster-id, "
        "live/eu-core.json) and cluster 'us-core' holds it (%s)" % how
    ) in message
    assert message.count("cluster ID 2:") == 1


def test_reinstall_changes_are_refused_naming_key_live_and_planned():
    live = {"eu-core": configmap("eu-core", 7, ipam="kubernetes")}
    message = refuse(THREE, {}, None, live=live)
    assert (
        "cluster eu-core: cilium-config ipam is 'kubernetes' on the running cluster, the plan "
        "wants 'cluster-pool'"
    ) in message
    assert "(live/eu-core.json)" in message
    live = {"eu-core": configmap("core-eu", 7)}  # a meshed cluster under another name
    message = refuse(THREE, {}, None, live=live)
    assert "cluster-name is 'core-eu' on the running cluster, the plan wants 'eu-core'" in message
    live = {"eu-core": configmap("eu-core", 7, v4="10.42.0.0/16 10.43.0.0/16")}
    message = refuse(THREE, {}, None, live=live)
    assert "cluster-pool-ipv4-cidr is '10.42.0.0/16 10.43.0.0/16'" in message


def test_a_cluster_on_the_chart_defaults_takes_its_planned_id():
    live = {"eu-core": configmap("default", 0), "eu-edge-1": None}
    plan = by_name(plan_mesh(THREE, {}, None, live=live))
    assert plan["eu-core"]["id"] == 1 and plan["eu-core"]["pod_cidrs"] == ["10.42.0.0/16"]
    assert plan["eu-edge-1"]["id"] == 2  # no Cilium yet: planned fresh


@pytest.mark.parametrize(
    "data, part",
    [
        (configmap("eu-core", 300), "cilium-config cluster-id 300 (live/eu-core.json) is out"),
        (
            configmap("eu-core", 7, v4="192.168.0.0/16"),
            "pool CIDR 192.168.0.0/16 (live/eu-core.json)",
        ),
        (configmap("eu-core", 7, v6="fd00:10::/56"), "is IPv6 but edgemesh_pod_cidr_pool_v6"),
        ({"cluster-id": "seven"}, "cluster 'eu-core': live/eu-core.json: cluster-id 'seven'"),
        (configmap("EU_core", 7), "live cluster-name 'EU_core' cannot be planned"),
    ],
)
def test_live_values_the_plan_cannot_hold_are_refused(data, part):
    message = refuse(THREE, {}, None, live={"eu-core": data})
    assert part in message


def test_live_files_of_clusters_not_in_the_inventory_are_not_read():
    live = {"gone": configmap("gone", 1), "eu-core": configmap("eu-core", 7)}
    assert by_name(plan_mesh(THREE, {}, None, live=live))["eu-core"]["id"] == 7


# ------------------------------------------------------------ edgemesh_state_rebuild: live

ARTIFACTS = ["out/plan.json", "out/mesh-ca", "out/eu-edge-1/kubeconfig"]


def test_a_lost_state_is_rebuilt_from_the_live_clusters():
    first = plan_mesh(THREE, {}, None, live={"eu-core": configmap("eu-core", 7)})
    live = {
        "eu-core": configmap("eu-core", 7),
        "eu-edge-1": configmap("eu-edge-1", 1, v4="10.0.0.0/16"),
    }
    rebuilt = plan_mesh(
        THREE,
        {"edgemesh_state_rebuild": "live"},
        None,
        artifacts=ARTIFACTS[1:],  # no plan.json: us-core has no artifact, planned fresh
        live=live,
    )
    for name in ("eu-core", "eu-edge-1"):
        assert by_name(rebuilt)[name]["id"] == by_name(first)[name]["id"]
        assert by_name(rebuilt)[name]["pod_cidrs"] == by_name(first)[name]["pod_cidrs"]
    assert by_name(rebuilt)["us-core"]["id"] == 2


def test_rebuild_from_live_refuses_a_cluster_with_artifacts_and_no_live_config():
    previous = plan_mesh(THREE, {}, None)["plan"]
    live = {"eu-core": configmap("eu-core", 1, v4="10.1.0.0/16"), "us-core": None}
    message = refuse(
        THREE,
        {"edgemesh_state_rebuild": "live"},
        None,
        previous_plan=previous,
        artifacts=ARTIFACTS,
        live=live,
    )
    assert (
        "cluster 'eu-edge-1' (group cluster_eu_edge_1): edgemesh_state_rebuild is 'live' but "
        "the cluster has no live cilium-config (no live/eu-edge-1.json) and earlier artifacts "
        "of it exist (plan.json, out/eu-edge-1/kubeconfig)"
    ) in message
    assert "live/us-core.json says it has no Cilium yet" in message
    assert "eu-core" not in message.split("eu-edge-1", 1)[0]


def test_rebuild_from_live_needs_live_files_and_a_lost_state():
    message = refuse(THREE, {"edgemesh_state_rebuild": "live"}, None, artifacts=ARTIFACTS)
    assert "there is no live file of an inventory cluster" in message
    assert "run playbooks/adopt_live.yml first" in message
    state = plan_mesh(THREE, {}, None)["state"]
    message = refuse(THREE, {"edgemesh_state_rebuild": "live"}, state, live={"eu-core": None})
    assert "edgemesh_state_rebuild is 'live' but the state file holds 3 cluster(s)" in message


def test_a_lost_state_names_the_live_way_out():
    message = refuse(THREE, {}, None, artifacts=ARTIFACTS)
    assert "edgemesh_state_rebuild: live" in message and "playbooks/adopt_live.yml" in message

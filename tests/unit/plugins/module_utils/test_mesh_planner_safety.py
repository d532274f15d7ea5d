# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13, planner part: planning never damages a running mesh.

A cluster that leaves the inventory, a lost state file, a per-cluster copy of a mesh-wide
setting, a Cilium version the mesh cannot move to, an IPv6 node address and a host in two
clusters are each either honoured or refused with a message naming the cluster, the key,
the value and what is allowed. Every test here fails on the planner before issue 13.
"""

import copy
import json

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (
    PlanError,
    clusters_from_inventory,
    plan_mesh,
    state_from_plan,
)


def cluster(name, ip, region="eu-west", ip_v6="", **pins):
    cvars = {"edgemesh_cluster_name": name, "edgemesh_region": region}
    cvars.update(("edgemesh_" + k, v) for k, v in pins.items())
    node = {"host": name + "-1", "ip": ip, "ip_v6": ip_v6, "role": "server"}
    return {"group": "cluster_" + name.replace("-", "_"), "vars": cvars, "nodes": [node]}


THREE = [
    cluster("eu-core", "192.0.2.11"),
    cluster("eu-edge-1", "198.51.100.21"),
    cluster("us-core", "203.0.113.31", region="us-east"),
]
DUAL = {
    "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
    "edgemesh_service_cidr_pool_v6": ["fd00:20::/104"],
}


def refuse(*args, **kwargs):
    with pytest.raises(PlanError) as info:
        plan_mesh(*args, **kwargs)
    return str(info.value)


def reservation(state, name):
    entry = state["clusters"][name]
    return dict((k, entry[k]) for k in ("id", "pod_cidrs", "service_cidrs", "clustermesh_nodeport"))


# ------------------------------------------------ finding 3: a cluster missing from the inventory


def test_a_cluster_missing_from_the_inventory_is_refused_by_name():
    state = plan_mesh(THREE, {}, None)["state"]
    message = refuse(THREE[1:], {}, state)
    assert message.startswith("cluster 'eu-core' is in the state file but not in the inventory")
    assert "edgemesh_remove_clusters: ['eu-core']" in message
    assert "drop it from every peer list" in message


def test_release_alone_does_not_remove_a_running_cluster():
    state = plan_mesh(THREE, {}, None)["state"]
    message = refuse(THREE[1:], {"edgemesh_release_clusters": ["eu-core"]}, state)
    assert "cluster 'eu-core' is in the state file but not in the inventory" in message
    assert "edgemesh_release_clusters alone is not enough: list it in both" in message


def test_removal_drops_peers_and_keeps_the_reservation_until_released():
    state = plan_mesh(THREE, {}, None)["state"]
    removed = plan_mesh(THREE[1:], {"edgemesh_remove_clusters": ["eu-core"]}, state)
    assert all("eu-core" not in c["peers"] for c in removed["plan"]["clusters"])
    assert removed["state"]["clusters"]["eu-core"]["active"] is False
    assert reservation(removed["state"], "eu-core") == reservation(state, "eu-core")
    # Once recorded as removed, later plans need no flag; the values stay reserved.
    later = plan_mesh(THREE[1:], {}, removed["state"])
    assert reservation(later["state"], "eu-core") == reservation(state, "eu-core")
    both = {"edgemesh_remove_clusters": ["eu-core"], "edgemesh_release_clusters": ["eu-core"]}
    released = plan_mesh(THREE[1:], both, state)
    assert "eu-core" not in released["state"]["clusters"]
    assert "eu-core" not in released["plan"]["mesh"]["inactive_clusters"]


def test_removing_a_cluster_still_in_the_inventory_is_refused():
    state = plan_mesh(THREE, {}, None)["state"]
    message = refuse(THREE, {"edgemesh_remove_clusters": ["us-core"]}, state)
    assert "edgemesh_remove_clusters names 'us-core', which is still in the inventory" in message


def test_remove_clusters_must_be_a_list_of_names():
    message = refuse(THREE, {"edgemesh_remove_clusters": 7}, None)
    assert "edgemesh_remove_clusters 7 is not a list of cluster names" in message


# -------------------------------------------------------------------- lost state


@pytest.mark.parametrize(
    "artifacts",
    [["build/plan.json"], ["build/mesh-ca"], ["build/eu-core/kubeconfig", "build/plan.json"]],
)
def test_a_lost_state_with_artifacts_is_refused_with_the_way_out(artifacts):
    for lost in (None, "", "{}", {}):
        message = refuse(THREE, {}, lost, artifacts=artifacts)
        assert "the state file is missing or empty, but earlier artifacts" in message
        for path in artifacts:
            assert path in message
        assert "edgemesh_state_rebuild: plan" in message and "cilium-config" in message


def test_the_state_is_rebuilt_from_the_previous_plan():
    """A state lost after a removal: the rebuilt one keeps every ID, CIDR and port."""
    settings = dict(DUAL)
    first = plan_mesh(THREE, settings, None)
    removed = plan_mesh(
        THREE[1:], dict(settings, edgemesh_remove_clusters=["eu-core"]), first["state"]
    )
    previous = json.dumps(removed["plan"])
    rebuilt = plan_mesh(
        THREE[1:] + [cluster("zz-new", "192.0.2.99")],
        dict(settings, edgemesh_state_rebuild="plan"),
        None,
        previous_plan=previous,
        artifacts=["build/plan.json"],
    )
    for name in ("eu-core", "eu-edge-1", "us-core"):
        assert reservation(rebuilt["state"], name) == reservation(first["state"], name)
    assert rebuilt["state"]["clusters"]["eu-core"]["active"] is False
    assert rebuilt["state"]["clusters"]["zz-new"]["id"] == 4


def test_rebuild_refusals():
    state = plan_mesh(THREE, {}, None)["state"]
    message = refuse(THREE, {"edgemesh_state_rebuild": "plan"}, state)
    assert "edgemesh_state_rebuild is 'plan' but the state file holds 3 cluster(s)" in message
    message = refuse(THREE, {"edgemesh_state_rebuild": "plan"}, None)
    assert "there is no previous plan.json" in message
    message = refuse(THREE, {"edgemesh_state_rebuild": "cilium-config"}, None)
    assert "edgemesh_state_rebuild 'cilium-config' is not allowed; allowed: plan" in message
    for broken in ("{not json", json.dumps({"mesh": {}}), json.dumps([1])):
        message = refuse(THREE, {"edgemesh_state_rebuild": "plan"}, None, previous_plan=broken)
        assert "plan.json is not a plan this planner wrote" in message


def test_a_new_mesh_without_artifacts_plans_from_scratch():
    assert plan_mesh(THREE, {}, None, previous_plan=None, artifacts=())["state"]["clusters"]


# --------------------------------------------------------- finding 7: Cilium versions


def test_the_state_records_each_clusters_cilium_version():
    result = plan_mesh(THREE, {"edgemesh_cilium_version": "v1.18.12"}, None)
    assert set(e["cilium_version"] for e in result["state"]["clusters"].values()) == {"1.18.12"}
    assert state_from_plan(result["plan"]) == result["state"]


@pytest.mark.parametrize(
    "recorded, wanted, fragment",
    [
        ("1.19.6", "1.18.12", "1.18.12 would downgrade 1.19 to 1.18; allowed: 1.19.x or 1.20.x"),
        ("1.18.12", "1.20.0", "1.20.0 skips a minor after 1.18.12 (one minor at a time); "),
    ],
)
def test_minor_downgrades_and_jumps_are_refused_per_cluster(recorded, wanted, fragment):
    state = plan_mesh(THREE, {"edgemesh_cilium_version": recorded}, None)["state"]
    message = refuse(THREE, {"edgemesh_cilium_version": wanted}, state)
    assert "cluster 'eu-core' (group cluster_eu_core): edgemesh_cilium_version " + fragment in (
        message
    )
    assert "the state file records %s for this cluster" % recorded in message


def test_one_minor_up_and_patch_moves_are_planned():
    state = plan_mesh(THREE, {"edgemesh_cilium_version": "1.18.12"}, None)["state"]
    up = plan_mesh(THREE, {"edgemesh_cilium_version": "1.19.0"}, state)["state"]
    assert up["clusters"]["us-core"]["cilium_version"] == "1.19.0"
    down = plan_mesh(THREE, {"edgemesh_cilium_version": "1.19.6"}, up)["state"]
    assert plan_mesh(THREE, {"edgemesh_cilium_version": "1.19.2"}, down)


def test_an_inactive_cluster_keeps_its_recorded_version():
    state = plan_mesh(THREE, {"edgemesh_cilium_version": "1.18.12"}, None)["state"]
    settings = {"edgemesh_cilium_version": "1.19.6", "edgemesh_remove_clusters": ["eu-core"]}
    result = plan_mesh(THREE[1:], settings, state)
    assert result["state"]["clusters"]["eu-core"]["cilium_version"] == "1.18.12"
    assert result["state"]["clusters"]["us-core"]["cilium_version"] == "1.19.6"


def test_unreleased_patches_are_refused():
    minor = mesh_rules.CILIUM_MINORS[1]
    bad = "%s.%d" % (minor.minor, max(minor.known_patches) + 93)
    message = refuse(THREE, {"edgemesh_cilium_version": bad}, None)
    assert "edgemesh_cilium_version %r is not a released %s patch; allowed: %s.0" % (
        bad,
        minor.minor,
        minor.minor,
    ) in (message)


def test_a_recorded_version_must_be_canonical_and_supported():
    state = plan_mesh(THREE, {}, None)["state"]
    for bad, fragment in (("v1.19.6", "not written canonically"), ("1.14.0", "not supported")):
        broken = copy.deepcopy(state)
        broken["clusters"]["us-core"]["cilium_version"] = bad
        message = refuse(THREE, {}, broken)
        assert "state file: cluster 'us-core': cilium_version" in message and fragment in message


# ------------------------------------------- findings 5/6: IPv6 nodes, per-cluster settings


@pytest.mark.parametrize(
    "ip_v6, fragment",
    [
        ("not-an-ip", "host 'eu-edge-1-1' address 'not-an-ip' is not an IP address"),
        ("192.0.2.50", "host 'eu-edge-1-1' edgemesh_node_ip_v6 '192.0.2.50' is IPv4"),
        (
            "fd00:10::5",
            "cluster 'eu-core' pod CIDR fd00:10::/56 (edgemesh_pod_cidr_v6) contains the address "
            "fd00:10::5 of host 'eu-edge-1-1'",
        ),
        ("2001:db8::11", "share the address 2001:db8::11"),
    ],
)
def test_ipv6_node_addresses_get_the_ipv4_checks(ip_v6, fragment):
    clusters = copy.deepcopy(THREE)
    clusters[0]["nodes"][0]["ip_v6"] = "2001:db8::11"
    clusters[0]["vars"]["edgemesh_pod_cidr_v6"] = "fd00:10::/56"
    clusters[1]["nodes"][0]["ip_v6"] = ip_v6
    assert fragment in refuse(clusters, DUAL, None)


def test_a_v6_node_address_inside_another_clusters_planned_v6_cidr_is_refused():
    state = plan_mesh(THREE, DUAL, None)["state"]
    taken = state["clusters"]["us-core"]["pod_cidrs"][1]
    clusters = copy.deepcopy(THREE)
    clusters[0]["nodes"][0]["ip_v6"] = taken.split("/")[0] + "7"
    message = refuse(clusters, DUAL, state)
    assert "cluster 'us-core' pod CIDR %s (state file) contains the address" % taken in message


@pytest.mark.parametrize(
    "key, value",
    [
        ("edgemesh_pod_cidr_pool_v6", ["fd00:10::/48"]),
        ("edgemesh_cilium_version", "1.18.12"),
        ("edgemesh_output_dir", "elsewhere"),
        ("edgemesh_remove_clusters", ["x"]),
    ],
)
def test_a_mesh_wide_setting_in_one_clusters_vars_is_refused_by_name(key, value):
    inv = {
        "_meta": {
            "hostvars": {
                "a1": {
                    "edgemesh_cluster_name": "a",
                    "edgemesh_region": "eu",
                    "ansible_host": "192.0.2.1",
                    "edgemesh_node_role": "server",
                    key: value,
                }
            }
        },
        "edgemesh_clusters": {"children": ["cluster_a"]},
        "cluster_a": {"hosts": ["a1"]},
    }
    clusters = clusters_from_inventory(inv)
    message = refuse(clusters, {}, None)
    assert message.startswith("cluster group 'cluster_a': %s is %s" % (key, json.dumps(value)))
    assert "a per-cluster value is not supported" in message
    # The same value set mesh-wide (every host and the control node see it) is planned.
    if key != "edgemesh_pod_cidr_pool_v6" and key != "edgemesh_remove_clusters":
        assert plan_mesh(clusters, {key: value}, None)


def test_per_cluster_cilium_options_are_honoured():
    clusters = copy.deepcopy(THREE)
    clusters[2]["cilium"] = {"routing_mode": "native"}
    plan = plan_mesh(clusters, {}, None)["plan"]
    by_name = dict((c["name"], c) for c in plan["clusters"])
    assert by_name["us-core"]["cilium"] == {"routing_mode": "native"}
    assert by_name["eu-core"]["cilium"] == {}


# ---------------------------------------------------- finding 8: messages lead with the cause


def test_a_host_in_two_clusters_leads_the_message():
    inv = {
        "_meta": {
            "hostvars": {
                "h1": {"edgemesh_cluster_name": "b", "edgemesh_region": "eu"},
                "h2": {"edgemesh_cluster_name": "a", "edgemesh_region": "eu"},
            }
        },
        "edgemesh_clusters": {"children": ["cluster_a", "cluster_b"]},
        "cluster_a": {"hosts": ["h1", "h2"]},
        "cluster_b": {"hosts": ["h1"]},
    }
    with pytest.raises(PlanError) as info:
        clusters_from_inventory(inv)
    assert str(info.value).startswith(
        "host 'h1' is in cluster groups 'cluster_a' and 'cluster_b'; allowed: one cluster per host"
    )


def test_missing_and_empty_cluster_group_messages_differ():
    with pytest.raises(PlanError) as missing:
        clusters_from_inventory({"_meta": {"hostvars": {}}, "all": {"children": []}})
    with pytest.raises(PlanError) as empty:
        clusters_from_inventory({"_meta": {"hostvars": {}}, "edgemesh_clusters": {}})
    assert "did every inventory file parse?" in str(missing.value)
    assert "(it exists, but is empty)" in str(empty.value)
    assert "did every inventory file parse?" not in str(empty.value)

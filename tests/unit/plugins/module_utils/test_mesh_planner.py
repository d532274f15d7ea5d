# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh planner: every allocation rule, every refusal, and property tests."""

import copy
import json
import random

import netaddr
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (
    DEFAULTS,
    PlanError,
    clusters_from_inventory,
    dump_state,
    plain,
    plan_mesh,
    state_from_plan,
)


def cluster(name, region="eu-west", nodes=None, group=None, **pins):
    if nodes is None:
        nodes = [("%s-1" % name, "192.0.2.%d" % (abs(hash(name)) % 200 + 1), "server")]
    cvars = {"edgemesh_cluster_name": name, "edgemesh_region": region}
    for key, value in pins.items():
        cvars["edgemesh_" + key] = value
    return {
        "group": group or "cluster_" + name.replace("-", "_"),
        "vars": cvars,
        "nodes": [{"host": h, "ip": ip, "role": role} for h, ip, role in nodes],
    }


def numbered(count, nodes_per_cluster=1):
    """``count`` clusters with unique node addresses in 100.64.0.0/10."""
    result = []
    base = int(netaddr.IPAddress("100.64.0.1"))
    for i in range(count):
        nodes = []
        for j in range(nodes_per_cluster):
            ip = str(netaddr.IPAddress(base + i * nodes_per_cluster + j))
            nodes.append(("n%d-%d" % (i, j), ip, "server" if j == 0 else "agent"))
        result.append(cluster("c%03d" % i, region="r%d" % (i % 4), nodes=nodes))
    return result


def by_name(result):
    return dict((c["name"], c) for c in result["plan"]["clusters"])


def refuse(clusters, settings=None, state=None):
    with pytest.raises(PlanError) as info:
        plan_mesh(clusters, settings or {}, state)
    return str(info.value)


THREE = [
    cluster("eu-core", nodes=[("a1", "192.0.2.11", "server"), ("a2", "192.0.2.12", "agent")]),
    cluster("eu-edge-1", nodes=[("b1", "198.51.100.21", "server")]),
    cluster(
        "us-core",
        region="us-east",
        distribution="kubeadm",
        nodes=[("c1", "203.0.113.31", "server")],
    ),
]


# ------------------------------------------------------------------ allocation rules


def test_defaults_allocate_lowest_free_in_name_order():
    result = plan_mesh(THREE, {}, None)
    plan = by_name(result)
    assert [c["name"] for c in result["plan"]["clusters"]] == ["eu-core", "eu-edge-1", "us-core"]
    assert [plan[n]["id"] for n in sorted(plan)] == [1, 2, 3]
    assert plan["eu-core"]["pod_cidrs"] == ["10.0.0.0/16"]
    assert plan["eu-edge-1"]["pod_cidrs"] == ["10.1.0.0/16"]
    assert plan["us-core"]["service_cidrs"] == ["172.16.32.0/20"]
    assert plan["us-core"]["cluster_dns"] == "172.16.32.10"
    assert [plan[n]["clustermesh_nodeport"] for n in sorted(plan)] == [32379, 32380, 32381]
    assert plan["us-core"]["distribution"] == "kubeadm"
    assert plan["eu-core"]["distribution"] == "k3s"
    assert plan["eu-core"]["servers"] == ["192.0.2.11"]
    assert plan["eu-core"]["agents"] == ["192.0.2.12"]
    assert plan["eu-core"]["peers"] == ["eu-edge-1", "us-core"]
    mesh = result["plan"]["mesh"]
    assert mesh["regions"] == {"eu-west": ["eu-core", "eu-edge-1"], "us-east": ["us-core"]}
    assert mesh["cilium_version"] == "1.19.6" and mesh["cilium_minor"] == "1.19"
    assert mesh["max_connected_clusters"] == 255
    assert result["state"]["clusters"]["eu-core"] == {
        "id": 1,
        "pod_cidrs": ["10.0.0.0/16"],
        "service_cidrs": ["172.16.0.0/20"],
        "clustermesh_nodeport": 32379,
        "active": True,
        "cilium_version": "1.19.6",
    }


def test_same_inventory_in_any_order_gives_identical_output():
    first = plan_mesh(THREE, {}, None)
    shuffled = copy.deepcopy(THREE[::-1])
    for cl in shuffled:
        cl["nodes"].reverse()
    second = plan_mesh(shuffled, {}, None)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_state_keeps_ids_and_cidrs_when_clusters_are_added():
    state = plan_mesh(THREE[1:], {}, None)["state"]
    result = plan_mesh(THREE, {}, state)
    plan = by_name(result)
    assert plan["eu-edge-1"]["id"] == 1 and plan["us-core"]["id"] == 2
    assert plan["eu-edge-1"]["pod_cidrs"] == ["10.0.0.0/16"]
    assert plan["eu-core"]["id"] == 3 and plan["eu-core"]["pod_cidrs"] == ["10.2.0.0/16"]


def test_removed_cluster_stays_reserved_until_released():
    state = plan_mesh(THREE, {}, None)["state"]
    result = plan_mesh(THREE[1:], {"edgemesh_remove_clusters": ["eu-core"]}, state)
    kept = result["state"]["clusters"]["eu-core"]
    assert kept["active"] is False and kept["id"] == 1
    assert result["plan"]["mesh"]["inactive_clusters"] == {
        "eu-core": {
            "id": 1,
            "pod_cidrs": ["10.0.0.0/16"],
            "service_cidrs": ["172.16.0.0/20"],
            "clustermesh_nodeport": 32379,
            "cilium_version": "1.19.6",
        }
    }
    assert state_from_plan(result["plan"]) == result["state"]
    assert "eu-core" not in by_name(result)["us-core"]["peers"]
    newcomer = cluster("zz-new", nodes=[("z1", "192.0.2.99", "server")])
    result2 = plan_mesh(THREE[1:] + [newcomer], {}, result["state"])
    assert by_name(result2)["zz-new"]["id"] == 4
    assert by_name(result2)["zz-new"]["pod_cidrs"] == ["10.3.0.0/16"]
    released = plan_mesh(
        THREE[1:] + [newcomer], {"edgemesh_release_clusters": ["eu-core"]}, result["state"]
    )
    assert "eu-core" not in released["state"]["clusters"]
    assert by_name(released)["zz-new"]["id"] == 1
    assert by_name(released)["zz-new"]["pod_cidrs"] == ["10.0.0.0/16"]


def test_returning_cluster_gets_its_old_values_back():
    state = plan_mesh(THREE, {}, None)["state"]
    gone = plan_mesh(THREE[1:], {"edgemesh_remove_clusters": ["eu-core"]}, state)["state"]
    back = plan_mesh(THREE, {}, gone)
    assert back["state"] == state


def test_release_of_unknown_name_is_ignored():
    result = plan_mesh(THREE, {"edgemesh_release_clusters": ["never-existed"]}, None)
    assert len(result["plan"]["clusters"]) == 3


def test_pins_are_honoured_and_others_fill_around_them():
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"].update(
        {
            "edgemesh_cluster_id": 1,
            "edgemesh_pod_cidr": "10.1.0.0/16",
            "edgemesh_service_cidr": "172.16.0.0/20",
            "edgemesh_clustermesh_nodeport": 32380,
        }
    )
    clusters[2]["vars"]["edgemesh_cluster_id"] = "2"  # INI inventories give strings
    plan = by_name(plan_mesh(clusters, {}, None))
    assert plan["eu-core"]["id"] == 1 and plan["eu-core"]["pod_cidrs"] == ["10.1.0.0/16"]
    assert plan["eu-core"]["clustermesh_nodeport"] == 32380
    assert plan["us-core"]["id"] == 2
    assert plan["eu-edge-1"]["id"] == 3
    assert plan["eu-edge-1"]["pod_cidrs"] == ["10.0.0.0/16"]
    assert plan["eu-edge-1"]["service_cidrs"] == ["172.16.16.0/20"]
    assert plan["eu-edge-1"]["clustermesh_nodeport"] == 32379
    assert plan["us-core"]["clustermesh_nodeport"] == 32381


def test_pin_equal_to_state_is_accepted():
    state = plan_mesh(THREE, {}, None)["state"]
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_cluster_id"] = 1
    clusters[0]["vars"]["edgemesh_pod_cidr"] = "10.0.0.0/16"
    assert plan_mesh(clusters, {}, state)["state"] == state


def test_allocation_skips_reserved_ranges_and_node_addresses():
    clusters = [
        cluster("a", nodes=[("a1", "10.0.5.5", "server")]),
        cluster("b", nodes=[("b1", "172.16.3.1", "server")]),
    ]
    plan = by_name(plan_mesh(clusters, {"edgemesh_reserved_cidrs": ["10.1.0.0/16"]}, None))
    assert plan["a"]["pod_cidrs"] == ["10.2.0.0/16"]
    assert plan["b"]["pod_cidrs"] == ["10.3.0.0/16"]
    assert plan["a"]["service_cidrs"] == ["172.16.16.0/20"]


def test_several_pool_entries_are_used_in_order():
    settings = {
        "edgemesh_pod_cidr_pool": ["10.0.0.0/15", "192.168.0.0/16"],
        "edgemesh_pod_cidr_prefix": 16,
    }
    plan = by_name(plan_mesh(numbered(3), settings, None))
    assert [plan[n]["pod_cidrs"][0] for n in sorted(plan)] == [
        "10.0.0.0/16",
        "10.1.0.0/16",
        "192.168.0.0/16",
    ]


def test_pools_as_comma_separated_strings():
    settings = {"edgemesh_pod_cidr_pool": "10.0.0.0/15, 192.168.0.0/16"}
    result = plan_mesh(numbered(1), settings, None)
    assert result["plan"]["mesh"]["pod_cidr_pool"] == ["10.0.0.0/15", "192.168.0.0/16"]


def test_dual_stack_orders_v4_then_v6():
    settings = {
        "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
        "edgemesh_service_cidr_pool_v6": ["fd00:20::/104"],
    }
    result = plan_mesh(THREE, settings, None)
    plan = by_name(result)
    assert plan["eu-core"]["pod_cidrs"] == ["10.0.0.0/16", "fd00:10::/56"]
    assert plan["eu-edge-1"]["pod_cidrs"] == ["10.1.0.0/16", "fd00:10:0:100::/56"]
    assert plan["eu-core"]["service_cidrs"] == ["172.16.0.0/20", "fd00:20::/112"]
    assert plan["eu-core"]["cluster_dns"] == "172.16.0.10"
    assert result["plan"]["mesh"]["ip_families"] == ["ipv4", "ipv6"]


def test_v6_only_mesh_uses_v6_dns():
    settings = {
        "edgemesh_pod_cidr_pool": [],
        "edgemesh_service_cidr_pool": [],
        "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
        "edgemesh_service_cidr_pool_v6": ["fd00:20::/104"],
    }
    clusters = [cluster("v6", nodes=[("h", "2001:db8::1", "server")])]
    plan = by_name(plan_mesh(clusters, settings, None))
    assert plan["v6"]["pod_cidrs"] == ["fd00:10::/56"]
    assert plan["v6"]["cluster_dns"] == "fd00:20::a"
    assert plan["v6"]["servers"] == ["2001:db8::1"]


def test_dual_stack_added_later_keeps_v4_and_allocates_v6():
    state = plan_mesh(THREE, {}, None)["state"]
    settings = {
        "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
        "edgemesh_service_cidr_pool_v6": ["fd00:20::/104"],
    }
    plan = by_name(plan_mesh(THREE, settings, state))
    assert plan["us-core"]["pod_cidrs"] == ["10.2.0.0/16", "fd00:10:0:200::/56"]


def test_511_ids_and_same_value_everywhere():
    settings = {
        "edgemesh_max_connected_clusters": 511,
        "edgemesh_pod_cidr_prefix": 17,
        "edgemesh_service_cidr_prefix": 21,
    }
    clusters = numbered(3)
    clusters[0]["vars"]["edgemesh_cluster_id"] = 511
    result = plan_mesh(clusters, settings, None)
    assert by_name(result)["c000"]["id"] == 511
    assert result["plan"]["mesh"]["max_connected_clusters"] == 511
    assert result["state"]["max_connected_clusters"] == 511


def test_servers_and_agents_sorted_numerically_and_nodes_by_host():
    nodes = [
        ("z", "192.0.2.10", "server"),
        ("a", "192.0.2.9", "server"),
        ("m", "192.0.2.100", "agent"),
        ("b", "192.0.2.20", None),
    ]
    plan = by_name(plan_mesh([cluster("one", nodes=nodes)], {}, None))
    assert plan["one"]["servers"] == ["192.0.2.9", "192.0.2.10"]
    assert plan["one"]["agents"] == ["192.0.2.20", "192.0.2.100"]
    assert [n["host"] for n in plan["one"]["nodes"]] == ["a", "b", "m", "z"]
    assert plan["one"]["nodes"][1]["role"] == "agent"


def test_nodeports_wrap_to_the_start_of_the_range():
    settings = {
        "edgemesh_clustermesh_nodeport_range": "32000-32002",
        "edgemesh_clustermesh_nodeport_first": 32001,
    }
    plan = by_name(plan_mesh(numbered(3), settings, None))
    assert [plan[n]["clustermesh_nodeport"] for n in sorted(plan)] == [32001, 32002, 32000]


def test_cilium_version_with_v_prefix_is_normalised():
    for version in ("1.18.0", "v1.20.0"):
        mesh = plan_mesh(THREE, {"edgemesh_cilium_version": version}, None)["plan"]["mesh"]
        assert mesh["cilium_version"] == version.lstrip("v")


def test_state_accepts_json_text_and_dump_is_byte_stable():
    state = plan_mesh(THREE, {}, None)["state"]
    text = dump_state(state)
    assert text.endswith("}\n") and json.loads(text) == state
    assert plan_mesh(THREE, {}, text)["state"] == state
    assert plan_mesh(THREE, {}, "")["state"] == state


def test_plain_strips_subclasses():
    class Tagged(str):
        pass

    data = plain({Tagged("k"): [Tagged("v"), (1, True)]})
    assert data == {"k": ["v", [1, True]]}
    assert list(data)[0].__class__ is str and data["k"][0].__class__ is str


# ------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("Upper", "'Upper' is not allowed"),
        ("-lead", "'-lead' is not allowed"),
        ("trail-", "'trail-' is not allowed"),
        ("a" * 33, "at most 32 characters"),
        ("default", "not 'default'"),
        ("under_score", "'under_score' is not allowed"),
        (5, "5 is not allowed"),
    ],
)
def test_refuses_bad_names(name, fragment):
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_cluster_name"] = name
    message = refuse(clusters)
    assert "cluster group 'cluster_eu_core'" in message and fragment in message
    assert "edgemesh_cluster_name" in message


def test_accepts_a_32_character_name():
    assert plan_mesh([cluster("a" * 32)], {}, None)


def test_refuses_missing_name_and_region():
    clusters = copy.deepcopy(THREE)
    del clusters[0]["vars"]["edgemesh_cluster_name"]
    del clusters[1]["vars"]["edgemesh_region"]
    message = refuse(clusters)
    assert "cluster group 'cluster_eu_core': edgemesh_cluster_name is not set" in message
    assert "cluster 'eu-edge-1' (group cluster_eu_edge_1): edgemesh_region is not set" in message


def test_refuses_bad_region():
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_region"] = "eu west"
    assert "edgemesh_region 'eu west' is not allowed" in refuse(clusters)


def test_refuses_duplicate_names():
    clusters = copy.deepcopy(THREE)
    clusters[1]["vars"]["edgemesh_cluster_name"] = "eu-core"
    message = refuse(clusters)
    assert "edgemesh_cluster_name 'eu-core' is used by groups" in message
    assert "cluster_eu_core" in message and "cluster_eu_edge_1" in message


def test_refuses_unknown_distribution():
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_distribution"] = "rke2"
    message = refuse(clusters)
    assert "cluster 'eu-core'" in message and "edgemesh_distribution 'rke2'" in message
    assert "allowed: k3s or kubeadm" in message


@pytest.mark.parametrize("version", ["1.17.9", "2.19.0", "1.19", "latest", "1.21.0"])
def test_refuses_unsupported_cilium_version(version):
    message = refuse(THREE, {"edgemesh_cilium_version": version})
    assert "edgemesh_cilium_version %r is not supported" % version in message
    assert "allowed: 1.18.x, 1.19.x, 1.20.x" in message


@pytest.mark.parametrize("value", [0, 256, 512, "many", True])
def test_refuses_bad_max_connected_clusters(value):
    message = refuse(THREE, {"edgemesh_max_connected_clusters": value})
    assert "edgemesh_max_connected_clusters %r is not allowed; allowed: 255 or 511" % (value,) in (
        message
    )


def test_refuses_cluster_level_max_connected_clusters_that_differs():
    clusters = copy.deepcopy(THREE)
    clusters[2]["vars"]["edgemesh_max_connected_clusters"] = 511
    message = refuse(clusters)
    assert "cluster 'us-core'" in message and "differs from the mesh-wide value 255" in message


def test_refuses_state_with_other_max_connected_clusters():
    state = plan_mesh(THREE, {}, None)["state"]
    message = refuse(THREE, {"edgemesh_max_connected_clusters": 511}, state)
    assert "edgemesh_max_connected_clusters 511 contradicts the state file" in message
    assert "allowed: 255" in message


@pytest.mark.parametrize("value", [0, 256, -1, "seven", 1.5])
def test_refuses_out_of_range_cluster_id(value):
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_cluster_id"] = value
    message = refuse(clusters)
    assert "cluster 'eu-core'" in message and "edgemesh_cluster_id %r is out of range" % (
        value,
    ) in (message)
    assert "allowed: 1-255" in message


def test_id_512_refused_with_511():
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_cluster_id"] = 512
    message = refuse(clusters, {"edgemesh_max_connected_clusters": 511})
    assert "edgemesh_cluster_id 512 is out of range; allowed: 1-511" in message


def test_refuses_duplicate_pinned_ids():
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_cluster_id"] = 7
    clusters[2]["vars"]["edgemesh_cluster_id"] = 7
    message = refuse(clusters)
    assert "cluster ID 7 is claimed by clusters 'eu-core' and 'us-core'" in message


def test_refuses_pin_taking_an_inactive_clusters_id():
    state = plan_mesh(THREE, {}, None)["state"]
    clusters = copy.deepcopy(THREE[1:])
    clusters[0]["vars"]["edgemesh_cluster_id"] = 2
    state_clusters = state["clusters"]
    assert state_clusters["eu-edge-1"]["id"] == 2
    newcomer = cluster("new", nodes=[("n1", "192.0.2.77", "server")], cluster_id=1)
    message = refuse(clusters + [newcomer], {"edgemesh_remove_clusters": ["eu-core"]}, state)
    assert "cluster ID 1 is claimed by clusters 'eu-core' and 'new'" in message
    assert "'eu-core' left the inventory but is kept in the state file" in message
    assert "edgemesh_release_clusters" in message


def test_refuses_duplicate_pinned_ports_and_bad_port():
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_clustermesh_nodeport"] = 32400
    clusters[1]["vars"]["edgemesh_clustermesh_nodeport"] = 32400
    assert "clustermesh NodePort 32400 is claimed by clusters 'eu-core' and 'eu-edge-1'" in (
        refuse(clusters)
    )
    clusters[1]["vars"]["edgemesh_clustermesh_nodeport"] = 2379
    message = refuse(clusters)
    assert "cluster 'eu-edge-1'" in message and "edgemesh_clustermesh_nodeport 2379" in message
    assert "allowed: 30000-32767" in message


@pytest.mark.parametrize(
    "key, value, fragment",
    [
        ("pod_cidr", "192.168.0.0/16", "lies outside edgemesh_pod_cidr_pool (10.0.0.0/8)"),
        ("service_cidr", "10.0.0.0/20", "lies outside edgemesh_service_cidr_pool (172.16.0.0/12)"),
        ("pod_cidr", "10.1.0.5/16", "has host bits set (the network address is 10.1.0.0/16)"),
        ("pod_cidr", "10.1.0.0", "is not a CIDR"),
        ("pod_cidr", "10.300.0.0/16", "is not a valid CIDR"),
        ("pod_cidr", "fd00::/56", "is IPv6; allowed: an IPv4 CIDR (use edgemesh_pod_cidr_v6)"),
        ("pod_cidr_v6", "fd00::/56", "edgemesh_pod_cidr_pool_v6 is empty"),
        ("service_cidr", "172.16.0.0/8", "has host bits set"),
        ("service_cidr", "172.32.0.0/20", "outside edgemesh_service_cidr_pool"),
        ("service_cidr", "172.0.0.0/11", "has prefix /11; allowed: /12 to /28"),
        ("service_cidr", "172.16.0.0/29", "has prefix /29; allowed: /12 to /28"),
        ("pod_cidr", "10.0.0.0/25", "has prefix /25; allowed: /8 to /24"),
    ],
)
def test_refuses_bad_cidr_pins(key, value, fragment):
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_" + key] = value
    message = refuse(clusters)
    assert "cluster 'eu-core'" in message and ("edgemesh_%s" % key) in message
    assert fragment in message


@pytest.mark.parametrize(
    "first, second, fragment",
    [
        (("pod_cidr", "10.4.0.0/16"), ("pod_cidr", "10.4.0.0/17"), "pod CIDR 10.4.0.0/16"),
        (
            ("service_cidr", "172.16.0.0/16"),
            ("service_cidr", "172.16.32.0/20"),
            "service CIDR 172.16.32.0/20",
        ),
    ],
)
def test_refuses_overlapping_pins_across_clusters(first, second, fragment):
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_" + first[0]] = first[1]
    clusters[2]["vars"]["edgemesh_" + second[0]] = second[1]
    message = refuse(clusters)
    assert "cluster 'eu-core'" in message and "cluster 'us-core'" in message
    assert "overlaps" in message and fragment in message


def test_refuses_pod_overlapping_service_inside_one_cluster():
    settings = {"edgemesh_service_cidr_pool": ["10.0.0.0/8"]}
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_pod_cidr"] = "10.8.0.0/16"
    clusters[0]["vars"]["edgemesh_service_cidr"] = "10.8.16.0/20"
    message = refuse(clusters, settings)
    assert "cluster 'eu-core' pod CIDR 10.8.0.0/16 (edgemesh_pod_cidr) overlaps" in message
    assert "cluster 'eu-core' service CIDR 10.8.16.0/20 (edgemesh_service_cidr)" in message


def test_refuses_v6_pin_overlap():
    settings = {
        "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
        "edgemesh_service_cidr_pool_v6": ["fd00:20::/104"],
    }
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_pod_cidr_v6"] = "fd00:10::/56"
    clusters[1]["vars"]["edgemesh_pod_cidr_v6"] = "fd00:10::/60"
    message = refuse(clusters, settings)
    assert "pod CIDR fd00:10::/56" in message and "overlaps" in message


def test_refuses_pin_containing_a_node_address():
    clusters = copy.deepcopy(THREE)
    clusters[0]["nodes"][1]["ip"] = "10.9.1.1"
    clusters[2]["vars"]["edgemesh_pod_cidr"] = "10.9.0.0/16"
    message = refuse(clusters)
    assert "cluster 'us-core' pod CIDR 10.9.0.0/16" in message
    assert "contains the address 10.9.1.1 of host 'a2' (cluster 'eu-core')" in message


def test_refuses_pin_overlapping_reserved():
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_pod_cidr"] = "10.9.0.0/16"
    message = refuse(clusters, {"edgemesh_reserved_cidrs": ["10.9.128.0/24"]})
    assert "cluster 'eu-core' pod CIDR 10.9.0.0/16" in message
    assert "overlaps edgemesh_reserved_cidrs 10.9.128.0/24" in message


def test_refuses_prefix_larger_than_pool():
    message = refuse(
        THREE, {"edgemesh_pod_cidr_pool": ["10.0.0.0/12"], "edgemesh_pod_cidr_prefix": 10}
    )
    assert (
        "edgemesh_pod_cidr_prefix /10 is larger than edgemesh_pod_cidr_pool entry 10.0.0.0/12"
        in (message)
    )


@pytest.mark.parametrize(
    "key, value",
    [
        ("edgemesh_pod_cidr_prefix", 30),
        ("edgemesh_service_cidr_prefix", 8),
        ("edgemesh_service_cidr_prefix_v6", 64),
        ("edgemesh_pod_cidr_prefix", "sixteen"),
    ],
)
def test_refuses_prefix_out_of_limits(key, value):
    message = refuse(THREE, {key: value})
    assert "%s %r is not allowed; allowed: an integer from" % (key, value) in message


@pytest.mark.parametrize(
    "settings, fragment",
    [
        ({"edgemesh_pod_cidr_pool": ["10.0.0.1/8"]}, "has host bits set"),
        ({"edgemesh_pod_cidr_pool": ["fd00::/48"]}, "is IPv6; allowed: IPv4 CIDRs only"),
        ({"edgemesh_pod_cidr_pool": 5}, "is not a list of CIDRs"),
        (
            {"edgemesh_pod_cidr_pool": ["10.0.0.0/8", "10.1.0.0/16"]},
            "entries 10.0.0.0/8 and 10.1.0.0/16 overlap",
        ),
        ({"edgemesh_pod_cidr_pool_v6": ["fd00::/48"]}, "must both be set or both be empty"),
        (
            {"edgemesh_pod_cidr_pool": [], "edgemesh_service_cidr_pool": []},
            "at least one address family",
        ),
        ({"edgemesh_reserved_cidrs": ["nope"]}, "edgemesh_reserved_cidrs entry 'nope'"),
        ({"edgemesh_release_clusters": 7}, "edgemesh_release_clusters 7 is not a list"),
        (
            {"edgemesh_clustermesh_nodeport_range": "100-200"},
            "allowed: 'FIRST-LAST' inside 30000-32767",
        ),
        (
            {"edgemesh_clustermesh_nodeport_first": 30000},
            "edgemesh_clustermesh_nodeport_first 30000",
        ),
    ],
)
def test_refuses_bad_settings(settings, fragment):
    if "edgemesh_clustermesh_nodeport_first" in settings:
        settings = dict(settings, edgemesh_clustermesh_nodeport_range="32000-32767")
    assert fragment in refuse(THREE, settings)


def test_refuses_exhausted_pool_with_counts():
    settings = {"edgemesh_pod_cidr_pool": ["10.0.0.0/14"], "edgemesh_pod_cidr_prefix": 16}
    message = refuse(numbered(6), settings)
    assert "edgemesh_pod_cidr_pool (10.0.0.0/14) is exhausted with /16 blocks" in message
    assert "4 clusters fit, 6 asked (2 more needed, first: cluster 'c004')" in message


def test_refuses_exhausted_v6_service_pool():
    settings = {
        "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
        "edgemesh_service_cidr_pool_v6": ["fd00:20::/111"],
    }
    message = refuse(numbered(3), settings)
    assert "edgemesh_service_cidr_pool_v6 (fd00:20::/111) is exhausted" in message
    assert "2 clusters fit, 3 asked" in message


def test_refuses_exhausted_nodeport_range():
    settings = {
        "edgemesh_clustermesh_nodeport_range": "32000-32001",
        "edgemesh_clustermesh_nodeport_first": 32000,
    }
    message = refuse(numbered(3), settings)
    assert (
        "edgemesh_clustermesh_nodeport_range 32000-32001 is exhausted: 2 clusters fit, 3 asked"
        in (message)
    )


def test_refuses_cluster_without_server():
    clusters = copy.deepcopy(THREE)
    clusters[0]["nodes"][0]["role"] = "agent"
    message = refuse(clusters)
    assert "cluster 'eu-core' (group cluster_eu_core): no host has edgemesh_node_role 'server'" in (
        message
    )
    clusters[0]["nodes"] = []
    assert "(hosts: none)" in refuse(clusters)


def test_refuses_bad_role_and_addresses():
    clusters = copy.deepcopy(THREE)
    clusters[0]["nodes"][1]["role"] = "master"
    clusters[1]["nodes"][0]["ip"] = None
    clusters[2]["nodes"][0]["ip"] = "us-core-1.example.org"
    message = refuse(clusters)
    assert "host 'a2' has edgemesh_node_role 'master'; allowed: server or agent" in message
    assert "host 'b1' has no address; allowed: set edgemesh_node_ip or ansible_host" in message
    assert "host 'c1' address 'us-core-1.example.org' is not an IP address" in message


def test_refuses_two_nodes_with_one_address():
    clusters = copy.deepcopy(THREE)
    clusters[2]["nodes"][0]["ip"] = "192.0.2.12"
    message = refuse(clusters)
    assert "hosts 'a2' and 'c1'" in message and "share the address 192.0.2.12" in message


def test_refuses_a_host_in_two_clusters():
    clusters = copy.deepcopy(THREE)
    clusters[2]["nodes"].append({"host": "a2", "ip": "192.0.2.12", "role": "agent"})
    message = refuse(clusters)
    assert "host 'a2' is in clusters 'cluster_eu_core' and 'cluster_us_core'" in message


@pytest.mark.parametrize(
    "key, value, held",
    [
        ("cluster_id", 9, "1"),
        ("pod_cidr", "10.9.0.0/16", "10.0.0.0/16"),
        ("service_cidr", "172.17.0.0/20", "172.16.0.0/20"),
        ("clustermesh_nodeport", 32000, "32379"),
    ],
)
def test_refuses_pin_contradicting_state(key, value, held):
    state = plan_mesh(THREE, {}, None)["state"]
    clusters = copy.deepcopy(THREE)
    clusters[0]["vars"]["edgemesh_" + key] = value
    message = refuse(clusters, {}, state)
    assert (
        "cluster 'eu-core'" in message
        and "edgemesh_%s %s contradicts the state file"
        % (
            key,
            value,
        )
        in message
    )
    assert "records %s for this running cluster; allowed: %s" % (held, held) in message


def test_refuses_release_of_a_cluster_still_in_the_inventory():
    state = plan_mesh(THREE, {}, None)["state"]
    message = refuse(THREE, {"edgemesh_release_clusters": ["us-core"]}, state)
    assert "edgemesh_release_clusters names 'us-core', which is still in the inventory" in message


@pytest.mark.parametrize(
    "state, fragment",
    [
        ("{not json", "state file: not valid JSON"),
        ([1, 2], "state file: expected a JSON object, got list"),
        ({"format": 2, "clusters": {}}, "state file: format 2 is not supported; allowed: 1"),
        (
            {"format": 1, "max_connected_clusters": 255, "clusters": {"x": {"id": 0}}},
            "state file: cluster 'x': id 0 is not allowed; allowed: 1-255",
        ),
        (
            {
                "format": 1,
                "max_connected_clusters": 255,
                "clusters": {"x": {"id": 1, "pod_cidrs": ["10.0.0.1/16"]}},
            },
            "state file: cluster 'x': pod_cidrs entry '10.0.0.1/16' has host bits set",
        ),
        (
            {
                "format": 1,
                "max_connected_clusters": 255,
                "clusters": {"x": {"id": 1, "clustermesh_nodeport": 80}},
            },
            "state file: cluster 'x': clustermesh_nodeport 80 is not allowed",
        ),
    ],
)
def test_refuses_bad_state(state, fragment):
    assert fragment in refuse(THREE, {}, state)


def test_refuses_duplicate_ids_in_state():
    state = plan_mesh(THREE, {}, None)["state"]
    state["clusters"]["us-core"]["id"] = 1
    assert "cluster ID 1 is claimed by clusters 'eu-core' and 'us-core'" in refuse(THREE, {}, state)


def test_refuses_state_cidr_outside_a_shrunk_pool():
    state = plan_mesh(THREE, {}, None)["state"]
    message = refuse(THREE, {"edgemesh_pod_cidr_pool": ["10.1.0.0/16", "10.2.0.0/16"]}, state)
    assert "cluster 'eu-core'" in message and "state file records pod CIDR 10.0.0.0/16" in message


def test_refuses_dropping_a_family_the_state_holds():
    settings = {
        "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
        "edgemesh_service_cidr_pool_v6": ["fd00:20::/104"],
    }
    state = plan_mesh(THREE, settings, None)["state"]
    message = refuse(THREE, {}, state)
    assert "state file records pod CIDR fd00:10::/56 but edgemesh_pod_cidr_pool_v6 is empty" in (
        message
    )


def test_refuses_too_many_clusters_counting_inactive_ones():
    state = plan_mesh(numbered(200), {}, None)["state"]
    removed = {"edgemesh_remove_clusters": ["c%03d" % i for i in range(100)]}
    message = refuse(numbered(256)[100:], removed, state)
    assert "256 clusters need a cluster ID (156 in the inventory, 100 kept in the state file" in (
        message
    )
    assert "c000, c001" in message and "allows IDs 1-255" in message
    assert plan_mesh(numbered(255)[100:], removed, state)


def test_refuses_non_list_clusters_and_bad_items():
    assert "clusters must be a list" in refuse("nope")
    assert "clusters[0] is not a mapping" in refuse(["x"])


# ------------------------------------------------------------------------- capacity


def test_capacity_255_fits_and_256_is_refused():
    result = plan_mesh(numbered(255), {}, None)
    ids = sorted(c["id"] for c in result["plan"]["clusters"])
    assert ids == list(range(1, 256))
    message = refuse(numbered(256), {})
    assert "256 clusters need a cluster ID (256 in the inventory, 0 kept" in message
    assert "allows IDs 1-255" in message


SETTINGS_511 = {
    "edgemesh_max_connected_clusters": 511,
    "edgemesh_pod_cidr_prefix": 17,
    "edgemesh_service_cidr_prefix": 21,
}


def test_capacity_511_fits_and_512_is_refused():
    result = plan_mesh(numbered(511), SETTINGS_511, None)
    assert sorted(c["id"] for c in result["plan"]["clusters"]) == list(range(1, 512))
    ports = [c["clustermesh_nodeport"] for c in result["plan"]["clusters"]]
    assert len(set(ports)) == 511 and all(30000 <= p <= 32767 for p in ports)
    message = refuse(numbered(512), SETTINGS_511)
    assert "512 clusters need a cluster ID" in message and "allows IDs 1-511" in message


def test_default_pools_hold_256_blocks_so_511_needs_smaller_blocks():
    message = refuse(numbered(300), {"edgemesh_max_connected_clusters": 511})
    assert "edgemesh_pod_cidr_pool (10.0.0.0/8) is exhausted with /16 blocks" in message
    assert "256 clusters fit, 300 asked" in message


# -------------------------------------------------------------------- inventory input


def inventory(groups, hostvars):
    data = {
        "_meta": {"hostvars": hostvars},
        "all": {"children": ["ungrouped", "edgemesh_clusters"]},
    }
    data.update(groups)
    return data


def test_inventory_clusters_direct_and_nested_groups():
    inv = inventory(
        {
            "edgemesh_clusters": {"children": ["cluster_b", "cluster_a"]},
            "cluster_a": {"hosts": ["a2", "a1"]},
            "cluster_b": {"children": ["b_servers", "b_agents"]},
            "b_servers": {"hosts": ["b1"]},
            "b_agents": {"hosts": ["b2"]},
        },
        {
            "a1": {
                "ansible_host": "192.0.2.1",
                "edgemesh_node_role": "server",
                "edgemesh_cluster_name": "a",
                "edgemesh_region": "r",
                "edgemesh_cilium_version": "1.19.6",
            },
            "a2": {
                "ansible_host": "192.0.2.2",
                "edgemesh_node_ip": "198.51.100.2",
                "edgemesh_cluster_name": "a",
                "edgemesh_region": "r",
            },
            "b1": {"edgemesh_cluster_name": "b", "edgemesh_node_role": "server"},
            "b2": {"edgemesh_cluster_name": "b"},
        },
    )
    inv["_meta"]["hostvars"]["192.0.2.9"] = {"edgemesh_cluster_name": "b"}
    inv["b_agents"]["hosts"].append("192.0.2.9")
    result = clusters_from_inventory(inv)
    assert [c["group"] for c in result] == ["cluster_a", "cluster_b"]
    assert result[0]["vars"] == {"edgemesh_cluster_name": "a", "edgemesh_region": "r"}
    assert result[0]["nodes"] == [
        {"host": "a1", "ip": "192.0.2.1", "ip_v6": "", "role": "server"},
        {"host": "a2", "ip": "198.51.100.2", "ip_v6": "", "role": "agent"},
    ]
    assert [n["host"] for n in result[1]["nodes"]] == ["192.0.2.9", "b1", "b2"]
    assert result[1]["nodes"][0]["ip"] == "192.0.2.9"
    assert result[1]["nodes"][1]["ip"] is None


def test_inventory_refuses_host_in_two_cluster_groups():
    inv = inventory(
        {
            "edgemesh_clusters": {"children": ["cluster_a", "cluster_b"]},
            "cluster_a": {"hosts": ["h1"]},
            "cluster_b": {"hosts": ["h1", "h2"]},
        },
        {"h1": {}, "h2": {}},
    )
    with pytest.raises(PlanError) as info:
        clusters_from_inventory(inv)
    assert "host 'h1' is in cluster groups 'cluster_a' and 'cluster_b'" in str(info.value)


def test_inventory_refuses_disagreeing_cluster_vars():
    inv = inventory(
        {"edgemesh_clusters": {"children": ["cluster_a"]}, "cluster_a": {"hosts": ["h1", "h2"]}},
        {"h1": {"edgemesh_region": "eu"}, "h2": {"edgemesh_region": "us"}},
    )
    with pytest.raises(PlanError) as info:
        clusters_from_inventory(inv)
    message = str(info.value)
    assert (
        "cluster group 'cluster_a': hosts disagree on the cluster-level variable edgemesh_region"
        in (message)
    )
    assert 'h1="eu"' in message and 'h2="us"' in message


def test_inventory_refuses_nested_cluster_groups_and_direct_hosts():
    inv = inventory(
        {
            "edgemesh_clusters": {"children": ["cluster_a", "cluster_b"]},
            "cluster_a": {"children": ["cluster_b"]},
            "cluster_b": {"hosts": ["h1"]},
        },
        {"h1": {}},
    )
    with pytest.raises(PlanError) as info:
        clusters_from_inventory(inv)
    assert "cluster group 'cluster_b' is nested inside cluster group 'cluster_a'" in str(info.value)
    inv = inventory({"edgemesh_clusters": {"hosts": ["h1"], "children": ["cluster_b"]}}, {})
    with pytest.raises(PlanError) as info:
        clusters_from_inventory(inv)
    assert "host(s) h1 are direct members of 'edgemesh_clusters'" in str(info.value)


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"all": {}}, "is not the output of 'ansible-inventory --list'"),
        ({"_meta": {"hostvars": {}}, "all": {}}, "the inventory has no group 'edgemesh_clusters'"),
        (
            {"_meta": {"hostvars": {}}, "edgemesh_clusters": {}},
            "group 'edgemesh_clusters' has no child groups",
        ),
    ],
)
def test_inventory_refuses_missing_groups(data, fragment):
    with pytest.raises(PlanError) as info:
        clusters_from_inventory(data)
    assert fragment in str(info.value)


# --------------------------------------------------------------------- property tests

NAMES = ["a%d" % i for i in range(40)]
POD_POOL = netaddr.IPNetwork("10.0.0.0/12")
SVC_POOL = netaddr.IPNetwork("172.16.0.0/16")
SMALL = {
    "edgemesh_pod_cidr_pool": [str(POD_POOL)],
    "edgemesh_pod_cidr_prefix": 16,
    "edgemesh_service_cidr_pool": [str(SVC_POOL)],
    "edgemesh_service_cidr_prefix": 20,
    "edgemesh_pod_cidr_pool_v6": ["fd00:10::/52"],
    "edgemesh_pod_cidr_prefix_v6": 56,
    "edgemesh_service_cidr_pool_v6": ["fd00:20::/108"],
    "edgemesh_service_cidr_prefix_v6": 112,
    "edgemesh_clustermesh_nodeport_range": "32370-32399",
}


@st.composite
def meshes(draw, max_clusters=14):
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=max_clusters, unique=True))
    used = set()
    clusters = []
    for name in names:
        count = draw(st.integers(min_value=1, max_value=3))
        nodes = []
        for j in range(count):
            # Node addresses inside the pools too, so allocation has to step around them.
            space = draw(st.sampled_from([POD_POOL, SVC_POOL, netaddr.IPNetwork("192.0.2.0/24")]))
            offset = draw(st.integers(min_value=0, max_value=space.size - 1))
            ip = str(netaddr.IPAddress(space.first + offset))
            if ip in used:
                continue
            used.add(ip)
            nodes.append(("%s-%d" % (name, j), ip, "server" if not nodes else "agent"))
        if not nodes:
            nodes = [("%s-x" % name, "198.51.100.%d" % (len(clusters) + 1), "server")]
        clusters.append(
            cluster(name, region=draw(st.sampled_from(["eu", "us", "ap"])), nodes=nodes)
        )
    reserved = draw(
        st.lists(
            st.integers(min_value=0, max_value=15).map(lambda i: "10.%d.128.0/18" % i), max_size=3
        )
    )
    dual = draw(st.booleans())
    settings = dict(SMALL, edgemesh_reserved_cidrs=sorted(set(reserved)))
    if not dual:
        settings["edgemesh_pod_cidr_pool_v6"] = []
        settings["edgemesh_service_cidr_pool_v6"] = []
    return clusters, settings


def check_invariants(result, clusters, settings):
    plan = result["plan"]
    assert state_from_plan(json.loads(json.dumps(plan))) == result["state"]
    mcc = plan["mesh"]["max_connected_clusters"]
    entries = plan["clusters"]
    assert [c["name"] for c in entries] == sorted(
        c["vars"]["edgemesh_cluster_name"] for c in clusters
    )
    ids = [c["id"] for c in entries] + [
        e["id"] for n, e in result["state"]["clusters"].items() if not e["active"]
    ]
    assert len(ids) == len(set(ids)) and all(1 <= i <= mcc for i in ids)
    ports = [c["clustermesh_nodeport"] for c in entries]
    assert len(ports) == len(set(ports))
    nets = []
    for entry in result["state"]["clusters"].values():
        for text in entry["pod_cidrs"] + entry["service_cidrs"]:
            nets.append(netaddr.IPNetwork(text))
    nets.sort(key=lambda n: (n.version, n.first))
    for left, right in zip(nets, nets[1:]):
        assert left.version != right.version or left.last < right.first, (left, right)
    reserved = netaddr.IPSet(settings.get("edgemesh_reserved_cidrs", []))
    node_ips = netaddr.IPSet(n["ip"] for c in clusters for n in c["nodes"])
    for c in entries:
        for kind, key in (("pod", "pod_cidrs"), ("service", "service_cidrs")):
            for text in c[key]:
                net = netaddr.IPNetwork(text)
                suffix = "_v6" if net.version == 6 else ""
                pools = netaddr.IPSet(settings["edgemesh_%s_cidr_pool%s" % (kind, suffix)])
                assert net in pools
                assert not (netaddr.IPSet([net]) & reserved)
                assert not (netaddr.IPSet([net]) & node_ips)
        assert netaddr.IPAddress(c["cluster_dns"]) in netaddr.IPNetwork(c["service_cidrs"][0])


FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@FAST
@given(meshes())
def test_property_plans_are_valid_or_refused_clearly(mesh):
    clusters, settings_ = mesh
    try:
        result = plan_mesh(clusters, settings_, None)
    except PlanError as exc:
        assert "exhausted" in str(exc) and "asked" in str(exc)
        return
    check_invariants(result, clusters, settings_)


@FAST
@given(meshes(), st.randoms(use_true_random=False))
def test_property_output_is_independent_of_input_order(mesh, rnd):
    clusters, settings_ = mesh
    try:
        first = plan_mesh(clusters, settings_, None)
    except PlanError:
        return
    shuffled = copy.deepcopy(clusters)
    rnd.shuffle(shuffled)
    for c in shuffled:
        rnd.shuffle(c["nodes"])
    assert plan_mesh(shuffled, settings_, None) == first


@FAST
@given(meshes(), st.data())
def test_property_stable_under_add_remove_reorder(mesh, data):
    clusters, settings_ = mesh
    try:
        before = plan_mesh(clusters, settings_, None)
    except PlanError:
        return
    keep = data.draw(st.lists(st.sampled_from(clusters), unique_by=lambda c: c["group"]))
    taken_hosts = set(n["host"] for c in clusters for n in c["nodes"])
    taken_ips = set(n["ip"] for c in clusters for n in c["nodes"])
    extra_names = [
        n for n in NAMES if n not in set(c["vars"]["edgemesh_cluster_name"] for c in clusters)
    ]
    extra = []
    for i, name in enumerate(extra_names[: data.draw(st.integers(min_value=0, max_value=3))]):
        ip = "203.0.113.%d" % (i + 1)
        assert ip not in taken_ips and name + "-n" not in taken_hosts
        extra.append(cluster(name, nodes=[(name + "-n", ip, "server")]))
    after_input = keep + extra
    random.Random(len(after_input)).shuffle(after_input)
    if not after_input:
        return
    kept_names = set(c["vars"]["edgemesh_cluster_name"] for c in after_input)
    gone = [n for n in before["state"]["clusters"] if n not in kept_names]
    try:
        after = plan_mesh(
            after_input, dict(settings_, edgemesh_remove_clusters=gone), before["state"]
        )
    except PlanError as exc:
        assert "exhausted" in str(exc) or "need a cluster ID" in str(exc)
        return
    old = before["state"]["clusters"]
    new = after["state"]["clusters"]
    for name, entry in old.items():
        assert name in new
        for key in ("id", "pod_cidrs", "service_cidrs", "clustermesh_nodeport"):
            assert new[name][key] == entry[key]
        assert new[name]["active"] == any(
            c["vars"]["edgemesh_cluster_name"] == name for c in after_input
        )
    check_invariants(after, after_input, settings_)


@FAST
@given(meshes(max_clusters=8), st.data())
def test_property_pins_are_honoured_or_refused_by_name(mesh, data):
    clusters, settings_ = mesh
    clusters = copy.deepcopy(clusters)
    target = data.draw(st.sampled_from(clusters))
    pin_id = data.draw(st.integers(min_value=1, max_value=255))
    block = data.draw(st.integers(min_value=0, max_value=15))
    target["vars"]["edgemesh_cluster_id"] = pin_id
    target["vars"]["edgemesh_pod_cidr"] = "10.%d.0.0/16" % block
    name = target["vars"]["edgemesh_cluster_name"]
    try:
        result = plan_mesh(clusters, settings_, None)
    except PlanError as exc:
        message = str(exc)
        assert ("cluster '%s'" % name in message) or "exhausted" in message
        return
    entry = by_name(result)[name]
    assert entry["id"] == pin_id and entry["pod_cidrs"][0] == "10.%d.0.0/16" % block
    check_invariants(result, clusters, settings_)


def test_defaults_document_the_contract():
    assert DEFAULTS["edgemesh_pod_cidr_pool"] == ["10.0.0.0/8"]
    assert DEFAULTS["edgemesh_service_cidr_pool"] == ["172.16.0.0/12"]
    assert DEFAULTS["edgemesh_clustermesh_nodeport_first"] == 32379


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.integers(min_value=8, max_value=20),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=0, max_value=3),
)
def test_property_pool_capacity_is_exact(pool_prefix, extra_bits, pools):
    """n pool entries of 2**extra_bits blocks each: exactly that many clusters fit."""
    block = pool_prefix + extra_bits
    entries = ["10.%d.0.0/%d" % (i * 64, pool_prefix) for i in range(pools + 1)]
    if pool_prefix < 10:
        entries = entries[:1]
    capacity = len(entries) * 2**extra_bits
    assume(block <= 24 and capacity < 255)
    pool_settings = {"edgemesh_pod_cidr_pool": entries, "edgemesh_pod_cidr_prefix": block}
    result = plan_mesh(numbered(capacity), pool_settings, None)
    assert len(result["plan"]["clusters"]) == capacity
    message = refuse(numbered(capacity + 1), pool_settings)
    assert "%d clusters fit, %d asked" % (capacity, capacity + 1) in message


@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=255))
def test_property_id_capacity_counts_inactive_clusters(inactive):
    """255 IDs fit whatever the split between inventory and inactive state entries."""
    everyone = numbered(256)
    state = plan_mesh(everyone[:255], {}, None)["state"]
    active = everyone[inactive:255]
    removed = {"edgemesh_remove_clusters": ["c%03d" % i for i in range(inactive)]}
    if active:
        result = plan_mesh(active, removed, state)
        assert len(result["plan"]["mesh"]["inactive_clusters"]) == inactive
    message = refuse(everyone[inactive:256], removed, state)
    assert (
        "256 clusters need a cluster ID (%d in the inventory, %d kept"
        % (
            256 - inactive,
            inactive,
        )
        in message
    )

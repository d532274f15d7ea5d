# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cilium Helm values of every cluster: valid keys per chart version, peers, ports, CA,
native-routing CIDR, byte-stable rendering, and every error message."""

import base64
import json
import pathlib

import netaddr
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import cilium_values as cv
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import plan_mesh
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.plans import complete_plan

ROOT = pathlib.Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "fixtures" / "cilium-chart"
# The chart of every supported minor (mesh_rules.CILIUM_MINORS), one reference list each.
VERSIONS = [minor.chart_tested for minor in mesh_rules.CILIUM_MINORS]

CA_CERT = "-----BEGIN CERTIFICATE-----\nMIIBstand-in-ca-cert\n-----END CERTIFICATE-----\n"
CA_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEstand-in-ca-key\n-----END RSA PRIVATE KEY-----\n"


def chart_keys(version):
    path = FIXTURES / ("cilium-chart-%s-defaults.json" % version)
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    assert data["version"] == version
    return data["defaults"]


def make_plan(n=3, version="1.19.6", dual=False, agents=True):
    names = ["c%02d" % i for i in range(1, n + 1)]
    clusters = []
    for i, name in enumerate(names, start=1):
        servers = ["192.0.2.%d" % (10 * i + 1)]
        agent_ips = ["192.0.2.%d" % (10 * i + 2)] if agents and i % 2 else []
        pods = ["10.%d.0.0/16" % i] + (["fd00:10:%x::/56" % (i * 256)] if dual else [])
        clusters.append(
            {
                "name": name,
                "group": "cluster_" + name,
                "id": i,
                "region": "eu-west" if i % 2 else "us-east",
                "distribution": "k3s" if i % 2 else "kubeadm",
                "pod_cidrs": pods,
                "service_cidrs": ["172.16.%d.0/20" % (16 * (i - 1))],
                "cluster_dns": "172.16.%d.10" % (16 * (i - 1)),
                "clustermesh_nodeport": 32378 + i,
                "servers": servers,
                "agents": agent_ips,
                "nodes": [{"host": "%s-s" % name, "ip": servers[0], "role": "server"}]
                + [{"host": "%s-a" % name, "ip": ip, "role": "agent"} for ip in agent_ips],
                "peers": [x for x in names if x != name],
            }
        )
    return complete_plan(
        {
            "mesh": {
                "cilium_version": version,
                "cilium_minor": version.rsplit(".", 1)[0],
                "max_connected_clusters": 255,
            },
            "clusters": clusters,
        }
    )


def flatten(values, prefix=""):
    """Dotted keys of a values dict, stopping at lists and at mesh cluster maps.

    ``clustermesh.config.clusters`` is a free-form map (cluster names as keys) from 1.19,
    so it counts as one key, as in the chart's own defaults list.
    """
    keys = {}
    for key, value in values.items():
        dotted = "%s.%s" % (prefix, key) if prefix else str(key)
        if isinstance(value, dict) and value and dotted != "clustermesh.config.clusters":
            keys.update(flatten(value, dotted))
        else:
            keys[dotted] = value
    return keys


def mesh_values(plan, options=None):
    """{cluster name: values} for every cluster of the plan."""
    ctx = cv.context(plan)
    return dict((c["name"], cv.cluster_values(ctx, c["name"], options)) for c in plan["clusters"])


def peer_names(values):
    clusters = values["clustermesh"]["config"]["clusters"]
    if isinstance(clusters, list):
        return [c["name"] for c in clusters]
    return sorted(clusters)


def peer_entries(values):
    clusters = values["clustermesh"]["config"]["clusters"]
    if isinstance(clusters, list):
        return dict((c["name"], {"ips": c["ips"], "port": c["port"]}) for c in clusters)
    return clusters


OPTION_SETS = [
    {},
    {"routing_mode": "native", "auto_direct_node_routes": True},
    {"tunnel_protocol": "geneve", "hubble_ui": True, "node_encryption": True},
    {"encryption": False, "hubble": False, "kube_proxy_replacement": False},
    {"ca_cert": CA_CERT, "ca_key": CA_KEY, "policy_default_local_cluster": False},
    {"clustermesh_addresses": {"c02": "198.51.100.7"}, "operator_replicas": 3},
]


# ------------------------------------------------------------ valid keys per version


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: ",".join(sorted(o)) or "defaults")
def test_every_key_exists_in_that_chart_version(version, options):
    reference = chart_keys(version)
    for dual in (False, True):
        plan = make_plan(4, version, dual=dual)
        for cluster in plan["clusters"]:
            values = cv.cluster_values(plan, cluster["name"], options)
            unknown = sorted(set(flatten(values)) - set(reference))
            assert unknown == [], "%s: keys not in the %s chart: %s" % (
                cluster["name"],
                version,
                unknown,
            )


@pytest.mark.parametrize("version", VERSIONS)
def test_values_with_a_real_plan_are_valid(version):
    """The planner's own output feeds the engine (contract between the two)."""
    clusters = []
    for i, (name, dist) in enumerate([("eu-core", "k3s"), ("eu-edge", "kubeadm"), ("us", "k3s")]):
        clusters.append(
            {
                "group": "cluster_" + name.replace("-", "_"),
                "vars": {
                    "edgemesh_cluster_name": name,
                    "edgemesh_region": "r%d" % (i % 2),
                    "edgemesh_distribution": dist,
                },
                "nodes": [
                    {"host": name + "-1", "ip": "192.0.2.%d" % (10 + i), "role": "server"},
                    {"host": name + "-2", "ip": "192.0.2.%d" % (20 + i), "role": "agent"},
                ],
            }
        )
    plan = plan_mesh(clusters, {"edgemesh_cilium_version": version}, None)["plan"]
    reference = set(chart_keys(version))
    values = mesh_values(plan)
    assert sorted(values) == ["eu-core", "eu-edge", "us"]
    for name, vals in values.items():
        assert set(flatten(vals)) <= reference
        assert peer_names(vals) == sorted(set(values) - {name})


def test_reference_lists_hold_the_keys_this_engine_relies_on():
    """Guards the fixtures themselves: a truncated copy would make the check above vacuous."""
    for version in VERSIONS:
        keys = chart_keys(version)
        assert len(keys) > 1000
        for key in (
            "cluster.name",
            "clustermesh.config.clusters",
            "clustermesh.apiserver.service.nodePort",
            "tls.ca.key",
            "encryption.type",
        ):
            assert key in keys


def test_flatten_finds_a_key_that_does_not_exist():
    values = cv.cluster_values(make_plan(2), "c01", {"extra_values": {"clustermesh": {"x": 1}}})
    assert "clustermesh.x" in set(flatten(values)) - set(chart_keys("1.19.6"))


# ------------------------------------------------------------ version differences


def test_clusters_are_a_list_in_118_and_a_dict_from_119():
    plan = make_plan(3, "1.18.12")
    clusters = cv.cluster_values(plan, "c01")["clustermesh"]["config"]["clusters"]
    # every node's IP (servers first): c03 has a server and an agent
    assert clusters == [
        {"name": "c02", "ips": ["192.0.2.21"], "port": 32380},
        {"name": "c03", "ips": ["192.0.2.31", "192.0.2.32"], "port": 32381},
    ]
    for version in ("1.19.6", "1.20.0"):
        clusters = cv.cluster_values(make_plan(3, version), "c01")["clustermesh"]["config"]
        assert clusters["clusters"] == {
            "c02": {"ips": ["192.0.2.21"], "port": 32380},
            "c03": {"ips": ["192.0.2.31", "192.0.2.32"], "port": 32381},
        }


@pytest.mark.parametrize(
    "version,expected", [("1.18.12", False), ("1.19.6", True), ("1.20.0", True)]
)
def test_policy_default_local_cluster_follows_the_version(version, expected):
    values = cv.cluster_values(make_plan(2, version), "c01")
    assert values["clustermesh"]["policyDefaultLocalCluster"] is expected
    assert chart_keys(version)["clustermesh.policyDefaultLocalCluster"] is expected
    forced = cv.cluster_values(make_plan(2, version), "c01", {"policy_default_local_cluster": True})
    assert forced["clustermesh"]["policyDefaultLocalCluster"] is True


@pytest.mark.parametrize("version", VERSIONS)
def test_kvstoremesh_is_left_at_the_version_default(version):
    values = cv.cluster_values(make_plan(2, version), "c01")
    assert "kvstoremesh" not in values["clustermesh"]["apiserver"]
    assert chart_keys(version)["clustermesh.apiserver.kvstoremesh.enabled"] is True


# ------------------------------------------------------------ the mesh


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_peers_are_exactly_the_other_clusters(version, n):
    plan = make_plan(n, version)
    names = [c["name"] for c in plan["clusters"]]
    by_name = dict((c["name"], c) for c in plan["clusters"])
    for name in names:
        values = cv.cluster_values(plan, name)
        assert peer_names(values) == sorted(set(names) - {name})
        for peer, entry in peer_entries(values).items():
            # NodePort exposure: every node answers, so every node IP is dialled (issue 15 #3)
            assert entry == {
                "ips": by_name[peer]["servers"] + by_name[peer]["agents"],
                "port": by_name[peer]["clustermesh_nodeport"],
            }


def test_nodeports_are_the_planned_unique_ports():
    plan = make_plan(6)
    ports = []
    for cluster in plan["clusters"]:
        service = cv.cluster_values(plan, cluster["name"])["clustermesh"]["apiserver"]["service"]
        assert service == {"type": "NodePort", "nodePort": cluster["clustermesh_nodeport"]}
        ports.append(service["nodePort"])
    assert len(set(ports)) == len(ports)


def test_peers_without_planned_peers_default_to_all_others():
    plan = make_plan(3)
    for cluster in plan["clusters"]:
        del cluster["peers"]
    assert peer_names(cv.cluster_values(plan, "c02")) == ["c01", "c03"]


def test_removed_cluster_leaves_every_peer_list():
    plan = make_plan(4)
    plan["clusters"] = [c for c in plan["clusters"] if c["name"] != "c03"]
    for cluster in plan["clusters"]:
        cluster["peers"] = [p for p in cluster["peers"] if p != "c03"]
    for cluster in plan["clusters"]:
        assert "c03" not in peer_names(cv.cluster_values(plan, cluster["name"]))


def test_loadbalancer_address_replaces_the_nodeport():
    plan = make_plan(3)
    opts = {"clustermesh_addresses": {"c02": "198.51.100.7"}}
    own = cv.cluster_values(plan, "c02", opts)["clustermesh"]["apiserver"]["service"]
    assert own == {"type": "LoadBalancer", "loadBalancerIP": "198.51.100.7"}
    peer = peer_entries(cv.cluster_values(plan, "c01", opts))["c02"]
    assert peer == {"ips": ["198.51.100.7"], "port": 2379}


def test_identity_and_ipam():
    plan = make_plan(3, dual=True)
    values = cv.cluster_values(plan, "c03")
    assert values["cluster"] == {"name": "c03", "id": 3}
    assert values["ipam"] == {
        "mode": "cluster-pool",
        "operator": {
            "clusterPoolIPv4PodCIDRList": ["10.3.0.0/16"],
            "clusterPoolIPv4MaskSize": 24,
            "clusterPoolIPv6PodCIDRList": ["fd00:10:300::/56"],
            "clusterPoolIPv6MaskSize": 72,
        },
    }
    assert values["ipv6"] == {"enabled": True}
    assert values["clustermesh"]["maxConnectedClusters"] == 255


def test_shared_ca_is_identical_on_every_cluster():
    plan = make_plan(5)
    opts = {"ca_cert": CA_CERT, "ca_key": CA_KEY}
    tls = [cv.cluster_values(plan, c["name"], opts)["tls"] for c in plan["clusters"]]
    assert all(t == tls[0] for t in tls)
    assert base64.b64decode(tls[0]["ca"]["cert"]).decode() == CA_CERT
    assert base64.b64decode(tls[0]["ca"]["key"]).decode() == CA_KEY
    values = cv.cluster_values(plan, "c01", opts)
    assert values["certgen"]["generateCA"] is False


def test_no_ca_options_keep_the_key_out_of_the_values():
    values = cv.cluster_values(make_plan(2), "c01")
    assert "tls" not in values and "generateCA" not in values["certgen"]


@pytest.mark.parametrize("version", VERSIONS)
def test_certificates_are_issued_by_certgen_not_helm(version):
    values = cv.cluster_values(make_plan(2, version), "c01")
    assert values["clustermesh"]["apiserver"]["tls"]["auto"] == {
        "enabled": True,
        "method": "cronJob",
    }
    assert values["hubble"]["tls"]["auto"] == {"enabled": True, "method": "cronJob"}
    # the chart default would re-issue certificates on every upgrade
    assert chart_keys(version)["clustermesh.apiserver.tls.auto.method"] == "helm"


# ------------------------------------------------------------ datapath


def test_tunnel_is_the_default_with_vxlan():
    values = cv.cluster_values(make_plan(2), "c01")
    assert values["routingMode"] == "tunnel" and values["tunnelProtocol"] == "vxlan"
    assert "ipv4NativeRoutingCIDR" not in values
    geneve = cv.cluster_values(make_plan(2), "c01", {"tunnel_protocol": "geneve"})
    assert geneve["tunnelProtocol"] == "geneve"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 255), st.integers(8, 24)),
        min_size=1,
        max_size=8,
        unique_by=lambda t: t[0],
    )
)
def test_native_routing_cidr_covers_all_pod_cidrs(nets):
    plan = make_plan(len(nets))
    for cluster, (octet, prefix) in zip(plan["clusters"], nets):
        net = netaddr.IPNetwork("10.%d.0.0/%d" % (octet, prefix)).cidr
        cluster["pod_cidrs"] = [str(net)]
    for cluster in plan["clusters"]:
        values = cv.cluster_values(
            plan, cluster["name"], {"routing_mode": "native", "pod_cidr_mask_size": 26}
        )
        cover = netaddr.IPNetwork(values["ipv4NativeRoutingCIDR"])
        for other in plan["clusters"]:
            assert netaddr.IPNetwork(other["pod_cidrs"][0]) in cover
        assert values["routingMode"] == "native"


def test_native_routing_cidr_is_tight_for_adjacent_pools():
    plan = make_plan(4)
    values = cv.cluster_values(plan, "c01", {"routing_mode": "native"})
    # 10.1/16 .. 10.4/16 -> the smallest single CIDR covering them
    assert values["ipv4NativeRoutingCIDR"] == "10.0.0.0/13"
    assert values["autoDirectNodeRoutes"] is False


def test_native_routing_dual_stack_covers_v6():
    plan = make_plan(3, dual=True)
    values = cv.cluster_values(plan, "c01", {"routing_mode": "native"})
    cover6 = netaddr.IPNetwork(values["ipv6NativeRoutingCIDR"])
    for cluster in plan["clusters"]:
        assert netaddr.IPNetwork(cluster["pod_cidrs"][1]) in cover6


def test_native_routing_cidr_override_must_cover():
    plan = make_plan(3)
    with pytest.raises(
        cv.CiliumValuesError, match="10.0.0.0/15 does not cover pod CIDR 10.2.0.0/16"
    ):
        cv.cluster_values(
            plan, "c01", {"routing_mode": "native", "native_routing_cidr": "10.0.0.0/15"}
        )
    values = cv.cluster_values(
        plan, "c01", {"routing_mode": "native", "native_routing_cidr": "10.0.0.0/8"}
    )
    assert values["ipv4NativeRoutingCIDR"] == "10.0.0.0/8"


def test_kube_proxy_replacement_uses_each_nodes_own_loopback():
    """issue 15 #1: no agent depends on one API server - k3s nodes use k3s's client load
    balancer (127.0.0.1:6444), kubeadm nodes 127.0.0.1:6443 (their own kube-apiserver, or
    the node-local proxy on workers); an existing cluster keeps the inventory's endpoint."""
    plan = make_plan(2)  # c01 k3s, c02 kubeadm
    k3s = cv.cluster_values(plan, "c01")
    assert (k3s["kubeProxyReplacement"], k3s["k8sServiceHost"], k3s["k8sServicePort"]) == (
        True,
        "127.0.0.1",
        6444,
    )
    kubeadm = cv.cluster_values(plan, "c02")
    assert (kubeadm["k8sServiceHost"], kubeadm["k8sServicePort"]) == ("127.0.0.1", 6443)
    # A configured control-plane endpoint does not change what the agents use ...
    plan["clusters"][1]["api_endpoint"] = {"host": "api.c02.example", "port": 8443}
    kubeadm = cv.cluster_values(plan, "c02")
    assert (kubeadm["k8sServiceHost"], kubeadm["k8sServicePort"]) == ("127.0.0.1", 6443)
    # ... but a cluster the collection did not bootstrap keeps the inventory's endpoint.
    plan["clusters"][0]["api_endpoint"] = {"host": "2001:db8::1", "port": 6443}
    plan["clusters"][0]["kubeconfig"] = "/srv/c01.kubeconfig"
    existing = cv.cluster_values(plan, "c01")
    assert (existing["k8sServiceHost"], existing["k8sServicePort"]) == ("2001:db8::1", 6443)
    off = cv.cluster_values(plan, "c01", {"kube_proxy_replacement": False})
    assert off["kubeProxyReplacement"] is False and "k8sServiceHost" not in off


def test_cluster_options_in_the_plan_apply_and_role_options_win():
    plan = make_plan(2)
    plan["clusters"][0]["cilium"] = {"hubble_ui": True, "routing_mode": "native"}
    values = cv.cluster_values(plan, "c01")
    assert values["hubble"]["ui"]["enabled"] is True and values["routingMode"] == "native"
    assert cv.cluster_values(plan, "c02")["routingMode"] == "tunnel"
    values = cv.cluster_values(plan, "c01", {"cilium_routing_mode": "tunnel"})
    assert values["routingMode"] == "tunnel"


def test_no_agent_depends_on_one_server():
    plan = make_plan(3)
    for cluster in plan["clusters"]:
        host = cv.cluster_values(plan, cluster["name"])["k8sServiceHost"]
        assert host == "127.0.0.1" and host not in cluster["servers"]


def test_wireguard_is_on_by_default():
    values = cv.cluster_values(make_plan(2), "c01")
    assert values["encryption"] == {"enabled": True, "type": "wireguard", "nodeEncryption": False}
    off = cv.cluster_values(make_plan(2), "c01", {"encryption": False})
    assert off["encryption"] == {"enabled": False}


def test_hubble_relay_on_ui_optional():
    values = cv.cluster_values(make_plan(2), "c01")
    assert values["hubble"]["relay"]["enabled"] is True
    assert values["hubble"]["relay"]["tls"] == {"server": {"enabled": True}}
    assert values["hubble"]["ui"] == {"enabled": False}
    ui = cv.cluster_values(make_plan(2), "c01", {"hubble_ui": True})
    assert ui["hubble"]["ui"]["enabled"] is True
    assert cv.cluster_values(make_plan(2), "c01", {"hubble": False})["hubble"] == {"enabled": False}


def test_operator_replicas_fit_the_node_count():
    plan = make_plan(2)  # c01: server + agent, c02: a single node
    assert cv.cluster_values(plan, "c01")["operator"]["replicas"] == 2
    assert cv.cluster_values(plan, "c02")["operator"]["replicas"] == 1
    assert cv.cluster_values(plan, "c02", {"operator_replicas": 3})["operator"]["replicas"] == 3


def test_extra_vars_spellings_are_accepted():
    """`-e cilium_hubble_ui=true -e cilium_pod_cidr_mask_size=26` arrive as strings."""
    values = cv.cluster_values(
        make_plan(2),
        "c01",
        {
            "cilium_hubble_ui": "true",
            "cilium_encryption": "False",
            "cilium_pod_cidr_mask_size": "26",
            "cilium_operator_replicas": "",
            "cilium_policy_default_local_cluster": "false",
        },
    )
    assert values["hubble"]["ui"]["enabled"] is True
    assert values["encryption"] == {"enabled": False}
    assert values["ipam"]["operator"]["clusterPoolIPv4MaskSize"] == 26
    assert values["operator"]["replicas"] == 2
    assert values["clustermesh"]["policyDefaultLocalCluster"] is False


def test_extra_values_merge_deep():
    values = cv.cluster_values(
        make_plan(2), "c01", {"cilium_extra_values": {"hubble": {"relay": {"replicas": 2}}}}
    )
    assert (values["hubble"]["relay"]["enabled"], values["hubble"]["relay"]["replicas"]) == (
        True,
        2,
    )
    assert values["hubble"]["relay"]["tls"] == {"server": {"enabled": True}}


# ------------------------------------------------------------ byte stability


@pytest.mark.parametrize("version", VERSIONS)
def test_second_render_is_byte_identical(version):
    def render():
        plan = make_plan(5, version, dual=True)
        return "".join(
            yaml.safe_dump(
                cv.cluster_values(plan, c["name"], {"routing_mode": "native"}),
                sort_keys=True,
                default_flow_style=False,
            )
            for c in plan["clusters"]
        )

    assert render() == render()


def test_input_order_does_not_matter():
    plan = make_plan(5)
    shuffled = make_plan(5)
    shuffled["clusters"].reverse()
    for cluster in shuffled["clusters"]:
        cluster["peers"].reverse()
    for cluster in plan["clusters"]:
        assert cv.cluster_values(plan, cluster["name"]) == cv.cluster_values(
            shuffled, cluster["name"]
        )


def test_plan_is_not_modified():
    plan = make_plan(3)
    before = json.dumps(plan, sort_keys=True)
    cv.cluster_values(plan, "c01", {"routing_mode": "native", "extra_values": {"a": {"b": 1}}})
    assert json.dumps(plan, sort_keys=True) == before


# ------------------------------------------------------------ errors


def _with(mutate):
    plan = make_plan(3)
    mutate(plan)
    return plan


ERRORS = [
    (lambda: cv.cluster_values("x", "c01"), "the plan is not a mapping with 'mesh' and 'clusters'"),
    (
        lambda: cv.cluster_values({"mesh": {}, "clusters": []}, "c01"),
        "plan.mesh.cilium_version: Cilium version None is not supported",
    ),
    (
        lambda: cv.cluster_values(make_plan(2, "1.17.3"), "c01"),
        r"Cilium version '1.17.3' is not supported; allowed: 1.18.x, 1.19.x, 1.20.x",
    ),
    (lambda: cv.cluster_values(make_plan(2), "nope"), "cluster nope is not in the plan"),
    (
        lambda: cv.cluster_values(_with(lambda p: p.update(clusters=[])), "c01"),
        "plan.clusters must be a non-empty list",
    ),
    (
        lambda: cv.cluster_values(_with(lambda p: p["clusters"].append({})), "c01"),
        "plan cluster None: the plan has no 'api_endpoint'",
    ),
    (
        lambda: cv.cluster_values(
            _with(lambda p: p["clusters"].append(dict(p["clusters"][0]))), "c01"
        ),
        "plan.clusters: a cluster appears twice",
    ),
    (
        lambda: cv.cluster_values(_with(lambda p: p["clusters"][0].update(name="C_1")), "C_1"),
        "cluster C_1: name 'C_1' is not allowed; allowed: at most 32 characters",
    ),
    (
        lambda: cv.cluster_values(
            _with(lambda p: p["mesh"].update(max_connected_clusters=300)), "c01"
        ),
        "plan.mesh.max_connected_clusters 300 is not allowed; allowed: 255 or 511",
    ),
    (
        lambda: cv.cluster_values(_with(lambda p: p["clusters"][0].update(id=0)), "c01"),
        "cluster c01: id 0 is outside 1..255",
    ),
    (
        lambda: cv.cluster_values(_with(lambda p: p["clusters"][0].update(id="1")), "c01"),
        "plan cluster c01: 'id' is '1'; allowed: a int",
    ),
    (
        lambda: cv.cluster_values(_with(lambda p: p["clusters"][0].update(pod_cidrs=[])), "c01"),
        "cluster c01: no pod CIDR",
    ),
    (
        lambda: cv.cluster_values(
            _with(lambda p: p["clusters"][0].update(pod_cidrs=["10.1.0.1/16"])), "c01"
        ),
        "cluster c01: pod_cidrs: 10.1.0.1/16 has host bits set",
    ),
    (
        lambda: cv.cluster_values(
            _with(lambda p: p["clusters"][0].update(pod_cidrs=["banana"])), "c01"
        ),
        "cluster c01: pod_cidrs: 'banana' is not a CIDR",
    ),
    (
        lambda: cv.cluster_values(
            _with(lambda p: p["clusters"][0].update(servers=["not-an-ip"])), "c01"
        ),
        "cluster c01: server address: 'not-an-ip' is not an IP address",
    ),
    (
        lambda: cv.cluster_values(
            _with(lambda p: p["clusters"][1].update(clustermesh_nodeport=2379)), "c01"
        ),
        r"cluster c02: clustermesh_nodeport 2379 is not a NodePort \(30000..32767\)",
    ),
    (
        lambda: cv.cluster_values(
            _with(lambda p: p["clusters"][0].update(clustermesh_nodeport=None)), "c01"
        ),
        "plan cluster c01: the plan has no 'clustermesh_nodeport'",
    ),
    (
        lambda: cv.cluster_values(_with(lambda p: p["clusters"][0].update(peers=["zz"])), "c01"),
        "cluster c01: peer zz is not in plan.clusters",
    ),
    (
        lambda: cv.cluster_values(_with(lambda p: p["clusters"][0].update(peers=["c01"])), "c01"),
        "cluster c01: lists itself as a peer",
    ),
    (
        lambda: cv.cluster_values(_with(lambda p: p["clusters"][0].update(peers="c02")), "c01"),
        "plan cluster c01: 'peers' is 'c02'; allowed: a list",
    ),
    (lambda: cv.cluster_values(make_plan(2), "c01", "x"), "options must be a dict, got str"),
    (lambda: cv.cluster_values(make_plan(2), "c01", {"bogus": 1}), "unknown option 'bogus'"),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"hubble": "maybe"}),
        "option hubble must be a boolean, got 'maybe'",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"routing_mode": "bgp"}),
        "option routing_mode must be tunnel or native, got 'bgp'",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"tunnel_protocol": "gre"}),
        "option tunnel_protocol must be vxlan or geneve, got 'gre'",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"encryption_type": "ipsec"}),
        "option encryption_type must be wireguard, got 'ipsec'",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"cert_method": "helm"}),
        "option cert_method must be cronJob",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"clustermesh_addresses": []}),
        r"option clustermesh_addresses must be a dict, got \[\]",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"pod_cidr_mask_size": 33}),
        "option pod_cidr_mask_size must be an integer in 1..32, got 33",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"pod_cidr_mask_size_v6": 0}),
        "option pod_cidr_mask_size_v6 must be an integer in 1..128, got 0",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"operator_replicas": True}),
        "option operator_replicas must be an integer in 1..10, got True",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"policy_default_local_cluster": "perhaps"}),
        "option policy_default_local_cluster must be a boolean, got 'perhaps'",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"ca_cert": CA_CERT}),
        "options ca_cert and ca_key must be given together",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"ca_cert": CA_CERT, "ca_key": "secret"}),
        "option ca_key must be PEM text",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"pod_cidr_mask_size": 16}),
        "cluster c01: cilium_pod_cidr_mask_size 16 must be longer than the pod CIDR prefix /16",
    ),
    (
        lambda: cv.cluster_values(make_plan(2, dual=True), "c01", {"pod_cidr_mask_size_v6": 120}),
        "cluster c01: cilium_pod_cidr_mask_size_v6 120 must be 1..16 bits longer",
    ),
    (
        lambda: cv.cluster_values(
            _with(lambda p: p["clusters"][0].update(cilium={"hubble": "maybe"})), "c01"
        ),
        "option hubble must be a boolean, got 'maybe'",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"clustermesh_addresses": {"c01": "x"}}),
        "cluster c01: clustermesh address: 'x' is not an IP address",
    ),
    (
        lambda: cv.cluster_values(make_plan(2), "c01", {"clustermesh_addresses": {"c02": "x"}}),
        "cluster c01: clustermesh address of peer c02: 'x' is not an IP address",
    ),
    (
        lambda: cv.cluster_values(
            make_plan(2), "c01", {"routing_mode": "native", "native_routing_cidr": "10.0.0.1/8"}
        ),
        "option native_routing_cidr: 10.0.0.1/8 has host bits set",
    ),
    (
        lambda: cv.cluster_values(make_plan(2, "1.19"), "c01"),
        r"plan.mesh.cilium_version: Cilium version '1.19' is not supported",
    ),
]


@pytest.mark.parametrize("call,message", ERRORS, ids=[entry[1][:40] for entry in ERRORS])
def test_errors_are_clear(call, message):
    with pytest.raises(cv.CiliumValuesError, match=message):
        call()


def test_private_key_is_never_echoed_in_errors():
    with pytest.raises(cv.CiliumValuesError) as info:
        cv.cluster_values(make_plan(2), "c01", {"ca_cert": CA_CERT, "ca_key": "top-secret-key"})
    assert "top-secret-key" not in str(info.value)


# ------------------------------------------------------------ role <-> engine contract


def test_cilium_role_takes_the_values_options_only_from_the_plan():
    """Preview and install read the same options: the plan's. The cilium role has no
    values knob of its own that could differ from the inventory's cilium_* variables."""
    with open(ROOT / "roles" / "cilium" / "defaults" / "main.yml", encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    knobs = set("cilium_" + name for name in cv.DEFAULT_OPTIONS)
    assert knobs & set(defaults) == set()


# ------------------------------------------------------------ issue 15: HA, LB, taints, stderr


def test_apiserver_has_two_replicas_and_a_pdb_from_two_nodes():
    plan = make_plan(2)  # c01: server + agent, c02: a single node
    c01 = cv.cluster_values(plan, "c01")["clustermesh"]["apiserver"]
    c02 = cv.cluster_values(plan, "c02")["clustermesh"]["apiserver"]
    assert (c01["replicas"], c01["podDisruptionBudget"]) == (2, {"enabled": True})
    assert (c02["replicas"], c02["podDisruptionBudget"]) == (1, {"enabled": False})
    chosen = cv.cluster_values(plan, "c02", {"clustermesh_apiserver_replicas": "3"})
    assert chosen["clustermesh"]["apiserver"]["replicas"] == 3


def test_mesh_pods_tolerate_the_control_plane_taint():
    values = cv.cluster_values(make_plan(2), "c01", {"hubble_ui": True})
    wanted = [
        {
            "key": mesh_rules.CONTROL_PLANE_TAINT["key"],
            "operator": "Exists",
            "effect": mesh_rules.CONTROL_PLANE_TAINT["effect"],
        }
    ]
    for owner in (
        values["clustermesh"]["apiserver"],
        values["certgen"],
        values["hubble"]["relay"],
        values["hubble"]["ui"],
    ):
        assert owner["tolerations"] == wanted


def test_loadbalancer_exposure_enables_l2_and_builds_pool_and_policy():
    plan = make_plan(3)
    opts = {"clustermesh_addresses": {"c02": "198.51.100.7"}}
    assert cv.cluster_values(plan, "c02", opts)["l2announcements"] == {"enabled": True}
    assert "l2announcements" not in cv.cluster_values(plan, "c01", opts)
    assert cv.loadbalancer_objects(plan, "c01", opts) == []
    pool, policy = cv.loadbalancer_objects(plan, "c02", opts)
    assert pool["kind"] == "CiliumLoadBalancerIPPool"
    assert pool["apiVersion"] == mesh_rules.LB_IP_POOL_API_VERSION
    assert pool["spec"]["blocks"] == [{"cidr": "198.51.100.7/32"}]
    assert policy["kind"] == "CiliumL2AnnouncementPolicy"
    assert policy["apiVersion"] == mesh_rules.L2_ANNOUNCEMENT_API_VERSION
    assert policy["spec"]["loadBalancerIPs"] is True
    assert pool["spec"]["serviceSelector"] == policy["spec"]["serviceSelector"]
    v6 = cv.loadbalancer_objects(plan, "c02", {"clustermesh_addresses": {"c02": "2001:db8::7"}})
    assert v6[0]["spec"]["blocks"] == [{"cidr": "2001:db8::7/128"}]


def test_loadbalancer_objects_errors_are_clear():
    plan = make_plan(2)
    with pytest.raises(cv.CiliumValuesError, match="cluster nope is not in the plan"):
        cv.loadbalancer_objects(plan, "nope")
    with pytest.raises(cv.CiliumValuesError, match="c01: clustermesh address.*'x' is not an IP"):
        cv.loadbalancer_objects(plan, "c01", {"clustermesh_addresses": {"c01": "x"}})


def test_helm_warnings_drop_only_the_harmless_clusters_line():
    harmless = (
        'level=INFO msg="warning: destination for cilium.clustermesh.config.clusters is a '
        'table. Ignoring non-table value ([])"'
    )
    helm3 = (
        "coalesce.go:286: warning: cannot overwrite table with non table for "
        "cilium.clustermesh.config.clusters (map[])"
    )
    other = 'level=WARN msg="warning: something else"'
    assert cv.helm_warnings("\n".join([harmless, "", helm3, other])) == [other]
    assert cv.helm_warnings(None) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_mesh_profiles_set_cache_ttl_sync_timeout_and_replicas(version):
    """issue 16 #3: one knob per WAN quality (mesh_rules.MESH_PROFILES); every key it sets
    is a value of that chart (cacheTTL only from 1.19: the 1.18 chart has none)."""
    plan = make_plan(3, version=version)
    defaults = chart_keys(version)
    minor = version.rsplit(".", 1)[0]
    for name, profile in mesh_rules.MESH_PROFILES.items():
        values = cv.cluster_values(plan, "c01", {"mesh_profile": name})
        assert values["extraConfig"] == {"clustermesh-sync-timeout": profile["sync_timeout"]}
        assert "extraConfig" in defaults
        if minor in mesh_rules.CACHE_TTL_MINORS:
            assert values["clustermesh"]["cacheTTL"] == profile["cache_ttl"]
            assert "clustermesh.cacheTTL" in defaults
        else:
            assert "cacheTTL" not in values["clustermesh"]
            assert "clustermesh.cacheTTL" not in defaults
        nodes = len(plan["clusters"][0]["nodes"])
        replicas = min(profile["apiserver_replicas"], nodes) if nodes > 1 else 1
        assert values["clustermesh"]["apiserver"]["replicas"] == replicas
    plain = cv.cluster_values(plan, "c01")
    assert "extraConfig" not in plain and "cacheTTL" not in plain["clustermesh"]
    pinned = cv.cluster_values(
        plan, "c01", {"mesh_profile": "flaky", "clustermesh_apiserver_replicas": 1}
    )
    assert pinned["clustermesh"]["apiserver"]["replicas"] == 1
    with pytest.raises(
        cv.CiliumValuesError, match="mesh_profile is 'satellite'; allowed: flaky, lan, wan"
    ):
        cv.cluster_values(plan, "c01", {"mesh_profile": "satellite"})

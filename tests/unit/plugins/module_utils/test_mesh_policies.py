# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mesh_policies: the cross-cluster Cilium policies of one cluster, and the flow checks.

The example inventory's flows (inventories/example/group_vars/all/cilium.yml) are the
main input, as the global_services role passes them. Port protocols and entities allowed
are those of the CRDs of Cilium 1.18 to 1.20 (kubebuilder markers of pkg/policy/api/l4.go
and entity.go, as vendored by cilium/cilium-cli v0.18.6, v0.19.2 and v0.19.7).
"""

import copy
import pathlib

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_policies import (
    CLUSTER_LABEL,
    MANAGED_LABELS,
    Cluster,
    PolicyError,
    parse_flows,
    wanted_policies,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]
EXAMPLE = yaml.safe_load(
    (ROOT / "inventories" / "example" / "group_vars" / "all" / "cilium.yml").read_text()
)
CLUSTERS = [
    {"name": "eu-core", "region": "eu-west"},
    {"name": "eu-edge-1", "region": "eu-west"},
    {"name": "us-core", "region": "us-east"},
]
OPTIONS = {
    "region_isolation": EXAMPLE["global_services_region_isolation"],
    "isolation_exempt_namespaces": EXAMPLE["global_services_isolation_exempt_namespaces"],
    "isolation_entities": EXAMPLE["global_services_isolation_entities"],
}
FLOWS = EXAMPLE["global_services_allowed_flows"]


def policies(name, flows=None, options=None, clusters=None):
    return wanted_policies(
        clusters or CLUSTERS, name, FLOWS if flows is None else flows, options or OPTIONS
    )


def cluster_selector(rule):
    (selector,) = rule["fromEndpoints"]
    (expr,) = [e for e in selector["matchExpressions"] if e["key"] == CLUSTER_LABEL]
    assert expr["operator"] == "In"
    return expr["values"]


def test_region_isolation_per_region():
    for name, region_clusters in (
        ("eu-core", ["eu-core", "eu-edge-1"]),
        ("eu-edge-1", ["eu-core", "eu-edge-1"]),
        ("us-core", ["us-core"]),
    ):
        ccnp = policies(name)["CiliumClusterwideNetworkPolicy//edgemesh-region-isolation"]
        assert ccnp["kind"] == "CiliumClusterwideNetworkPolicy"
        assert "namespace" not in ccnp["metadata"]
        spec = ccnp["spec"]
        # default-deny between regions: only same-region clusters (explicitly) + entities
        assert cluster_selector(spec["ingress"][0]) == region_clusters
        assert "world" not in spec["ingress"][1]["fromEntities"]
        assert spec["ingress"][1]["fromEntities"] == sorted(OPTIONS["isolation_entities"])
        assert spec["endpointSelector"]["matchExpressions"][0] == {
            "key": "k8s:io.kubernetes.pod.namespace",
            "operator": "NotIn",
            "values": ["kube-system"],
        }
        assert "ingressDeny" not in spec  # denies would override the allow-list
        region = [c["region"] for c in CLUSTERS if c["name"] == name][0]
        assert spec["description"] == (
            "edgemesh: default-deny between regions; region %s accepts only its own clusters"
            " and the allowed flows" % region
        )


def test_allow_list_only_where_it_is_enforced():
    key = "CiliumNetworkPolicy/reports/edgemesh-allow-us-reports-to-eu-api"
    assert key in policies("eu-core") and key in policies("eu-edge-1")
    assert key not in policies("us-core")
    cnp = policies("eu-core")[key]
    assert cnp["metadata"] == {
        "name": "edgemesh-allow-us-reports-to-eu-api",
        "namespace": "reports",
        "labels": MANAGED_LABELS,
    }
    rule = cnp["spec"]["ingress"][0]
    assert cluster_selector(rule) == ["us-core"]
    assert {"key": "k8s:io.kubernetes.pod.namespace", "operator": "In", "values": ["reports"]} in (
        rule["fromEndpoints"][0]["matchExpressions"]
    )
    assert rule["fromEndpoints"][0]["matchLabels"] == {"app": "report-job"}
    assert rule["toPorts"] == [{"ports": [{"port": "8443", "protocol": "TCP"}]}]
    assert cnp["spec"]["endpointSelector"] == {"matchLabels": {"app": "reports-api"}}
    assert cnp["spec"]["description"] == "edgemesh: allowed flow us-reports-to-eu-api from us-core"


def test_flow_to_every_cluster_from_any_namespace():
    echo = policies("us-core")["CiliumNetworkPolicy/demo/edgemesh-allow-echo-from-everywhere"]
    assert cluster_selector(echo["spec"]["ingress"][0]) == ["eu-core", "eu-edge-1", "us-core"]
    # without from_namespace the selector must not default to the policy's namespace
    selector = echo["spec"]["ingress"][0]["fromEndpoints"][0]
    assert {"key": "k8s:io.kubernetes.pod.namespace", "operator": "Exists"} in selector[
        "matchExpressions"
    ]
    assert "matchLabels" not in selector


def test_every_policy_is_managed_and_keys_are_sorted():
    for name in ("eu-core", "eu-edge-1", "us-core"):
        wanted = policies(name)
        assert list(wanted) == sorted(wanted)
        for definition in wanted.values():
            assert definition["apiVersion"] == "cilium.io/v2"
            assert definition["metadata"]["labels"] == {
                "app.kubernetes.io/managed-by": "edgemesh-global-services"
            }


def test_isolation_off_and_no_flows():
    assert policies("eu-core", flows=[], options=dict(OPTIONS, region_isolation=False)) == {}
    only = policies("eu-core", flows=[])
    assert list(only) == ["CiliumClusterwideNetworkPolicy//edgemesh-region-isolation"]


def test_sources_are_unique_and_ports_normalised():
    flow = {
        "name": "dns",
        "from_clusters": ["eu-core", "us-core"],
        "from_regions": ["eu-west"],
        "to_clusters": ["eu-edge-1"],
        "to_namespace": "kube-dns",
        "to_labels": {"k8s-app": "kube-dns"},
        "ports": [{"port": 53, "protocol": "udp"}, {"port": "53"}],
    }
    assert policies("eu-core", flows=[flow], options=dict(OPTIONS, region_isolation=False)) == {}
    (cnp,) = list(
        policies("eu-edge-1", flows=[flow], options=dict(OPTIONS, region_isolation=False)).values()
    )
    rule = cnp["spec"]["ingress"][0]
    assert cluster_selector(rule) == ["eu-core", "eu-edge-1", "us-core"]
    assert rule["toPorts"] == [
        {"ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}]}
    ]


def test_parsed_flows_are_dataclasses():
    clusters = tuple(Cluster(c["name"], c["region"]) for c in CLUSTERS)
    echo = parse_flows(FLOWS, clusters)[1]
    assert echo.name == "echo-from-everywhere" and echo.from_namespace is None
    assert echo.sources(clusters) == ["eu-core", "eu-edge-1", "us-core"]
    assert echo.applies_to(clusters[2], clusters)


def bad(**changes):
    flow = copy.deepcopy(FLOWS[0])
    for key, value in changes.items():
        if value is None:
            flow.pop(key)
        else:
            flow[key] = value
    return flow


FLOW = "allowed flow us-reports-to-eu-api is invalid: "


@pytest.mark.parametrize(
    "flow,message",
    [
        (
            dict(FLOWS[0], from_cluster=["us-core"]),
            FLOW + "unknown key 'from_cluster'; did you mean 'from_clusters'\\? allowed: name, ",
        ),
        (bad(to_labels=None), FLOW + "to_labels is missing"),
        (
            bad(name="Reports!"),
            "allowed flow Reports! is invalid: name: 'Reports!' is not allowed; allowed: a DNS label",
        ),
        ("x", "allowed flow #1 is invalid: 'x' is not a mapping of name, to_namespace"),
        (
            bad(to_namespace="Reports"),
            FLOW + "to_namespace: 'Reports' is not allowed; allowed: a DNS label",
        ),
        (
            bad(from_namespace=None, from_labels=None, from_regions=[]),
            FLOW + "from_clusters and from_regions are both empty",
        ),
        (
            bad(from_regions=["mars"]),
            FLOW
            + "from_regions: 'mars' is not a region of the plan; allowed regions: eu-west, us-east",
        ),
        (
            bad(to_regions=["eu-wset"]),
            FLOW + "to_regions: 'eu-wset' is not a region of the plan; did you mean 'eu-west'\\?",
        ),
        (
            bad(from_clusters=["eu-cor"]),
            FLOW
            + "from_clusters: 'eu-cor' is not a cluster of the plan; did you mean 'eu-core'\\? allowed clusters: eu-core, eu-edge-1, us-core",
        ),
        (
            bad(to_clusters=["EU"]),
            FLOW + "to_clusters: 'EU' is not allowed; allowed: at most 32 characters",
        ),
        (
            bad(from_clusters="us-core"),
            FLOW + "from_clusters: 'us-core' is not allowed; allowed: a list of cluster names",
        ),
        (
            bad(to_labels={"app": 1}),
            FLOW + "to_labels: 'app': 1 is not allowed; allowed: a non-empty mapping",
        ),
        (bad(to_labels={}), FLOW + "to_labels: \\{\\} is not allowed"),
        (bad(from_namespace=None, from_labels="x"), FLOW + "from_labels: 'x' is not allowed"),
        (bad(ports=[]), FLOW + "ports: \\[\\] is not allowed; allowed: a non-empty list"),
        (
            bad(ports=[{"port": 0}]),
            FLOW + "ports\\[0\\]: port 0 is not allowed; allowed: a port number 1-65535",
        ),
        (bad(ports=[{"port": "https"}]), FLOW + "ports\\[0\\]: port 'https' is not allowed"),
        (bad(ports=[{"port": True}]), FLOW + "ports\\[0\\]: port True is not allowed"),
        (
            bad(ports=[{"port": 80, "protocol": "ICMP"}]),
            FLOW
            + "ports\\[0\\]: protocol 'ICMP' is not allowed; allowed: TCP, UDP, SCTP, VRRP, IGMP, ANY",
        ),
        (
            bad(ports=[{"port": 80, "proto": "TCP"}]),
            FLOW
            + "ports\\[0\\]: unknown key 'proto'; did you mean 'protocol'\\? allowed: port, protocol",
        ),
        (
            bad(ports=["80"]),
            FLOW + "ports\\[0\\]: '80' is not a mapping; allowed keys: port, protocol",
        ),
    ],
)
def test_bad_flows_are_refused_with_what_is_allowed(flow, message):
    with pytest.raises(PolicyError, match="^" + message):
        policies("eu-core", flows=[flow])


def test_flow_names_are_unique():
    with pytest.raises(
        PolicyError,
        match="^allowed flow echo-from-everywhere is invalid: name used by flows 2 and 3; allowed: one flow per name",
    ):
        policies("eu-core", flows=FLOWS + [dict(FLOWS[1], to_namespace="other")])


@pytest.mark.parametrize(
    "options,message",
    [
        ("x", "options are 'x'; allowed: a mapping"),
        (
            dict(OPTIONS, region_isolaton=True),
            "options: unknown key 'region_isolaton'; did you mean 'region_isolation'\\?",
        ),
        ({"region_isolation": True}, "options: isolation_exempt_namespaces is missing"),
        (
            dict(OPTIONS, region_isolation="yes"),
            "options: region_isolation is 'yes'; allowed: true or false",
        ),
        (
            dict(OPTIONS, isolation_exempt_namespaces=[]),
            "options: isolation_exempt_namespaces is empty; allowed: at least one namespace",
        ),
        (
            dict(OPTIONS, isolation_exempt_namespaces="kube-system"),
            "options: isolation_exempt_namespaces is 'kube-system'; allowed: a list of a DNS label",
        ),
        (
            dict(OPTIONS, isolation_entities=["host", "remote_node"]),
            "options: isolation_entities: 'remote_node' is not allowed; allowed: Cilium entities \\(all, world",
        ),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(PolicyError, match="^" + message):
        policies("eu-core", options=options)


@pytest.mark.parametrize(
    "clusters,name,message",
    [
        (
            CLUSTERS,
            "eu-cor",
            "cluster 'eu-cor' is not in the plan; did you mean 'eu-core'\\? allowed: eu-core, eu-edge-1, us-core",
        ),
        (
            [{"name": "eu-core"}],
            "eu-core",
            "plan cluster \\{'name': 'eu-core'\\} has no name and region; run playbooks/plan.yml",
        ),
    ],
)
def test_cluster_not_in_the_plan(clusters, name, message):
    with pytest.raises(PolicyError, match="^" + message):
        policies(name, clusters=clusters)


def test_empty_plan_and_flows_of_another_type():
    with pytest.raises(PolicyError, match="^the plan has no clusters"):
        wanted_policies([], "eu-core", FLOWS, OPTIONS)
    with pytest.raises(PolicyError, match="^allowed flows are 'x'; allowed: a list of flows"):
        policies("eu-core", flows="x")


def test_policy_port_rule():
    assert mesh_rules.is_policy_port(1) and mesh_rules.is_policy_port(65535)
    for port in (0, 65536, True, "80", None):
        assert not mesh_rules.is_policy_port(port)


def test_isolation_selector_requires_the_namespace_label():
    """issue 15 #6: NotIn [kube-system] alone also matches endpoints without a namespace
    label (Kubernetes label-selector semantics, which Cilium's selectors follow), so the
    selector also says Exists on that key."""
    for name in ("eu-core", "us-core"):
        ccnp = policies(name)["CiliumClusterwideNetworkPolicy//edgemesh-region-isolation"]
        expressions = ccnp["spec"]["endpointSelector"]["matchExpressions"]
        assert {"key": "k8s:io.kubernetes.pod.namespace", "operator": "Exists"} in expressions
        assert [e["operator"] for e in expressions] == ["NotIn", "Exists"]

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cilium_requirements.features_for_values: the kernel features a cluster's Cilium Helm
values need, and VALUE_DEFAULTS against the real chart defaults of every supported minor.

Facts relied on: the Cilium chart's values (tests/fixtures/cilium-chart/, flattened chart
defaults of 1.18.12, 1.19.6, 1.20.0) and Cilium's "System Requirements" page
(https://docs.cilium.io/en/v1.19/operations/system_requirements/), whose sections name
the kernel options of tunnels, WireGuard, IPsec, L7 proxy, iptables masquerading, netkit.
"""

import json
import pathlib

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    cilium_requirements,
    mesh_rules,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_requirements import (
    FEATURE_ORDER,
    VALUE_DEFAULTS,
    RequirementError,
    features_for_values,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_values import (
    cluster_values,
)
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.plans import complete_plan

ROOT = pathlib.Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "fixtures" / "cilium-chart"
VERSIONS = [minor.chart_tested for minor in mesh_rules.CILIUM_MINORS]


def one_cluster_plan(cilium=None, pod_cidrs=("10.1.0.0/16",)):
    return complete_plan(
        {
            "mesh": {"cilium_version": mesh_rules.DEFAULT_CILIUM_VERSION},
            "clusters": [
                {
                    "name": "edge",
                    "id": 1,
                    "pod_cidrs": list(pod_cidrs),
                    "clustermesh_nodeport": 32379,
                    "servers": ["192.0.2.1"],
                    "cilium": cilium or {},
                }
            ],
        }
    )


def features(cilium=None, **kwargs):
    return features_for_values(cluster_values(one_cluster_plan(cilium, **kwargs), "edge"))


@pytest.mark.parametrize("version", VERSIONS)
def test_value_defaults_are_the_charts(version):
    """Every default the mapping assumes is the chart's, or null in the chart (the agent
    decides: masquerading on, BPF masquerade off, host routing automatic)."""
    with open(FIXTURES / ("cilium-chart-%s-defaults.json" % version), encoding="utf-8") as fh:
        chart = json.load(fh)["defaults"]
    agent_decides = {"bpf.masquerade", "bpf.hostLegacyRouting", "enableIPv4Masquerade"}
    for key, value in VALUE_DEFAULTS.items():
        assert key in chart, (version, key)
        if key in agent_decides:
            assert chart[key] is None, (version, key, chart[key])
        else:
            assert chart[key] == value, (version, key, chart[key])


def test_engine_defaults_ask_for_wireguard_and_what_else_the_defaults_use():
    """DEFAULT_OPTIONS: VXLAN tunnel, WireGuard, kube-proxy replacement (with BPF
    masquerading), and the chart's L7 proxy."""
    assert features() == ["base", "vxlan", "wireguard", "kube_proxy_replacement", "l7_proxy"]


def test_a_cluster_with_wireguard_asks_for_wireguard():
    assert "wireguard" in features({"encryption": True, "encryption_type": "wireguard"})
    assert "wireguard" not in features({"encryption": False})
    assert "ipsec" not in features({"encryption": False})


def test_tunnel_protocol_and_native_routing():
    assert "geneve" in features({"tunnel_protocol": "geneve"})
    assert "vxlan" not in features({"tunnel_protocol": "geneve"})
    native = features({"routing_mode": "native"})
    assert "vxlan" not in native and "geneve" not in native


def test_without_kube_proxy_replacement_masquerading_is_iptables():
    got = features({"kube_proxy_replacement": False})
    assert "kube_proxy_replacement" not in got
    assert "iptables_masquerade" in got


def test_dual_stack_asks_for_ipv6():
    assert "ipv6" in features(pod_cidrs=("10.1.0.0/16", "fd00:10:1::/56"))
    assert "ipv6" not in features()


@pytest.mark.parametrize(
    "extra,feature",
    [
        ({"bpf": {"datapathMode": "netkit"}}, "netkit"),
        ({"bpf": {"datapathMode": "netkit-l2"}}, "netkit"),
        ({"bandwidthManager": {"enabled": True}}, "bandwidth_manager"),
        ({"enableIPv4BIGTCP": True}, "big_tcp"),
        ({"bpf": {"hostLegacyRouting": False}}, "bpf_host_routing"),
        ({"encryption": {"type": "ipsec"}}, "ipsec"),
    ],
)
def test_extra_values_count_too(extra, feature):
    assert feature not in features()
    assert feature in features({"extra_values": extra})


def test_l7_proxy_off():
    assert "l7_proxy" not in features({"extra_values": {"l7Proxy": False}})


def test_bare_chart_defaults():
    """No values at all = the chart's defaults: VXLAN, L7 proxy, iptables masquerading."""
    assert features_for_values({}) == ["base", "vxlan", "l7_proxy", "iptables_masquerade"]


def test_string_booleans_and_order():
    got = features_for_values(
        {"kubeProxyReplacement": "true", "encryption": {"enabled": "true", "type": "wireguard"}}
    )
    assert got == [f for f in FEATURE_ORDER if f in got]
    assert {"wireguard", "kube_proxy_replacement"} <= set(got)
    assert set(FEATURE_ORDER) == set(cilium_requirements.FEATURES)


def test_not_a_mapping():
    with pytest.raises(RequirementError, match="must be a mapping"):
        features_for_values(["routingMode"])

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The port set of a mesh node, and the choice of firewall.

Expected ports are stated here literally, from the sources the module cites: Cilium's
System Requirements "Firewall Rules" (4240/tcp health, 4244/tcp Hubble server, 8472/udp
VXLAN, 6081/udp Geneve, 51871/udp WireGuard), Kubernetes' "Ports and Protocols" (6443,
2379-2380, 10250; 10257/10259 "Self" only) and K3s' "Inbound Rules for K3s Nodes" (6443
supervisor and API, 2379-2380 embedded etcd between servers, 10250 kubelet).
"""

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import firewall_ports as fw
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules


def texts(rules):
    return ["%s/%s" % (r.port, r.proto) for r in rules]


def test_agent_with_the_values_engine_defaults():
    # tunnel + VXLAN, WireGuard, Hubble: the defaults of cilium_values.DEFAULT_OPTIONS.
    assert texts(fw.options_ports("agent", "k3s")) == [
        "4240/tcp",
        "4244/tcp",
        "8472/udp",
        "10250/tcp",
        "51871/udp",
    ]


@pytest.mark.parametrize("distribution", ["k3s", "kubeadm"])
def test_server_adds_the_api_and_etcd_and_nothing_local(distribution):
    rules = fw.node_ports("server", distribution, clustermesh_nodeport=32379)
    assert texts(rules) == [
        "2379-2380/tcp",
        "4240/tcp",
        "4244/tcp",
        "6443/tcp",
        "8472/udp",
        "10250/tcp",
        "32379/tcp",
        "51871/udp",
    ]
    # kube-scheduler, kube-controller-manager and etcd metrics listen on 127.0.0.1.
    assert not {2381, 10257, 10259} & {r.first for r in rules}


def test_why_names_the_distribution_of_servers():
    k3s = dict((r.port, r.why) for r in fw.node_ports("server", "k3s"))
    kubeadm = dict((r.port, r.why) for r in fw.node_ports("server", "kubeadm"))
    assert k3s["6443"] == "K3s supervisor and Kubernetes API"
    assert kubeadm["6443"] == "Kubernetes API (kube-apiserver)"
    assert "k3s embedded" in k3s["2379-2380"] and "kubeadm stacked" in kubeadm["2379-2380"]


def test_geneve_native_and_no_encryption_or_hubble():
    assert "6081/udp" in texts(fw.node_ports("agent", "k3s", tunnel_protocol="geneve"))
    assert "8472/udp" not in texts(fw.node_ports("agent", "k3s", tunnel_protocol="geneve"))
    bare = fw.node_ports("agent", "kubeadm", routing_mode="native", encryption=False, hubble=False)
    assert texts(bare) == ["4240/tcp", "10250/tcp"]


def test_options_may_carry_the_cilium_prefix_and_strings():
    rules = fw.options_ports(
        "agent",
        "k3s",
        {"cilium_tunnel_protocol": "geneve", "encryption": "false", "cilium_hubble": "false"},
    )
    assert texts(rules) == ["4240/tcp", "6081/udp", "10250/tcp"]


def test_other_cilium_options_and_role_knobs_do_not_change_the_ports():
    base = fw.options_ports("agent", "k3s")
    assert (
        fw.options_ports("agent", "k3s", {"hubble_ui": True, "cilium_chart_version": "1"}) == base
    )


def test_an_unknown_unprefixed_option_is_refused():
    with pytest.raises(fw.FirewallPortsError, match="unknown option 'tunel_protocol'"):
        fw.options_ports("agent", "k3s", {"tunel_protocol": "geneve"})


@pytest.mark.parametrize(
    "options, message",
    [
        ({"routing_mode": "bgp"}, "routing_mode"),
        ({"tunnel_protocol": "ipip"}, "tunnel_protocol"),
        ({"encryption_type": "ipsec"}, "encryption_type"),
        ({"encryption": "perhaps"}, "encryption must be a boolean"),
        ({"cilium_hubble": "no"}, "hubble must be a boolean"),
        (["tunnel"], "a mapping of Cilium options"),
    ],
)
def test_bad_cilium_options_are_refused(options, message):
    with pytest.raises(fw.FirewallPortsError, match=message):
        fw.options_ports("agent", "k3s", options)


def test_nodeports_use_the_mesh_rule_range_for_both_protocols():
    low, high = mesh_rules.NODEPORT_RANGE
    rules = fw.node_ports("agent", "k3s", nodeports=True, clustermesh_nodeport=low)
    assert "%d-%d/tcp" % (low, high) in texts(rules)
    assert "%d-%d/udp" % (low, high) in texts(rules)
    assert "%d/tcp" % low in texts(rules)


@pytest.mark.parametrize("port", [29999, 32768, "32379", True, -1])
def test_clustermesh_nodeport_outside_the_range_is_refused(port):
    with pytest.raises(fw.FirewallPortsError, match="clustermesh_nodeport .* NodePort"):
        fw.node_ports("agent", "k3s", clustermesh_nodeport=port)


def test_no_clustermesh_nodeport():
    assert fw.node_ports("agent", "k3s", clustermesh_nodeport=0) == fw.node_ports("agent", "k3s")


def test_api_port():
    assert "8443/tcp" in texts(fw.node_ports("server", "kubeadm", api_port=8443))
    assert "8443/tcp" not in texts(fw.node_ports("agent", "kubeadm", api_port=8443))
    with pytest.raises(fw.FirewallPortsError, match="api_port 0"):
        fw.node_ports("server", "kubeadm", api_port=0)


def test_extra_ports_are_merged_sorted_and_deduplicated():
    rules = fw.node_ports(
        "agent",
        "k3s",
        extra_ports=["9000-9100/udp", {"port": 80, "proto": "tcp", "why": "ingress"}, "10250/tcp"],
    )
    assert texts(rules) == [
        "80/tcp",
        "4240/tcp",
        "4244/tcp",
        "8472/udp",
        "9000-9100/udp",
        "10250/tcp",
        "51871/udp",
    ]
    assert dict((r.port, r.why) for r in rules)["10250"] == "kubelet API"
    assert dict((r.port, r.why) for r in rules)["80"] == "ingress"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("80", "'PORT/PROTO'"),
        ("80/sctp", "protocol"),
        ("0/tcp", "a port 1-65535"),
        ("65536/tcp", "a port 1-65535"),
        ("90-80/tcp", "FIRST <= LAST"),
        ({"port": 80}, "a mapping with port, proto"),
        ({"port": 80, "proto": "tcp", "where": "x"}, "a mapping with port, proto"),
        ({"port": 80, "proto": "tcp", "why": 'a "quoted" reason'}, "no.*quotes"),
        (["80/tcp"], "'PORT/PROTO'"),
    ],
)
def test_bad_extra_ports_are_refused_with_their_index(spec, message):
    with pytest.raises(fw.FirewallPortsError, match="extra port 1 .*" + message):
        fw.node_ports("agent", "k3s", extra_ports=[spec])


@pytest.mark.parametrize(
    "args, message",
    [
        (("worker", "k3s"), "node role 'worker' is not allowed; allowed: server, agent"),
        (("agent", "rke2"), "distribution 'rke2' is not allowed; allowed: k3s, kubeadm"),
    ],
)
def test_bad_role_or_distribution(args, message):
    with pytest.raises(fw.FirewallPortsError, match=message):
        fw.node_ports(*args)


def test_as_dict_gives_the_forms_of_each_firewall():
    rule = fw.PortRule(2379, 2380, "tcp", "etcd")
    assert rule.as_dict() == {
        "port": "2379-2380",
        "first": 2379,
        "last": 2380,
        "proto": "tcp",
        "why": "etcd",
        "firewalld": "2379-2380/tcp",
        "ufw": "2379:2380",
    }
    assert fw.PortRule(10250, 10250, "tcp", "k").as_dict()["ufw"] == "10250"


@pytest.mark.parametrize(
    "requested, firewalld, ufw, expected",
    [
        ("auto", "running", "Status: active", "firewalld"),
        ("auto", "stopped", "Status: active\n\nTo Action From", "ufw"),
        ("auto", "", "Status: inactive", "nftables"),
        ("auto", "inactive", "", "nftables"),
        ("none", "running", "Status: active", "none"),
        ("ufw", "running", "", "ufw"),
        ("nftables", "running", "", "nftables"),
    ],
)
def test_choose_backend(requested, firewalld, ufw, expected):
    assert fw.choose_backend(requested, firewalld, ufw) == expected


def test_choose_backend_refuses_an_unknown_firewall():
    with pytest.raises(fw.FirewallPortsError, match="firewall 'iptables' is not allowed"):
        fw.choose_backend("iptables")

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall_ports and firewall_backend filters: argument checks and the call into
module_utils/firewall_ports.py (whose decisions test_firewall_ports.py there covers)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter import firewall_backend as backend
from ansible_collections.edgemesh.cluster_mesh.plugins.filter import firewall_ports as ports


def test_filters_are_registered():
    assert ports.FilterModule().filters() == {"firewall_ports": ports.firewall_ports}
    assert backend.FilterModule().filters() == {"firewall_backend": backend.firewall_backend}


def test_server_ports_as_dicts():
    result = ports.firewall_ports(
        "server",
        distribution="kubeadm",
        cilium_options={"tunnel_protocol": "geneve"},
        clustermesh_nodeport="32379",
    )
    assert [r["firewalld"] for r in result] == [
        "2379-2380/tcp",
        "4240/tcp",
        "4244/tcp",
        "6081/udp",
        "6443/tcp",
        "10250/tcp",
        "32379/tcp",
        "51871/udp",
    ]
    assert result[0]["ufw"] == "2379:2380" and result[0]["why"].startswith("etcd")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"distribution": None}, "firewall_ports: distribution None is not allowed"),
        ({"distribution": "k3s", "nodeports": "yes"}, "firewall_ports: nodeports 'yes' is not"),
        ({"distribution": "k3s", "extra_ports": "80/tcp"}, "firewall_ports: extra_ports '80/tcp'"),
        ({"distribution": "k3s", "api_port": "https"}, "firewall_ports: api_port 'https' is not"),
        ({"distribution": "k3s", "clustermesh_nodeport": 80}, "firewall_ports: clustermesh_node"),
        ({"distribution": "k3s", "cilium_options": {"x": 1}}, "firewall_ports: cilium_options"),
        ({"distribution": "k3s", "extra_ports": ["80"]}, "firewall_ports: extra port 1 '80'"),
    ],
)
def test_bad_arguments_are_filter_errors(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        ports.firewall_ports("agent", **kwargs)


def test_backend():
    assert backend.firewall_backend("auto", firewalld_state="running") == "firewalld"
    assert backend.firewall_backend("auto", ufw_status="Status: active\n") == "ufw"
    assert backend.firewall_backend("auto", None, None) == "nftables"
    assert backend.firewall_backend("none") == "none"


@pytest.mark.parametrize(
    "args, message",
    [
        (("iptables",), "firewall_backend: firewall 'iptables' is not allowed; allowed: auto"),
        (("auto", 1), "firewall_backend: firewalld_state 1 is not a string"),
        (("auto", "", ["Status: active"]), "firewall_backend: ufw_status"),
    ],
)
def test_backend_bad_arguments(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        backend.firewall_backend(*args)

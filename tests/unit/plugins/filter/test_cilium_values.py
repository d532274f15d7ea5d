# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cilium_values filter: a thin wrapper with clear AnsibleFilterError messages."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.cilium_values import (
    FilterModule,
    cilium_values,
)
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.plans import complete_plan

PLAN = complete_plan(
    {
        "mesh": {"cilium_version": "1.20.0", "max_connected_clusters": 511},
        "clusters": [
            {
                "name": "a",
                "id": 300,
                "distribution": "k3s",
                "pod_cidrs": ["10.1.0.0/16"],
                "clustermesh_nodeport": 32379,
                "servers": ["192.0.2.1"],
                "agents": [],
                "peers": ["b"],
            },
            {
                "name": "b",
                "id": 2,
                "distribution": "kubeadm",
                "pod_cidrs": ["10.2.0.0/16"],
                "clustermesh_nodeport": 32380,
                "servers": ["192.0.2.2", "192.0.2.3"],
                "agents": [],
                "peers": ["a"],
            },
        ],
    }
)


def test_registered():
    assert FilterModule().filters()["cilium_values"] is cilium_values


def test_values_through_the_filter():
    values = cilium_values(PLAN, "a", {"cilium_routing_mode": "native"})
    assert values["cluster"] == {"name": "a", "id": 300}
    assert values["clustermesh"]["maxConnectedClusters"] == 511
    assert values["clustermesh"]["config"]["clusters"] == {
        "b": {"ips": ["192.0.2.2", "192.0.2.3"], "port": 32380}
    }
    assert values["ipv4NativeRoutingCIDR"] == "10.0.0.0/14"


@pytest.mark.parametrize(
    "args,message",
    [
        ((["x"], "a"), "cilium_values: the input must be the mesh plan"),
        ((PLAN, ""), "cilium_values: cluster must be a cluster name"),
        ((PLAN, "a", ["x"]), "cilium_values: options must be a dict, got list"),
        ((PLAN, "zz"), "cilium_values: cluster zz is not in the plan"),
        ((PLAN, "a", {"cilium_hubble_ui": "maybe"}), "cilium_values: option hubble_ui must be"),
    ],
)
def test_errors(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        cilium_values(*args)

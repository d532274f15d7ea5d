# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cilium_lb_objects and cilium_helm_warnings filters: thin, clear errors."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.cilium_helm_warnings import (
    FilterModule as WarningsFilters,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.filter.cilium_helm_warnings import (
    cilium_helm_warnings,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.filter.cilium_lb_objects import (
    FilterModule,
    cilium_lb_objects,
)
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.plans import complete_plan

PLAN = complete_plan(
    {
        "mesh": {"cilium_version": "1.19.6", "max_connected_clusters": 255},
        "clusters": [
            {
                "name": "a",
                "id": 1,
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
                "servers": ["192.0.2.2"],
                "agents": [],
                "peers": ["a"],
            },
        ],
    }
)


def test_registered():
    assert FilterModule().filters() == {"cilium_lb_objects": cilium_lb_objects}
    assert WarningsFilters().filters() == {"cilium_helm_warnings": cilium_helm_warnings}


def test_objects_only_for_a_loadbalancer_cluster():
    opts = {"cilium_clustermesh_addresses": {"a": "198.51.100.1"}}
    assert [o["kind"] for o in cilium_lb_objects(PLAN, "a", opts)] == [
        "CiliumLoadBalancerIPPool",
        "CiliumL2AnnouncementPolicy",
    ]
    assert cilium_lb_objects(PLAN, "b", opts) == []


@pytest.mark.parametrize(
    "args,message",
    [
        (([], "a"), "cilium_lb_objects: the input must be the mesh plan (a dict), got list"),
        ((PLAN, ""), "cilium_lb_objects: cluster must be a cluster name"),
        ((PLAN, "a", []), "cilium_lb_objects: options must be a dict, got list"),
        ((PLAN, "zz"), "cilium_lb_objects: cluster zz is not in the plan (clusters: a, b)"),
        (
            (PLAN, "a", {"clustermesh_addresses": {"a": "nope"}}),
            "cilium_lb_objects: cluster a: clustermesh address: 'nope' is not an IP address",
        ),
    ],
)
def test_errors(args, message):
    with pytest.raises(AnsibleFilterError) as err:
        cilium_lb_objects(*args)
    assert str(err.value) == message


def test_helm_warnings_filter():
    assert cilium_helm_warnings("x\n\n") == ["x"]
    assert cilium_helm_warnings(None) == []
    with pytest.raises(AnsibleFilterError, match="cilium_helm_warnings: the input must be"):
        cilium_helm_warnings(3)

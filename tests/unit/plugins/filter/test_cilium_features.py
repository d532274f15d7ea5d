# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cilium_features filter: the plan's per-cluster Cilium options -> kernel features."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.cilium_features import (
    FilterModule,
    cilium_features,
)
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.plans import complete_plan

PLAN = complete_plan(
    {
        "mesh": {"cilium_version": "1.19.6"},
        "clusters": [
            {
                "name": "core",
                "id": 1,
                "pod_cidrs": ["10.1.0.0/16"],
                "clustermesh_nodeport": 32379,
                "servers": ["192.0.2.1"],
                "cilium": {"encryption": True, "tunnel_protocol": "geneve"},
            },
            {
                "name": "edge",
                "id": 2,
                "pod_cidrs": ["10.2.0.0/16"],
                "clustermesh_nodeport": 32380,
                "servers": ["192.0.2.2"],
                "cilium": {"encryption": False, "kube_proxy_replacement": False},
            },
        ],
    }
)


def test_registered():
    assert FilterModule().filters()["cilium_features"] is cilium_features


def test_per_cluster():
    assert cilium_features(PLAN, "core") == [
        "base",
        "geneve",
        "wireguard",
        "kube_proxy_replacement",
        "l7_proxy",
    ]
    assert cilium_features(PLAN, "edge") == ["base", "vxlan", "l7_proxy", "iptables_masquerade"]


def test_union_without_a_cluster():
    assert cilium_features(PLAN) == [
        "base",
        "vxlan",
        "geneve",
        "wireguard",
        "kube_proxy_replacement",
        "l7_proxy",
        "iptables_masquerade",
    ]


@pytest.mark.parametrize(
    "plan,cluster,message",
    [
        ({}, "", "cilium_features: the plan has no clusters (got none): run playbooks/plan.yml"),
        ("plan", "", "cilium_features: the plan has no clusters (got a str)"),
        (PLAN, "nope", "cilium_features: cluster nope is not in the plan (clusters: core, edge)"),
        (PLAN, 3, "cilium_features: cluster must be a name, got 3"),
        ({"clusters": [{"name": "x"}]}, "x", "cilium_features: "),
    ],
)
def test_bad_input(plan, cluster, message):
    with pytest.raises(AnsibleFilterError) as exc:
        cilium_features(plan, cluster)
    assert str(exc.value).startswith(message)


def test_bad_option_names_the_cluster():
    plan = complete_plan(
        dict(PLAN, clusters=[dict(PLAN["clusters"][0], cilium={"tunnel_protocol": "gre"})])
    )
    with pytest.raises(
        AnsibleFilterError, match="cilium_features: cluster core: .*tunnel_protocol.*gre"
    ):
        cilium_features(plan, "core")

"""Node removal decisions (plugins/module_utils/rolling.py, issue 14 #4).

The order the playbook follows comes from upstream: kubeadm's "Clean up" steps (drain,
``kubeadm reset``, whose phases are preflight, remove-etcd-member, cleanup-node, then
``kubectl delete node``: kubernetes.io/docs/setup/production-environment/tools/kubeadm/
create-cluster-kubeadm/ and .../kubeadm-reset/); k3s: ``kubectl delete node`` while k3s runs
lets the node rejoin on its next start (k3s-io/k3s discussion 9818), and a server's etcd
member is removed by k3s's member controller when the Node is annotated
``etcd.k3s.cattle.io/remove=true``, which records ``etcd.k3s.cattle.io/removed-node-name``
(k3s pkg/etcd/member_controller.go). Quorum: a majority of the members
(etcd.io/docs/v3.5/faq/). The member list shape is etcdctl's ``member list -w json``.
"""

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import plan_mesh
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_rules import etcd_quorum
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.rolling import (
    RollingError,
    etcd_member_ids,
    removal_check,
    removal_queue,
    removal_steps,
)

HOSTS = {
    "k3s-a": [("k1", "192.0.2.1", "server"), ("k2", "192.0.2.2", "server")]
    + [("k3", "192.0.2.3", "server"), ("ka", "192.0.2.9", "agent")],
    "kubeadm-b": [("c1", "198.51.100.1", "server"), ("c2", "198.51.100.2", "server")]
    + [("w1", "198.51.100.9", "agent")],
}
INVENTORY = [h for nodes in HOSTS.values() for h, _ip, _role in nodes]


@pytest.fixture(scope="module")
def plan():
    clusters = [
        {
            "group": "cluster_" + name.replace("-", "_"),
            "vars": {
                "edgemesh_cluster_name": name,
                "edgemesh_region": "eu",
                "edgemesh_distribution": name.split("-", maxsplit=1)[0],
            },
            "nodes": [{"host": h, "ip": ip, "role": r} for h, ip, r in nodes],
        }
        for name, nodes in HOSTS.items()
    ]
    return plan_mesh(clusters, {}, None)["plan"]


def inputs(k3s_api="192.0.2.1", kubeadm_api="198.51.100.1"):
    """The role inputs the role_inputs play sets (node IP and API address per node)."""
    hv = {}
    for host, ip, _role in HOSTS["k3s-a"]:
        hv[host] = {"k3s_node_ip": ip, "k3s_registration_address": k3s_api}
    for host, ip, _role in HOSTS["kubeadm-b"]:
        hv[host] = {"kubeadm_node_ip": ip, "kubeadm_control_plane_endpoint": kubeadm_api}
    return hv


def test_steps_put_agents_first_and_name_the_server_that_stays(plan):
    steps = removal_steps(plan, "k3,c2,w1,ka", INVENTORY, inputs())
    assert [(s["host"], s["role"], s["peer"]) for s in steps] == [
        ("ka", "agent", "k1"),
        ("w1", "agent", "c1"),
        ("k3", "server", "k1"),
        ("c2", "server", "c1"),
    ]
    assert {s["distribution"] for s in steps} == {"k3s", "kubeadm"}
    assert removal_queue(plan, "k3,c2,w1,ka", INVENTORY, inputs()) == ["c2", "k3", "ka", "w1"]


def test_with_a_vip_the_peer_is_the_first_server_that_stays(plan):
    hv = inputs(k3s_api="vip.example", kubeadm_api="api.example")
    steps = removal_steps(plan, ["k1", "c1"], INVENTORY, hv)
    assert [(s["host"], s["peer"]) for s in steps] == [("k1", "k2"), ("c1", "c2")]


@pytest.mark.parametrize(
    "requested, message",
    [
        (
            "c1",
            "cluster kubeadm-b (kubeadm) cannot lose c1: c1 is the registration address of the "
            "cluster; set edgemesh_control_plane_endpoint (a VIP)",
        ),
        ("c1,c2", "cluster kubeadm-b (kubeadm) cannot lose c1, c2: remove_node.yml handles"),
        ("k1", "re-run playbooks/k3s.yml, then remove this node"),
    ],
    ids=["kubeadm-init-server", "kubeadm-last-server", "k3s-init-server"],
)
def test_removal_refusals_for_both_distributions(plan, requested, message):
    with pytest.raises(RollingError) as err:
        removal_steps(plan, requested, INVENTORY, inputs())
    assert message in str(err.value)


def test_kubeadm_nodes_need_their_role_inputs(plan):
    hv = inputs()
    del hv["w1"]["kubeadm_node_ip"]
    with pytest.raises(RollingError, match="w1 has no kubeadm role inputs"):
        removal_steps(plan, "w1", INVENTORY, hv)


def node(name, label=None, ready=True, **annotations):
    """One item of `kubectl get nodes -o json`."""
    return {
        "metadata": {
            "name": name,
            "labels": {label: "true"} if label else {},
            "annotations": annotations,
        },
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


ETCD = "node-role.kubernetes.io/etcd"
CP = "node-role.kubernetes.io/control-plane"


def test_removal_check_reads_the_node_and_its_k3s_member():
    nodes = {
        "items": [
            node("k1", ETCD),
            node("k2", ETCD, **{"etcd.k3s.cattle.io/node-name": "k2-0a1b2c3d"}),
        ]
    }
    assert removal_check(nodes, "k2", "k3s") == {
        "present": True,
        "server": True,
        "etcd_member": "k2-0a1b2c3d",
        "member_removed": "",
    }
    agent = {"items": [node("k1", ETCD), node("ka")]}
    assert removal_check(agent, "ka", "k3s")["server"] is False
    assert removal_check(agent, "gone", "k3s") == {
        "present": False,
        "server": False,
        "etcd_member": "",
        "member_removed": "",
    }


def test_removal_check_refuses_to_break_the_quorum():
    # 3 members, one of the others down: after the removal 2 members, 1 Ready, 2 needed.
    nodes = {"items": [node("c1", CP), node("c2", CP, ready=False), node("c3", CP)]}
    with pytest.raises(RollingError) as err:
        removal_check(nodes, "c3", "kubeadm")
    assert str(err.value) == (
        "removing c3 would break the etcd quorum: 1 of the 2 members left (c1, c2) are Ready, "
        "2 needed; bring them back first"
    )
    # The member that is down itself may go: the two left are Ready.
    assert removal_check(nodes, "c2", "kubeadm")["server"] is True
    # 2 -> 1 with both Ready is fine (the member is removed while its etcd still runs).
    assert removal_check({"items": [node("k1", ETCD), node("k2", ETCD)]}, "k2", "k3s")["server"]
    # Once k3s removed the member, a re-run does not count it again.
    done = {
        "items": [
            node("k1", ETCD, ready=False),
            node("k2", ETCD, **{"etcd.k3s.cattle.io/removed-node-name": "k2-0a1b2c3d"}),
        ]
    }
    assert removal_check(done, "k2", "k3s")["member_removed"] == "k2-0a1b2c3d"


@pytest.mark.parametrize("members, quorum", [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)])
def test_etcd_quorum_is_a_majority(members, quorum):
    assert etcd_quorum(members) == quorum


@pytest.mark.parametrize(
    "nodes, distribution, message",
    [
        ({"items": []}, "rke2", "distribution 'rke2'; allowed: k3s, kubeadm"),
        ([], "k3s", "the node list is not `kubectl get nodes -o json` output"),
        ({"kind": "Node"}, "k3s", "the node list is not `kubectl get nodes -o json` output"),
    ],
)
def test_removal_check_input_errors(nodes, distribution, message):
    with pytest.raises(RollingError) as err:
        removal_check(nodes, "k1", distribution)
    assert str(err.value) == message


LISTING = {
    "header": {"cluster_id": 1, "member_id": 2, "raft_term": 3},
    "members": [
        {"ID": 11259375, "name": "c1", "peerURLs": ["https://198.51.100.1:2380"]},
        {"ID": 3735928559, "name": "c2", "peerURLs": ["https://198.51.100.2:2380"]},
        {"ID": 4660, "name": "k2-0a1b2c3d", "peerURLs": ["https://192.0.2.2:2380"]},
        {"ID": 4661, "name": "k2-extra-0a1b2c3d", "peerURLs": ["https://[2001:db8::7]:2380"]},
    ],
}


def test_etcd_member_ids_by_name_or_peer_address():
    assert etcd_member_ids(LISTING, "c2") == ["deadbeef"]
    assert etcd_member_ids(LISTING, "k2") == ["1234"]
    assert etcd_member_ids(LISTING, "renamed", ["198.51.100.1,2001:db8::1"]) == ["abcdef"]
    assert etcd_member_ids(LISTING, "x", ["2001:db8::7"]) == ["1235"]
    assert etcd_member_ids({"members": []}, "c2") == []
    assert etcd_member_ids({"header": {}}, "c2") == []
    with pytest.raises(RollingError, match="not `etcdctl member list -w json` output"):
        etcd_member_ids([], "c2")


def test_the_removal_queue_filter_returns_steps(plan):
    from ansible.errors import AnsibleFilterError

    from ansible_collections.edgemesh.cluster_mesh.plugins.filter.removal_queue import (
        FilterModule as Queue,
    )

    queue = Queue().filters()["removal_queue"]
    assert queue(plan, "w1", INVENTORY, inputs(), steps=True)[0]["peer"] == "c1"
    assert queue(plan, "w1", INVENTORY, inputs()) == ["w1"]
    with pytest.raises(AnsibleFilterError, match="^removal_queue: steps must be true or false"):
        queue(plan, "w1", INVENTORY, inputs(), steps="yes")

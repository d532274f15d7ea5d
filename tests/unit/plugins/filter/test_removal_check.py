"""The removal_check filter: argument checks and errors prefixed with its name (the logic is
tested in tests/unit/plugins/module_utils/test_rolling_removal.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.removal_check import FilterModule

CHECK = FilterModule().filters()["removal_check"]
CP = {"node-role.kubernetes.io/control-plane": "true"}


def item(name, ready):
    return {
        "metadata": {"name": name, "labels": CP, "annotations": {}},
        "status": {"conditions": [{"type": "Ready", "status": ready}]},
    }


def test_removal_check_filter():
    nodes = {"items": [item("c1", "True"), item("c2", "True")]}
    assert CHECK(nodes, "c2", "kubeadm") == {
        "present": True,
        "server": True,
        "etcd_member": "",
        "member_removed": "",
    }
    assert CHECK({"items": []}, "c2", "kubeadm")["present"] is False


@pytest.mark.parametrize(
    "nodes, name, distribution, message",
    [
        ({"items": []}, "", "kubeadm", "^removal_check: node_name must be a Node name, got ''$"),
        ({"items": []}, "c2", "x", "^removal_check: distribution 'x'; allowed: k3s, kubeadm$"),
        ("text", "c2", "k3s", "^removal_check: the node list is not `kubectl get nodes -o json`"),
        (
            {"items": [item("c1", "False"), item("c2", "True"), item("c3", "True")]},
            "c3",
            "kubeadm",
            "^removal_check: removing c3 would break the etcd quorum: 1 of the 2 members left",
        ),
    ],
    ids=["no-name", "distribution", "not-a-list", "quorum"],
)
def test_removal_check_filter_errors(nodes, name, distribution, message):
    with pytest.raises(AnsibleFilterError, match=message):
        CHECK(nodes, name, distribution)

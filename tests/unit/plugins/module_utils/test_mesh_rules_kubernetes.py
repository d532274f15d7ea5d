# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes rules of mesh_rules: supported minors, containerd 1.x up to 1.35, node labels
(the kubelet's restriction, k8s.io/kubelet well_known_labels.go) and the taint form."""

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.kubernetes_version_problem import (
    kubernetes_version_problem as version_filter,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules


@pytest.mark.parametrize("version", ["1.35.0", "v1.36.1", "1.37.2", "v1.36.1+k3s1"])
def test_supported_versions(version):
    assert mesh_rules.kubernetes_version_problem(version) is None


@pytest.mark.parametrize(
    "version,containerd,message",
    [
        ("1.33.5", None, "Kubernetes '1.33.5' is not supported; allowed: 1.35.x, 1.36.x, 1.37.x"),
        ("1.38.0", None, "allowed: 1.35.x, 1.36.x, 1.37.x"),
        ("1.36", None, "'1.36' is not a Kubernetes release"),
        ("1.36.1", 1, "needs containerd 2.x; containerd 1.x is allowed up to 1.35.x"),
    ],
)
def test_refusals_name_what_is_allowed(version, containerd, message):
    assert message in mesh_rules.kubernetes_version_problem(version, containerd)


def test_containerd_1_runs_kubernetes_1_35_and_2_runs_all():
    assert mesh_rules.kubernetes_version_problem("1.35.4", 1) is None
    assert mesh_rules.kubernetes_version_problem("1.37.0", 2) is None


def test_the_filter_reads_containerd_version_output():
    assert version_filter("1.36.1", "containerd github.com/containerd/containerd/v2 v2.1.4 x") == ""
    assert "needs containerd 2.x" in version_filter("1.36.1", "containerd 1.7.24 abc")
    assert "allowed" in version_filter("1.20.0")
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError) as err:
        version_filter("1.36.1", "nothing")
    assert str(err.value).startswith("kubernetes_version_problem: containerd:")
    with pytest.raises(AnsibleFilterError):
        version_filter(["1.36.1"])


@pytest.mark.parametrize(
    "key,value",
    [
        ("site", "eu"),
        ("example.com/tier", ""),
        ("topology.kubernetes.io/zone", "a"),
        ("node.kubernetes.io/pool", "x"),
        ("kubelet.kubernetes.io/x", "y"),
    ],
)
def test_labels_the_kubelet_may_set(key, value):
    assert mesh_rules.node_label_problem(key, value) is None


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("node-role.kubernetes.io/worker", "", "may not label"),
        ("k8s.io/x", "", "may not label"),
        ("bad key", "", "is not a label key"),
        ("Example.com/x", "", "prefix that is not a DNS subdomain"),
        ("x", "-v", "a label value is empty or 1-63"),
        ("x", 1, "are strings"),
        ("x" * 64, "", "is not a label key"),
    ],
)
def test_labels_refused(key, value, message):
    assert message in mesh_rules.node_label_problem(key, value)


def test_taints():
    assert mesh_rules.parse_taint("a=b:NoExecute") == {
        "key": "a",
        "value": "b",
        "effect": "NoExecute",
    }
    assert mesh_rules.parse_taint("example.com/gpu:NoSchedule") == {
        "key": "example.com/gpu",
        "effect": "NoSchedule",
    }
    for bad in ("a", "a=b", "a:Never", "bad key:NoSchedule", "a=-b:NoSchedule"):
        with pytest.raises(mesh_rules.RuleError) as err:
            mesh_rules.parse_taint(bad)
        assert "allowed: key[=value]:NoSchedule|PreferNoSchedule|NoExecute" in str(err.value)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The namespace_export and policy_report filters: argument checks and the calls into
module_utils.mesh_policies."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.namespace_export import (
    FilterModule as ExportFilters,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.filter.namespace_export import (
    namespace_export,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.filter.policy_report import (
    FilterModule as ReportFilters,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.filter.policy_report import policy_report

CLUSTERS = [{"name": "eu-core", "region": "eu-west"}, {"name": "us-core", "region": "us-east"}]
FLOW = {
    "name": "echo",
    "from_regions": ["us-east"],
    "from_namespace": "demo",
    "to_namespace": "demo",
    "to_labels": {"app": "echo"},
    "ports": [{"port": 8080}],
}


def test_filters_are_registered():
    assert ExportFilters().filters()["namespace_export"] is namespace_export
    assert ReportFilters().filters()["policy_report"] is policy_report


def test_namespace_export():
    result = namespace_export(CLUSTERS, "1.20.0", "listed", [FLOW], [], {"resources": []})
    assert [p["metadata"]["name"] for p in result["apply"]] == ["demo"]
    assert namespace_export(CLUSTERS, "1.19.6", "all", [FLOW], []) == {"apply": [], "release": []}


@pytest.mark.parametrize(
    "args,message",
    [
        (
            (CLUSTERS, "1.20.0", None, [FLOW], []),
            "namespace_export: mode is None; allowed: all, listed",
        ),
        (
            (CLUSTERS, "1.19.6", "listed", [FLOW], []),
            "namespace_export: namespace export listed needs Cilium 1.20",
        ),
    ],
)
def test_namespace_export_refusals(args, message):
    with pytest.raises(AnsibleFilterError, match="^" + message):
        namespace_export(*args)


def test_policy_report():
    assert policy_report({}) == ["no policy wanted and none to delete"]
    with pytest.raises(AnsibleFilterError, match="^policy_report: cleanup is 'x'"):
        policy_report({}, "x")
    with pytest.raises(AnsibleFilterError, match="^policy_report: wanted policies are 'x'"):
        policy_report("x")
    with pytest.raises(AnsibleFilterError, match="^policy_report: the policies are not what"):
        policy_report({"a": {"spec": {"ingress": [{"toPorts": [{"ports": [{}]}]}]}}})

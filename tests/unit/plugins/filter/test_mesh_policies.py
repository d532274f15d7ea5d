# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh_policies filter: argument checks and the call into module_utils.mesh_policies."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.mesh_policies import (
    FilterModule,
    mesh_policies,
)

CLUSTERS = [{"name": "eu-core", "region": "eu-west"}, {"name": "us-core", "region": "us-east"}]
OPTIONS = {
    "region_isolation": False,
    "isolation_exempt_namespaces": ["kube-system"],
    "isolation_entities": ["host"],
}
FLOW = {
    "name": "echo",
    "from_regions": ["us-east"],
    "to_namespace": "demo",
    "to_labels": {"app": "echo"},
    "ports": [{"port": 8080}],
}


def test_filter_is_registered():
    assert FilterModule().filters()["mesh_policies"] is mesh_policies


def test_policies_of_one_cluster():
    assert list(mesh_policies(CLUSTERS, "eu-core", [FLOW], OPTIONS)) == [
        "CiliumNetworkPolicy/demo/edgemesh-allow-echo"
    ]


@pytest.mark.parametrize(
    "args,message",
    [
        ((CLUSTERS, "", [FLOW], OPTIONS), "mesh_policies: cluster is ''; allowed: a cluster name"),
        (
            (CLUSTERS, None, [FLOW], OPTIONS),
            "mesh_policies: cluster is None; allowed: a cluster name",
        ),
        (
            (CLUSTERS, "eu-core", [dict(FLOW, from_regions=["mars"])], OPTIONS),
            "mesh_policies: allowed flow echo is invalid: from_regions: 'mars' is not a region"
            " of the plan; allowed regions: eu-west, us-east",
        ),
        (
            (CLUSTERS, "eu-core", [FLOW], None),
            "mesh_policies: options are None; allowed: a mapping",
        ),
        (("x", "eu-core", [FLOW], OPTIONS), "mesh_policies: the plan has no clusters"),
    ],
)
def test_bad_arguments_raise_filter_errors(args, message):
    with pytest.raises(
        AnsibleFilterError, match="^" + message.replace("(", r"\(").replace(")", r"\)")
    ):
        mesh_policies(*args)

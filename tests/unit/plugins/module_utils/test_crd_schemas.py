# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cilium objects the collection applies, validated against the openAPIV3Schema of their
CRD from the cilium repository (tests/fixtures/cilium-crds/README.md: source path, stored
commit, sha256), with strict field validation (tests/unit/helpers/crd_schemas.py).

* CiliumLoadBalancerIPPool (cilium.io/v2) and CiliumL2AnnouncementPolicy
  (cilium.io/v2alpha1) of cilium_values.loadbalancer_objects (IPv4 and IPv6 addresses).

Not covered here: CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (their CRDs,
~380 000 characters each, could not be brought into the repository in this environment;
see the fixture README).
"""

import pathlib

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import cilium_values as cv
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.crd_schemas import (
    crd_problems,
)
from ansible_collections.edgemesh.cluster_mesh.tests.unit.plugins.module_utils.test_cilium_values import (
    make_plan,
)

CRDS = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "cilium-crds"
CRD_OF = {
    "CiliumLoadBalancerIPPool": CRDS / "v2" / "ciliumloadbalancerippools.yaml",
    "CiliumL2AnnouncementPolicy": CRDS / "v2alpha1" / "ciliuml2announcementpolicies.yaml",
}
ADDRESSES = ("198.51.100.7", "2001:db8::7")


def objects(address):
    return cv.loadbalancer_objects(make_plan(2), "c02", {"clustermesh_addresses": {"c02": address}})


@pytest.mark.parametrize("address", ADDRESSES)
def test_loadbalancer_objects_match_their_crds(address):
    built = objects(address)
    assert sorted(o["kind"] for o in built) == sorted(CRD_OF)
    for manifest in built:
        assert crd_problems(manifest, CRD_OF[manifest["kind"]]) == [], manifest


def test_the_crd_schemas_refuse_what_the_api_would():
    pool, policy = objects(ADDRESSES[0])
    pool["spec"]["blocks"][0]["cidrs"] = "typo"
    assert crd_problems(pool, CRD_OF[pool["kind"]]) == [
        "spec.blocks.0: Additional properties are not allowed ('cidrs' was unexpected)"
    ]
    policy["spec"]["loadBalancerIPs"] = "yes"
    policy["spec"]["serviceSelector"]["matchExpressions"] = [{"key": "a", "operator": "Is"}]
    assert crd_problems(policy, CRD_OF[policy["kind"]]) == [
        "spec.loadBalancerIPs: 'yes' is not of type 'boolean'",
        "spec.serviceSelector.matchExpressions.0.operator: 'Is' is not one of"
        " ['In', 'NotIn', 'Exists', 'DoesNotExist']",
    ]
    del pool["spec"]
    assert crd_problems(pool, CRD_OF[pool["kind"]]) == ["<root>: 'spec' is a required property"]
    wrong_version = dict(policy, apiVersion="cilium.io/v2")
    with pytest.raises(AssertionError, match="serves no version v2"):
        crd_problems(wrong_version, CRD_OF[policy["kind"]])

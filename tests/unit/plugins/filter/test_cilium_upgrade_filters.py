# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters of playbooks/upgrade_cilium.yml: thin, every argument error named."""

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter import (
    cilium_policy_change,
    cilium_upgrade_plan,
    cilium_upgrade_state,
    cilium_upgrade_step,
    cilium_upgrade_verified,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_state_schema
from ansible_collections.edgemesh.cluster_mesh.tests.unit.plugins.module_utils.test_cilium_values import (
    make_plan,
)

PLAN = make_plan(2, "1.18.12")


def helm_result(name, chart):
    return {"item": {"name": name}, "status": {"chart": chart} if chart else {}}


def test_plan_from_helm_info_results_and_errors():
    plan_filter = cilium_upgrade_plan.cilium_upgrade_plan
    results = [helm_result("c01", "cilium-1.18.12"), helm_result("c02", "cilium-1.19.6")]
    out = plan_filter(PLAN, results, "1.19.6")
    assert [s["cluster"] for s in out["steps"]] == ["c01"] and out["skipped"] == ["c02"]
    assert plan_filter(PLAN, {"c01": "1.19.6", "c02": "1.19.6"}, "1.19.6")["steps"] == []
    cases = [
        (([], results, "1.19.6"), "the input must be the mesh plan"),
        ((PLAN, results, ""), "give the target version"),
        ((PLAN, "x", "1.19.6"), "live must be a mapping or a loop's results"),
        ((PLAN, [{"status": {}}], "1.19.6"), "a live result has no item.name"),
        ((PLAN, [helm_result("c01", None)], "1.19.6"), "no Cilium release found on cluster"),
    ]
    for args, message in cases:
        with pytest.raises(AnsibleFilterError, match="^cilium_upgrade_plan: .*" + message):
            plan_filter(*args)
    assert "cilium_upgrade_plan" in cilium_upgrade_plan.FilterModule().filters()


def test_step_filter():
    step = cilium_upgrade_plan.cilium_upgrade_plan(
        PLAN, {"c01": "1.18.12", "c02": "1.18.12"}, "1.19.6"
    )["steps"][0]
    out = cilium_upgrade_step.cilium_upgrade_step(PLAN, step)
    assert out["plan"]["mesh"]["cilium_version"] == "1.19.6"
    assert out["preflight_values"]["preflight"] == {"enabled": True}
    with pytest.raises(AnsibleFilterError, match="^cilium_upgrade_step: the input must be"):
        cilium_upgrade_step.cilium_upgrade_step(None, step)
    with pytest.raises(AnsibleFilterError, match="^cilium_upgrade_step: step must be one of"):
        cilium_upgrade_step.cilium_upgrade_step(PLAN, {"cluster": "c01"})
    off = json.loads(json.dumps(PLAN))
    off["clusters"][0]["cilium"] = {"extra_values": {"clustermesh": {"config": {"enabled": False}}}}
    with pytest.raises(
        AnsibleFilterError, match="^cilium_upgrade_step: cluster c01: .*remote-users"
    ):
        cilium_upgrade_step.cilium_upgrade_step(off, step)
    with pytest.raises(
        AnsibleFilterError, match="^cilium_upgrade_step: cluster c09 is not in the plan"
    ):
        cilium_upgrade_step.cilium_upgrade_step(PLAN, dict(step, cluster="c09"))


def test_policy_change_filter():
    step = {"cluster": "c01", "current": "1.18.12", "target": "1.19.6", "policy_check": True}
    policy = {
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "p", "namespace": "n"},
        "spec": {"ingress": [{"fromEndpoints": [{}]}]},
    }
    out = cilium_policy_change.cilium_policy_change([policy], step)
    assert out["changed"][0]["name"] == "p" and "n/p" in out["problem"]
    assert cilium_policy_change.cilium_policy_change([policy], step, True)["problem"] is None
    for args, message in [
        (({}, step), "the input must be a list"),
        (([], {}), "step must be one of"),
        (([], step, "yes"), "accept .* must be true or false, got 'yes'"),
    ]:
        with pytest.raises(AnsibleFilterError, match="^cilium_policy_change: " + message):
            cilium_policy_change.cilium_policy_change(*args)


def test_state_and_verified_filters():
    text = mesh_state_schema.dump_state(
        {"format": 1, "max_connected_clusters": 255, "clusters": {"c01": {"id": 1, "active": True}}}
    )
    new = cilium_upgrade_state.cilium_upgrade_state(text, "c01", "1.19.6")
    assert json.loads(new)["clusters"]["c01"]["cilium_version"] == "1.19.6"
    for args, message in [
        ((None, "c01", "1.19.6"), "the input must be the state file's text"),
        ((text, 1, "1.19.6"), "give the cluster and its version"),
        ((text, "c09", "1.19.6"), "no entry for cluster c09"),
        ((text, "c01", "2.0.0"), "'2.0.0' is not supported"),
        (("{", "c01", "1.19.6"), "state file"),
    ]:
        with pytest.raises(AnsibleFilterError, match="^cilium_upgrade_state: .*" + message):
            cilium_upgrade_state.cilium_upgrade_state(*args)
    verified = cilium_upgrade_verified.cilium_upgrade_verified
    assert verified(PLAN, "c01", {}, None)
    for args, message in [
        (([], "c01", {}), "the input must be the mesh plan"),
        ((PLAN, "c01", None), "give the cluster name and its verify_checks"),
        ((PLAN, "c01", {}, 3), "probe_log must be text or null"),
    ]:
        with pytest.raises(AnsibleFilterError, match="^cilium_upgrade_verified: " + message):
            verified(*args)

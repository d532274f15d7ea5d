# -*- coding: utf-8 -*-
"""Decisions of playbooks/upgrade_cilium.yml (plugins/module_utils/cilium_upgrade.py).

Facts relied on (read, not copied): Cilium's upgrade guide (docs.cilium.io, "Upgrade
Guide": the pre-flight check installs the chart with preflight.enabled=true, agent=false,
operator.enabled=false to pre-pull the images; upgradeCompatibility names the version
being upgraded from; upgrades go one minor at a time); the Cilium 1.19 upgrade notes
(clustermesh.policyDefaultLocalCluster on by default: selectors without
io.cilium.k8s.policy.cluster select only the local cluster; clustermesh.apiserver.tls.authMode
defaults to migration, so with useAPIServer and clustermesh.config.enabled=false the
clustermesh-remote-users ConfigMap must exist or authMode be legacy). The chart keys are
checked against the published charts' defaults (tests/fixtures/cilium-chart, the same files
as /work/shared/reference).
"""

import json
import pathlib

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    cilium_status,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import cilium_upgrade as cu
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    cilium_values,
    mesh_rules,
    mesh_state_schema,
)
from ansible_collections.edgemesh.cluster_mesh.tests.unit.plugins.module_utils.test_cilium_values import (
    flatten,
    make_plan,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "fixtures" / "cilium-chart"


def chart_defaults(version):
    with open(FIXTURES / ("cilium-chart-%s-defaults.json" % version), encoding="utf-8") as fh:
        return json.load(fh)["defaults"]


# ----------------------------------------------------------------- the upgrade plan


def test_minor_hop_in_plan_order_one_cluster_each():
    plan = make_plan(3, "1.18.12")
    result = cu.upgrade_plan(
        plan, {"c01": "1.18.12", "c02": "v1.18.12", "c03": "1.18.11"}, "1.19.6"
    )
    assert result["target"] == "1.19.6"
    assert [s["cluster"] for s in result["steps"]] == ["c01", "c02", "c03"]
    assert result["steps"][2] == {
        "cluster": "c03",
        "current": "1.18.11",
        "target": "1.19.6",
        "upgrade_compatibility": "1.18",
        "policy_check": True,
    }
    assert result["skipped"] == []


def test_clusters_at_the_target_are_skipped():
    plan = make_plan(3, "1.19.6")
    result = cu.upgrade_plan(plan, {"c01": "1.19.6", "c02": "1.19.5", "c03": "1.19.6"}, "v1.19.6")
    assert [s["cluster"] for s in result["steps"]] == ["c02"]
    assert result["steps"][0]["policy_check"] is False
    assert result["steps"][0]["upgrade_compatibility"] == "1.19"
    assert result["skipped"] == ["c01", "c03"]


def test_skipping_a_minor_is_refused_naming_cluster_version_and_first_step():
    plan = make_plan(2, "1.18.12")
    with pytest.raises(cu.UpgradeError) as err:
        cu.upgrade_plan(plan, {"c01": "1.18.12", "c02": "1.19.6"}, "1.20.0")
    msg = str(err.value)
    assert "cluster c01 runs 1.18.12: 1.20.0 skips a minor" in msg
    assert (
        "upgrade every cluster to 1.19.x first (-e edgemesh_cilium_upgrade_version=1.19.6)" in msg
    )
    assert "cluster c02" not in msg  # 1.19.6 -> 1.20.0 is one hop


def test_minor_downgrade_and_patch_downgrade_refused():
    plan = make_plan(2, "1.19.6")
    with pytest.raises(cu.UpgradeError, match="cluster c01 runs 1.19.6: 1.18.12 would downgrade"):
        cu.upgrade_plan(plan, {"c01": "1.19.6", "c02": "1.18.12"}, "1.18.12")
    with pytest.raises(cu.UpgradeError, match=r"cluster c02 runs 1.19.6: 1.19.5 would downgrade"):
        cu.upgrade_plan(plan, {"c01": "1.19.5", "c02": "1.19.6"}, "1.19.5")


def test_skew_of_two_minors_refused_before_anything_moves():
    # c01 at 1.20 and c02 at 1.18 cannot both reach a target one hop away; the skew is named.
    plan = make_plan(2, "1.19.6")
    with pytest.raises(cu.UpgradeError) as err:
        cu.upgrade_plan(plan, {"c01": "1.20.0", "c02": "1.18.12"}, "1.19.6")
    assert "cluster c01 runs 1.20.0: 1.19.6 would downgrade 1.20 to 1.19" in str(err.value)


def test_skew_check_at_every_step():
    versions = {"a": "1.18.12", "b": "1.19.6"}
    assert cu._skew_problem(versions, ["a", "b"], "1.19.6") is None
    assert cu._skew_problem(versions, ["b"], "1.20.0") == (
        "the mesh would span more than one minor after b (a 1.18.12, b 1.20.0)"
    )
    problem = cu._skew_problem({"a": "1.18.12", "b": "1.18.12"}, ["a", "b"], "1.20.0")
    assert problem == "the mesh would span more than one minor after a (a 1.20.0, b 1.18.12)"
    assert cu._skew_problem({"a": "1.18.1", "b": "1.20.0"}, [], "1.20.0").endswith(
        "now (a 1.18.1, b 1.20.0)"
    )


def test_unknown_live_version_target_and_missing_release_refused():
    plan = make_plan(2, "1.19.6")
    with pytest.raises(cu.UpgradeError, match="no Cilium release found on cluster\\(s\\) c02"):
        cu.upgrade_plan(plan, {"c01": "1.19.6", "c02": None}, "1.19.6")
    with pytest.raises(cu.UpgradeError, match="cluster c01 runs Cilium 1.17.3: .*allowed: 1.18.x"):
        cu.upgrade_plan(plan, {"c01": "1.17.3", "c02": "1.18.1"}, "1.19.6")
    with pytest.raises(cu.UpgradeError, match="edgemesh_cilium_upgrade_version: .*'2.0.0'"):
        cu.upgrade_plan(plan, {"c01": "1.19.6", "c02": "1.19.6"}, "2.0.0")
    with pytest.raises(cu.UpgradeError, match="'1.19.99' is not a released 1.19 patch"):
        cu.upgrade_plan(plan, {"c01": "1.19.6", "c02": "1.19.6"}, "1.19.99")


def test_policy_check_follows_the_pinned_option():
    plan = make_plan(2, "1.18.12")
    plan["clusters"][1]["cilium"] = {"policy_default_local_cluster": False}
    steps = cu.upgrade_plan(plan, {"c01": "1.18.12", "c02": "1.18.12"}, "1.19.6")["steps"]
    assert [s["policy_check"] for s in steps] == [True, False]


def test_live_version_from_helm_info():
    assert cu.live_version({"chart": "cilium-1.18.12", "app_version": "1.18.12"}) == "1.18.12"
    assert cu.live_version({"chart": "other", "app_version": "1.19.6"}) == "1.19.6"
    assert cu.live_version({}) is None
    assert cu.live_version(None) is None


# ----------------------------------------------------------------- preflight and values


@pytest.mark.parametrize("minor", mesh_rules.CILIUM_MINORS, ids=lambda m: m.minor)
def test_preflight_values_are_keys_of_the_target_chart(minor):
    plan = make_plan(2, minor.chart_tested)
    step = {"cluster": "c01", "current": minor.chart_tested, "target": minor.chart_tested}
    step["upgrade_compatibility"] = minor.minor
    values = cu.preflight_values(plan, step)
    assert values["preflight"] == {"enabled": True}
    assert values["agent"] is False and values["operator"] == {"enabled": False}
    installed = cilium_values.cluster_values(cu.step_plan(plan, step), "c01")
    assert values["k8sServiceHost"] == installed["k8sServiceHost"]  # as the agents reach it
    assert values["k8sServicePort"] == installed["k8sServicePort"]
    defaults = chart_defaults(minor.chart_tested)
    assert set(flatten(values)) <= set(defaults)


def test_step_plan_sets_target_and_upgrade_compatibility_in_the_chart():
    plan = make_plan(2, "1.18.12")
    step = cu.upgrade_plan(plan, {"c01": "1.18.12", "c02": "1.18.12"}, "1.19.6")["steps"][0]
    moved = cu.step_plan(plan, step)
    assert plan["mesh"]["cilium_version"] == "1.18.12"  # the input is not changed
    values = cilium_values.cluster_values(moved, "c01")
    assert values["upgradeCompatibility"] == "1.18"
    assert "upgradeCompatibility" not in cilium_values.cluster_values(moved, "c02")
    assert "upgradeCompatibility" in chart_defaults("1.19.6")
    assert values["clustermesh"]["policyDefaultLocalCluster"] is True


# ----------------------------------------------------------------- policyDefaultLocalCluster


def cnp(name, rule, namespace="app", kind="CiliumNetworkPolicy", key="spec"):
    obj = {"kind": kind, "metadata": {"name": name}, key: rule}
    if kind == "CiliumNetworkPolicy":
        obj["metadata"]["namespace"] = namespace
    return obj


SAMPLES = [
    # selects frontends everywhere today, only local ones after the flip
    cnp("open", {"ingress": [{"fromEndpoints": [{"matchLabels": {"app": "front"}}]}]}),
    # explicit cluster label: unchanged
    cnp(
        "pinned",
        {
            "egress": [
                {"toEndpoints": [{"matchLabels": {"app": "db", CLUSTER_KEY: "eu-core"}}]}
                for CLUSTER_KEY in ["io.cilium.k8s.policy.cluster"]
            ]
        },
    ),
    # the k8s: source prefix and matchExpressions count as a cluster label
    cnp(
        "expr",
        {
            "ingress": [
                {
                    "fromEndpoints": [
                        {"matchLabels": {"k8s:io.cilium.k8s.policy.cluster": "us-core"}},
                        {
                            "matchExpressions": [
                                {"key": "io.cilium.k8s.policy.cluster", "operator": "Exists"}
                            ]
                        },
                    ]
                }
            ]
        },
    ),
    # clusterwide, specs list, deny rule with an empty selector (all endpoints) - changes
    cnp(
        "deny-all",
        [{"egressDeny": [{"toEndpoints": [{}]}]}, {"ingress": [{"fromEntities": ["world"]}]}],
        kind="CiliumClusterwideNetworkPolicy",
        key="specs",
    ),
    {"kind": "NetworkPolicy", "metadata": {"name": "k8s"}, "spec": {"ingress": [{}]}},
]


def test_policies_changing_meaning_lists_only_selectors_without_cluster_label():
    assert cu.policies_changing_meaning(SAMPLES) == [
        {
            "kind": "CiliumClusterwideNetworkPolicy",
            "namespace": "",
            "name": "deny-all",
            "selectors": ["specs[0].egressDeny[0].toEndpoints[0]"],
        },
        {
            "kind": "CiliumNetworkPolicy",
            "namespace": "app",
            "name": "open",
            "selectors": ["spec.ingress[0].fromEndpoints[0]"],
        },
    ]
    assert cu.policies_changing_meaning([]) == []
    assert cu.policies_changing_meaning(None) == []


def test_policy_change_refused_unless_accepted_or_not_crossing():
    step = {"current": "1.18.12", "target": "1.19.6", "policy_check": True}
    problem = cu.policy_change_problem("c01", step, SAMPLES, accept=False)
    assert problem.startswith(
        "cluster c01: 1.18.12 -> 1.19.6 changes clustermesh.policyDefaultLocalCluster, so 2 "
    )
    assert "CiliumNetworkPolicy app/open (spec.ingress[0].fromEndpoints[0])" in problem
    assert "CiliumClusterwideNetworkPolicy deny-all" in problem
    assert "edgemesh_cilium_upgrade_accept_policy_change: true" in problem
    assert cu.policy_change_problem("c01", step, SAMPLES, accept=True) is None
    assert cu.policy_change_problem("c01", step, SAMPLES[1:3], accept=False) is None
    assert cu.policy_change_problem("c01", dict(step, policy_check=False), SAMPLES, False) is None


# ----------------------------------------------------------------- clustermesh-remote-users


def test_remote_users_requirement():
    plan = make_plan(2, "1.19.6")
    values = cilium_values.cluster_values(plan, "c01")
    # the collection's values render the ConfigMap (clustermesh.config.enabled true)
    assert cu.remote_users_problem(values, "1.19.6") is None
    values["clustermesh"]["config"]["enabled"] = False
    problem = cu.remote_users_problem(values, "1.19.6")
    assert "needs the clustermesh-remote-users ConfigMap in kube-system" in problem
    assert "authMode migration" in problem
    assert cu.remote_users_problem(values, "1.18.12") is None  # 1.18 defaults to legacy
    values["clustermesh"]["apiserver"]["tls"]["authMode"] = "legacy"
    assert cu.remote_users_problem(values, "1.19.6") is None


@pytest.mark.parametrize("minor", mesh_rules.CILIUM_MINORS, ids=lambda m: m.minor)
def test_auth_mode_defaults_match_the_charts(minor):
    defaults = chart_defaults(minor.chart_tested)
    assert defaults["clustermesh.apiserver.tls.authMode"] == (
        mesh_rules.clustermesh_auth_mode_default(minor.minor)
    )
    assert defaults["clustermesh.policyDefaultLocalCluster"] is minor.policy_default_local_cluster


# ----------------------------------------------------------------- the state


def state_text():
    return mesh_state_schema.dump_state(
        {
            "format": 1,
            "max_connected_clusters": 255,
            "clusters": {
                "c01": {"id": 1, "active": True, "cilium_version": "1.18.12"},
                "c02": {"id": 2, "active": True},
            },
        }
    )


def test_record_version_changes_one_entry_through_the_schema_writer():
    text = cu.record_version(state_text(), "c02", "v1.19.6")
    data = json.loads(text)
    assert data["clusters"]["c02"]["cilium_version"] == "1.19.6"
    assert data["clusters"]["c01"]["cilium_version"] == "1.18.12"
    assert text == mesh_state_schema.dump_state(data)


def test_record_version_refuses_unknown_cluster_and_bad_state():
    with pytest.raises(cu.UpgradeError, match="no entry for cluster c09 \\(known: c01, c02\\)"):
        cu.record_version(state_text(), "c09", "1.19.6")
    with pytest.raises(mesh_state_schema.StateError):
        cu.record_version('{"format": 2}', "c01", "1.19.6")


# ----------------------------------------------------------------- verify of one cluster


def test_verify_failures_of_the_upgraded_cluster():
    plan = make_plan(2, "1.19.6")
    failures = cu.verify_failures(plan, "c01", {}, None)
    assert failures and all(f.startswith("c01: ") for f in failures)  # nothing ran: fails
    probe = cu.verify_failures(plan, "c01", {}, "")
    assert any(f.startswith("c01 -> ") for f in probe)
    assert not any(f.startswith("c02") for f in probe)  # c02 was not probed in this step
    ok = dict((check, {"ok": True, "detail": "ok"}) for check in cilium_status.CHECKS)
    assert cu.verify_failures(plan, "c01", ok, None) == []
    bad = dict(ok, clustermesh={"ok": False, "detail": "0/1 remote clusters ready"})
    assert cu.verify_failures(plan, "c01", bad, None) == [
        "c01: clustermesh: 0/1 remote clusters ready"
    ]

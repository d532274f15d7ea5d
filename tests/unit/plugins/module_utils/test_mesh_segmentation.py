# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The segmentation bundle (issue 16 #5): flow matrix extensions, the baseline, the
namespace export, the audit report and the clean-up when the bundle is switched off.

Facts relied on (read, not copied):

* Cilium policy language, entities: ``cluster`` is the logical group of every endpoint of
  the local cluster with its hosts and all nodes, remote nodes of a cluster mesh included;
  ``cluster-mesh`` exists only from 1.20 (so the baseline does not use it).
* CiliumNetworkPolicy ``toPorts[].ports[]``: ``port``, ``protocol`` and ``endPort`` (the
  last port of a range).
* Cilium CFP-39876 (namespace based export control for Cluster Mesh) and the 1.20.0 chart's
  values.yaml: ``clustermesh.defaultGlobalNamespace`` and the namespace annotation
  ``clustermesh.cilium.io/global``; not in 1.18 and 1.19.
* Policy audit mode is an agent option (``--policy-audit-mode``, Helm ``policyAuditMode``)
  or a per-endpoint option (``cilium-dbg endpoint config <id> PolicyAuditMode=true``);
  CiliumNetworkPolicy has no audit field (docs.cilium.io, "Creating Policies from
  Verdicts").

The Namespace patches are validated with kubernetes-validate (strict) for every supported
Kubernetes minor. No CRD of CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy is in
tests/fixtures/cilium-crds (see its README), so the policies are checked field by field.
"""

import copy
import pathlib

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import global_services as gs
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_policies as mp
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.kube_schemas import (
    core_problems,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]
CLUSTERS = [
    {"name": "eu-core", "region": "eu-west"},
    {"name": "eu-edge-1", "region": "eu-west"},
    {"name": "us-core", "region": "us-east"},
]
OPTIONS = {
    "region_isolation": False,
    "isolation_exempt_namespaces": ["kube-system"],
    "isolation_entities": ["host"],
}
FLOW = {
    "name": "reports",
    "from_regions": ["us-east"],
    "from_namespace": "reports",
    "to_regions": ["eu-west"],
    "to_namespace": "reports",
    "to_labels": {"app": "reports-api"},
    "ports": [{"port": 8443}],
}
SERVICES = [{"name": "echo", "namespace": "demo"}, {"name": "dns-cache"}]
BASELINE = "CiliumClusterwideNetworkPolicy//edgemesh-baseline"


def wanted(name="eu-core", flows=None, **options):
    return mp.wanted_policies(
        CLUSTERS, name, [FLOW] if flows is None else flows, dict(OPTIONS, **options)
    )


def ports_of(policy):
    return policy["spec"]["ingress"][0]["toPorts"][0]["ports"]


# 1. the flow matrix


def test_port_ranges_become_end_port():
    flow = dict(FLOW, ports=[{"port": 30000, "end_port": 30100, "protocol": "udp"}, {"port": 53}])
    (cnp,) = list(wanted(flows=[flow]).values())
    assert ports_of(cnp) == [
        {"port": "30000", "protocol": "UDP", "endPort": 30100},
        {"port": "53", "protocol": "TCP"},
    ]
    # a string end_port as YAML may give it
    flow = dict(FLOW, ports=[{"port": 80, "end_port": "90"}])
    assert ports_of(next(iter(wanted(flows=[flow]).values())))[0]["endPort"] == 90


def test_several_source_namespaces():
    flow = dict(FLOW, from_namespace=["reports", "billing", "reports"])
    (cnp,) = list(wanted(flows=[flow]).values())
    expressions = cnp["spec"]["ingress"][0]["fromEndpoints"][0]["matchExpressions"]
    assert {
        "key": "k8s:io.kubernetes.pod.namespace",
        "operator": "In",
        "values": ["billing", "reports"],
    } in expressions


WHERE = "^allowed flow reports is invalid: "


@pytest.mark.parametrize(
    "changes,message",
    [
        (
            {"ports": [{"port": 80, "end_port": 80}]},
            "ports\\[0\\]: end_port 80 is not allowed; allowed: a port number above port 80, at most 65535",
        ),
        (
            {"ports": [{"port": 80, "end_port": 70000}]},
            "ports\\[0\\]: end_port 70000 is not allowed",
        ),
        ({"ports": [{"port": 80, "end_port": True}]}, "ports\\[0\\]: end_port True is not allowed"),
        (
            {"ports": [{"port": 80, "endport": 90}]},
            "ports\\[0\\]: unknown key 'endport'; did you mean 'end_port'\\? allowed: port, protocol, end_port",
        ),
        (
            {"from_namespace": []},
            "from_namespace: \\[\\] is not allowed; allowed: a namespace or a non-empty list",
        ),
        (
            {"from_namespace": ["reports", "Billing"]},
            "from_namespace: 'Billing' is not allowed; allowed: a DNS label",
        ),
        (
            {"from_namespaces": ["reports"]},
            "unknown key 'from_namespaces'; did you mean 'from_namespace'\\?",
        ),
    ],
)
def test_bad_flow_entries_are_refused(changes, message):
    flow = dict(copy.deepcopy(FLOW), **changes)
    with pytest.raises(mp.PolicyError, match=WHERE + message):
        wanted(flows=[flow])


# 2. the baseline


def test_baseline_is_the_same_object_on_every_cluster():
    objects = [
        wanted(name, baseline=True)[BASELINE] for name in ("eu-core", "eu-edge-1", "us-core")
    ]
    assert objects[0] == objects[1] == objects[2]
    spec = objects[0]["spec"]
    # intra-cluster (entity cluster: local pods, hosts, nodes), health, API server; nothing else
    assert spec["ingress"] == [
        {"fromEntities": ["cluster", "health", "host", "kube-apiserver", "remote-node"]}
    ]
    assert set(mp.BASELINE_ENTITIES) <= set(mesh_rules.POLICY_ENTITIES)
    assert "world" not in spec["ingress"][0]["fromEntities"]
    assert "all" not in spec["ingress"][0]["fromEntities"]
    assert "ingressDeny" not in spec  # a deny would override the allowed flows
    assert spec["endpointSelector"]["matchExpressions"] == [
        {"key": "k8s:io.kubernetes.pod.namespace", "operator": "NotIn", "values": ["kube-system"]},
        {"key": "k8s:io.kubernetes.pod.namespace", "operator": "Exists"},
    ]
    assert objects[0]["metadata"] == {"name": "edgemesh-baseline", "labels": mp.MANAGED_LABELS}
    assert "eu-core" not in repr(objects[0]) and "us-core" not in repr(objects[0])


def test_baseline_only_when_asked_and_with_the_flows():
    assert BASELINE not in wanted()
    assert list(wanted(baseline=True)) == [
        BASELINE,
        "CiliumNetworkPolicy/reports/edgemesh-allow-reports",
    ]
    with pytest.raises(mp.PolicyError, match="^options: baseline is 'yes'; allowed: true or false"):
        wanted(baseline="yes")


# 5. switched off: nothing wanted, every managed policy (baseline included) deleted


def test_switched_off_bundle_deletes_every_managed_policy():
    on = wanted(baseline=True, region_isolation=True)
    assert sorted(on) == [
        BASELINE,
        "CiliumClusterwideNetworkPolicy//edgemesh-region-isolation",
        "CiliumNetworkPolicy/reports/edgemesh-allow-reports",
    ]
    off = wanted(baseline=True, region_isolation=True, policies=False)
    assert off == {}
    found = {
        "results": [
            {"resources": []},
            {"resources": [on["CiliumNetworkPolicy/reports/edgemesh-allow-reports"]]},
            {
                "resources": [
                    on[BASELINE],
                    on["CiliumClusterwideNetworkPolicy//edgemesh-region-isolation"],
                ]
            },
        ]
    }
    deleted = gs.cleanup(found, off)["delete"]
    assert [(d["kind"], d["namespace"], d["name"]) for d in deleted] == [
        ("CiliumClusterwideNetworkPolicy", "", "edgemesh-baseline"),
        ("CiliumClusterwideNetworkPolicy", "", "edgemesh-region-isolation"),
        ("CiliumNetworkPolicy", "reports", "edgemesh-allow-reports"),
    ]
    assert gs.cleanup(found, on)["delete"] == []


# 3. namespace export


def export(version="1.20.0", mode="listed", flows=None, services=None, found=None):
    return mp.namespace_export(
        CLUSTERS,
        version,
        mode,
        [FLOW] if flows is None else flows,
        SERVICES if services is None else services,
        found,
    )


def test_listed_namespaces_are_the_services_and_both_flow_ends():
    flow = dict(FLOW, from_namespace=["billing", "reports"], to_namespace="api")
    assert mp.exported_namespaces(CLUSTERS, "1.20.0", "listed", [flow], SERVICES) == [
        "api",
        "billing",
        "default",
        "demo",
        "reports",
    ]
    assert mp.exported_namespaces(CLUSTERS, "1.19.6", "all", [flow], SERVICES) == []


@pytest.mark.parametrize("minor", mesh_rules.SUPPORTED_KUBERNETES_MINORS)
def test_namespace_patches_are_valid_namespaces(minor):
    patches = export()["apply"]
    assert [p["metadata"]["name"] for p in patches] == ["default", "demo", "reports"]
    for patch in patches:
        assert patch["metadata"]["annotations"] == {"clustermesh.cilium.io/global": "true"}
        assert patch["metadata"]["labels"] == {"global-services.edgemesh.io/exported": "true"}
        assert core_problems(patch, minor) == [], patch


def labelled(*names, labels=None):
    return {
        "resources": [
            {
                "metadata": {
                    "name": n,
                    "labels": dict(mp.NAMESPACE_EXPORT_LABELS if labels is None else labels),
                }
            }
            for n in names
        ]
    }


def test_namespaces_no_longer_listed_are_released():
    result = export(services=[], found=labelled("demo", "reports", "old"))
    assert [p["metadata"]["name"] for p in result["apply"]] == ["reports"]
    assert result["release"] == [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": ns,
                "labels": {"global-services.edgemesh.io/exported": None},
                "annotations": {"clustermesh.cilium.io/global": None},
            },
        }
        for ns in ("demo", "old")
    ]
    # export all: every namespace the role marked is released, nothing marked
    everything = export(version="1.19.6", mode="all", found=labelled("demo", "reports"))
    assert everything["apply"] == []
    assert [p["metadata"]["name"] for p in everything["release"]] == ["demo", "reports"]
    # a namespace without the role's label is never touched
    assert export(mode="all", found=labelled("demo", labels={"other": "x"}))["release"] == []


@pytest.mark.parametrize(
    "version,minor", [("1.18.12", "1.18"), ("1.19.6", "1.19"), ("v1.19.0", "1.19")]
)
def test_listed_refused_before_1_20(version, minor):
    with pytest.raises(
        mp.PolicyError,
        match="^namespace export listed needs Cilium 1.20 \\(clustermesh.defaultGlobalNamespace and"
        " the namespace annotation clustermesh.cilium.io/global\\); the plan's Cilium is %s"
        " \\(minor %s\\); allowed here: all$" % (version, minor),
    ):
        export(version=version)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (
            {"mode": "listd"},
            "namespace export is 'listd'; did you mean 'listed'\\? allowed: all, listed",
        ),
        ({"version": "2.0.1"}, "namespace export: Cilium version '2.0.1' is not supported"),
        ({"version": ""}, "namespace export: Cilium version '' is not supported"),
        (
            {"flows": [{k: v for k, v in FLOW.items() if k != "from_namespace"}]},
            "allowed flow reports is invalid: from_namespace is missing; allowed with namespace"
            " export listed",
        ),
        (
            {"services": [{"name": "echo", "affinity": "near"}]},
            "global service default/echo: affinity 'near' is not allowed",
        ),
        ({"found": {"resources": "x"}}, "found namespaces are"),
        (
            {"found": {"resources": [{"metadata": {}}]}},
            "found namespace \\{'metadata': \\{\\}\\} has no",
        ),
    ],
)
def test_namespace_export_refusals(kwargs, message):
    with pytest.raises(mp.PolicyError, match="^" + message):
        export(**kwargs)


def test_role_selector_equals_the_module_label():
    role_vars = yaml.safe_load(
        (ROOT / "roles" / "global_services" / "vars" / "main.yml").read_text()
    )
    assert role_vars["_global_services_namespace_selector"] == ",".join(
        "%s=%s" % item for item in sorted(mp.NAMESPACE_EXPORT_LABELS.items())
    )
    assert mesh_rules.GLOBAL_NAMESPACE_MINORS == ("1.20",)
    assert set(mesh_rules.GLOBAL_NAMESPACE_MINORS) <= set(mesh_rules.SUPPORTED_CILIUM_MINORS)


# 4. audit report


def test_report_says_what_would_be_enforced_and_deleted():
    flow = dict(FLOW, ports=[{"port": 8443}, {"port": 9000, "end_port": 9010, "protocol": "UDP"}])
    lines = mp.policy_report(
        wanted(baseline=True, flows=[flow]),
        {
            "delete": [
                {"kind": "CiliumNetworkPolicy", "namespace": "demo", "name": "edgemesh-allow-old"}
            ]
        },
    )
    assert lines == [
        "would apply CiliumClusterwideNetworkPolicy//edgemesh-baseline: endpoints"
        " (k8s:io.kubernetes.pod.namespace NotIn [kube-system] and"
        " k8s:io.kubernetes.pod.namespace Exists) accept ingress from entities"
        " cluster,health,host,kube-apiserver,remote-node on every port",
        "would apply CiliumNetworkPolicy/reports/edgemesh-allow-reports: endpoints"
        " (app=reports-api) accept ingress from (io.cilium.k8s.policy.cluster In [us-core] and"
        " k8s:io.kubernetes.pod.namespace In [reports]) on 8443/TCP, 9000-9010/UDP",
        "would delete CiliumNetworkPolicy/demo/edgemesh-allow-old (no longer wanted)",
    ]
    assert mp.policy_report({}, {"delete": []}) == ["no policy wanted and none to delete"]
    with pytest.raises(mp.PolicyError, match="^wanted policies are 'x'"):
        mp.policy_report("x")


def test_audit_mode_applies_and_deletes_nothing():
    """The role's apply and delete tasks are the only ones that change policies; both are
    skipped in audit mode and the report task runs only then (the k8s tasks themselves need
    an API server, which cannot run here)."""
    tasks = yaml.safe_load(
        (ROOT / "roles" / "global_services" / "tasks" / "configure.yml").read_text()
    )
    by_name = {t["name"]: t for t in tasks}
    for name in ("Apply the policies", "Delete managed policies no longer wanted"):
        assert by_name[name]["when"] == "not global_services_policy_audit | bool"
    report = by_name["Audit mode - what the policies would enforce (nothing is applied or deleted)"]
    assert report["when"] == "global_services_policy_audit | bool"
    assert "policy_report(_global_services_cleanup)" in report["ansible.builtin.debug"]["msg"]

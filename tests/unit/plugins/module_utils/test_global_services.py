# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""global_services: the Service annotations of one cluster and the clean-up of what the
role no longer wants (issue 15 #6: policies turned off are deleted, a Service taken off the
list loses its annotations). The annotation names and values are those of the Cilium
documentation (network/clustermesh/services: service.cilium.io/global, /shared, /affinity).
The "found" inputs are what kubernetes.core.k8s_info registers in a loop (results[] with
resources[]), written here as a stand-in for a Kubernetes API server."""

import pathlib

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import global_services as gs
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_policies import (
    wanted_policies,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]
CLUSTERS = [
    {"name": "eu-core", "region": "eu-west"},
    {"name": "eu-edge-1", "region": "eu-west"},
    {"name": "us-core", "region": "us-east"},
]
OPTIONS = {
    "region_isolation": True,
    "isolation_exempt_namespaces": ["kube-system"],
    "isolation_entities": ["host", "health"],
}
FLOW = {
    "name": "echo",
    "from_regions": ["us-east"],
    "to_namespace": "demo",
    "to_labels": {"app": "echo"},
    "ports": [{"port": 8080}],
}


def services(*entries):
    return gs.wanted_services(list(entries), "eu-core", CLUSTERS)


def test_patch_carries_annotations_and_label():
    wanted = services({"name": "echo", "namespace": "demo", "affinity": "local"})
    assert list(wanted) == ["Service/demo/echo"]
    patch = wanted["Service/demo/echo"]
    assert patch["apiVersion"] == "v1" and patch["kind"] == "Service"
    assert patch["metadata"]["labels"] == {"global-services.edgemesh.io/managed": "true"}
    assert patch["metadata"]["annotations"] == {
        "service.cilium.io/global": "true",
        "service.cilium.io/shared": "true",
        "service.cilium.io/affinity": "local",
    }


def test_defaults_and_shared_false():
    patch = services({"name": "db", "shared": False})["Service/default/db"]
    assert patch["metadata"]["namespace"] == "default"
    assert patch["metadata"]["annotations"]["service.cilium.io/shared"] == "false"
    assert patch["metadata"]["annotations"]["service.cilium.io/affinity"] == "none"


def test_only_services_this_cluster_serves():
    wanted = services(
        {"name": "a", "clusters": ["us-core"]},
        {"name": "b", "clusters": ["eu-core", "us-core"]},
        {"name": "c"},
    )
    assert list(wanted) == ["Service/default/b", "Service/default/c"]


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"name": "Echo"}, "global service default/Echo: name 'Echo' is not allowed"),
        ({"name": "e", "namespace": "a_b"}, "global service a_b/e: namespace 'a_b' is not"),
        ({"name": "e", "affinity": "near"}, "affinity 'near' is not allowed; allowed: local"),
        ({"name": "e", "shared": "yes"}, "shared 'yes' is not allowed; allowed: true or false"),
        ({"name": "e", "clusters": "eu-core"}, "clusters 'eu-core' is not allowed; allowed: a"),
        ({"name": "e", "clusters": ["eu-cor"]}, "did you mean 'eu-core'? allowed: eu-core"),
        ({"name": "e", "affinty": "local"}, "unknown key 'affinty'; allowed: name"),
        ({"namespace": "demo"}, "global service #1: name is missing"),
        ("echo", "global service #1: 'echo' is not a mapping"),
    ],
)
def test_bad_entries_are_named(entry, message):
    with pytest.raises(gs.ServiceError, match=None) as info:
        services(entry)
    assert message in str(info.value)


def test_duplicates_and_bad_lists_and_clusters():
    with pytest.raises(gs.ServiceError, match="demo/e is listed twice"):
        services({"name": "e", "namespace": "demo"}, {"name": "e", "namespace": "demo"})
    with pytest.raises(gs.ServiceError, match="allowed: a list of services"):
        gs.wanted_services({"name": "e"}, "eu-core", CLUSTERS)
    with pytest.raises(gs.ServiceError, match="'nowhere' is not in the plan; allowed: eu-core"):
        gs.wanted_services([], "nowhere", CLUSTERS)
    with pytest.raises(gs.ServiceError, match="run playbooks/plan.yml"):
        gs.wanted_services([], "eu-core", [])


def listed(*resources_per_lookup):
    return {"results": [{"resources": list(r)} for r in resources_per_lookup]}


def obj(kind, name, namespace="", labels=None, api_version=None):
    meta = {"name": name, "labels": labels or {}}
    if namespace:
        meta["namespace"] = namespace
    item = {"kind": kind, "metadata": meta}
    if api_version:
        item["apiVersion"] = api_version
    return item


SVC = gs.SERVICE_LABEL
POL = {"app.kubernetes.io/managed-by": "edgemesh-global-services"}


def test_policies_turned_off_are_all_deleted():
    """Before issue 15 the delete step ran only with policies on: turned off, they stayed."""
    on = wanted_policies(CLUSTERS, "eu-core", [FLOW], dict(OPTIONS, policies=True))
    off = wanted_policies(CLUSTERS, "eu-core", [FLOW], dict(OPTIONS, policies=False))
    assert sorted(on) == [
        "CiliumClusterwideNetworkPolicy//edgemesh-region-isolation",
        "CiliumNetworkPolicy/demo/edgemesh-allow-echo",
    ]
    assert off == {}
    with pytest.raises(Exception, match="options: policies is 'no'; allowed: true or false"):
        wanted_policies(CLUSTERS, "eu-core", [FLOW], dict(OPTIONS, policies="no"))
    found = listed(
        [],
        [obj("CiliumNetworkPolicy", "edgemesh-allow-echo", "demo", POL, "cilium.io/v2")],
        [obj("CiliumClusterwideNetworkPolicy", "edgemesh-region-isolation", "", POL)],
    )
    assert gs.cleanup(found, off) == {
        "delete": [
            {
                "api_version": "cilium.io/v2",
                "kind": "CiliumClusterwideNetworkPolicy",
                "namespace": "",
                "name": "edgemesh-region-isolation",
            },
            {
                "api_version": "cilium.io/v2",
                "kind": "CiliumNetworkPolicy",
                "namespace": "demo",
                "name": "edgemesh-allow-echo",
            },
        ],
        "release": [],
    }


def test_wanted_objects_stay():
    wanted = dict(services({"name": "echo", "namespace": "demo"}))
    wanted.update(wanted_policies(CLUSTERS, "us-core", [FLOW], OPTIONS))
    found = listed(
        [obj("Service", "echo", "demo", SVC)],
        [obj("CiliumNetworkPolicy", "edgemesh-allow-echo", "demo", POL)],
        [obj("CiliumClusterwideNetworkPolicy", "edgemesh-region-isolation", "", POL)],
    )
    assert gs.cleanup(found, wanted) == {"delete": [], "release": []}


def test_service_taken_off_the_list_is_released():
    found = listed([obj("Service", "old", "demo", dict(SVC, app="old"))], [], [])
    result = gs.cleanup(found, services({"name": "echo", "namespace": "demo"}))
    assert result["delete"] == []
    (patch,) = result["release"]
    assert patch["metadata"]["name"] == "old" and patch["metadata"]["namespace"] == "demo"
    # merge-patch nulls remove exactly what the role put there, nothing else
    assert patch["metadata"]["labels"] == {"global-services.edgemesh.io/managed": None}
    assert patch["metadata"]["annotations"] == {
        "service.cilium.io/global": None,
        "service.cilium.io/shared": None,
        "service.cilium.io/affinity": None,
    }


def test_objects_without_the_label_are_never_touched():
    found = listed(
        [obj("Service", "theirs", "demo", {"app.kubernetes.io/managed-by": "Helm"})],
        [obj("CiliumNetworkPolicy", "theirs", "demo", {"team": "a"})],
        [
            obj(
                "CiliumClusterwideNetworkPolicy",
                "x",
                "",
                {"global-services.edgemesh.io/managed": "true"},
            )
        ],
    )
    assert gs.cleanup(found, {}) == {"delete": [], "release": []}


def test_cleanup_refuses_other_shapes():
    with pytest.raises(gs.ServiceError, match="registered loop of k8s_info"):
        gs.cleanup([], {})
    with pytest.raises(gs.ServiceError, match="lookup 0: resources 'x' is not a list"):
        gs.cleanup({"results": [{"resources": "x"}]}, {})
    with pytest.raises(gs.ServiceError, match="lookup 0: .* has no kind and metadata.name"):
        gs.cleanup(listed([{"metadata": {}}]), {})
    with pytest.raises(gs.ServiceError, match="allowed: a mapping of keys"):
        gs.cleanup(listed(), [])


def test_role_lookups_equal_the_module():
    role_vars = yaml.safe_load((ROOT / "roles/global_services/vars/main.yml").read_text())
    assert role_vars["_global_services_managed_lookups"] == list(gs.MANAGED_LOOKUPS)

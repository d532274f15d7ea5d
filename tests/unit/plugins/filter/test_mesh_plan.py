# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh_plan filter: a thin wrapper that turns PlanError into AnsibleFilterError."""

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.mesh_plan import (
    FilterModule,
    mesh_plan,
)

CLUSTERS = [
    {
        "group": "cluster_a",
        "vars": {"edgemesh_cluster_name": "a", "edgemesh_region": "eu"},
        "nodes": [{"host": "a1", "ip": "192.0.2.1", "role": "server"}],
    },
    {
        "group": "cluster_b",
        "vars": {"edgemesh_cluster_name": "b", "edgemesh_region": "us"},
        "nodes": [{"host": "b1", "ip": "192.0.2.2", "role": "server"}],
    },
]


class TaggedStr(str):
    """Stands in for the str subclasses a templating engine hands to filters."""


def test_registered_name():
    assert FilterModule().filters() == {"mesh_plan": mesh_plan}


def test_returns_plan_state_and_state_text():
    result = mesh_plan(CLUSTERS, {"edgemesh_cilium_version": "1.20.0"})
    assert sorted(result) == ["plan", "state", "state_json"]
    assert result["plan"]["mesh"]["cilium_version"] == "1.20.0"
    assert json.loads(result["state_json"]) == result["state"]
    assert result["state_json"] == json.dumps(result["state"], sort_keys=True, indent=2) + "\n"


def test_state_text_round_trip_is_stable():
    first = mesh_plan(CLUSTERS)
    second = mesh_plan(CLUSTERS[::-1], {}, first["state_json"])
    assert second["state_json"] == first["state_json"]
    assert second["plan"] == first["plan"]


def test_output_is_plain_python():
    clusters = json.loads(json.dumps(CLUSTERS))
    clusters[0]["vars"]["edgemesh_cluster_name"] = TaggedStr("a")
    result = mesh_plan(clusters)
    assert result["plan"]["clusters"][0]["name"].__class__ is str


def test_refusal_is_a_filter_error_with_prefix():
    bad = json.loads(json.dumps(CLUSTERS))
    bad[1]["vars"]["edgemesh_cluster_name"] = "a"
    with pytest.raises(AnsibleFilterError) as info:
        mesh_plan(bad)
    assert str(info.value).startswith("mesh_plan: edgemesh_cluster_name 'a' is used by groups")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("x",), "the input must be the cluster list from inventory_clusters, got str"),
        ((CLUSTERS, ["x"]), "settings must be a mapping of edgemesh_* variables, got list"),
        ((CLUSTERS, {}, 5), "state must be a mapping or the JSON text of the state file, got int"),
    ],
)
def test_argument_checks(args, fragment):
    with pytest.raises(AnsibleFilterError) as info:
        mesh_plan(*args)
    assert str(info.value) == "mesh_plan: " + fragment

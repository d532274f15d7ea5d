# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh_artifacts filter: a thin wrapper around render_artifacts."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.mesh_artifacts import (
    FilterModule,
    mesh_artifacts,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.filter.mesh_plan import mesh_plan

CLUSTERS = [
    {
        "group": "cluster_a",
        "vars": {"edgemesh_cluster_name": "a", "edgemesh_region": "eu"},
        "nodes": [{"host": "a1", "ip": "192.0.2.1", "role": "server"}],
    }
]


def test_registered_name():
    assert FilterModule().filters() == {"mesh_artifacts": mesh_artifacts}


def test_renders_every_file():
    plan = mesh_plan(CLUSTERS)["plan"]
    files = mesh_artifacts(plan)
    assert sorted(files) == [
        "a/cilium-values.yaml",
        "plan.json",
        "plan.md",
        "summary.txt",
    ]
    assert files == mesh_artifacts(plan, {"cilium_unrelated_knob": 1})


@pytest.mark.parametrize(
    "args, message",
    [
        (("plan",), "mesh_artifacts: the input must be the plan from mesh_plan, got str"),
        (({}, "x"), "mesh_artifacts: options must be a mapping of cilium_* knobs, got str"),
    ],
)
def test_argument_checks(args, message):
    with pytest.raises(AnsibleFilterError) as info:
        mesh_artifacts(*args)
    assert str(info.value) == message


def test_render_errors_are_filter_errors():
    plan = mesh_plan(CLUSTERS)["plan"]
    with pytest.raises(AnsibleFilterError) as info:
        mesh_artifacts(plan, {"cilium_hubble": "yes"})
    assert str(info.value).startswith("mesh_artifacts: cluster 'a': cilium-values.yaml:")


def test_state_file_is_derived_from_the_plan_0600():
    result = mesh_plan(CLUSTERS)
    files = mesh_artifacts(result["plan"], {}, state_file="/srv/mesh/mesh-state.json")
    assert files["/srv/mesh/mesh-state.json"] == {"content": result["state_json"], "mode": "0600"}
    assert mesh_artifacts(result, {}, state_file="s.json")["s.json"]["content"] == (
        result["state_json"]
    )
    assert "/srv/mesh/mesh-state.json" not in mesh_artifacts(result)
    with pytest.raises(AnsibleFilterError) as info:
        mesh_artifacts(result, {}, state_file=5)
    assert "state_file must be a path, got int" in str(info.value)


def test_paths_limit_what_is_rendered():
    plan = mesh_plan(CLUSTERS)["plan"]
    assert sorted(mesh_artifacts(plan, {}, ["summary.txt"])) == ["summary.txt"]
    with pytest.raises(AnsibleFilterError) as info:
        mesh_artifacts(plan, {}, ["nope.txt"])
    assert "paths nope.txt are not files of this plan" in str(info.value)
    with pytest.raises(AnsibleFilterError) as info:
        mesh_artifacts(plan, {}, "summary.txt")
    assert "paths must be a list of relative paths" in str(info.value)

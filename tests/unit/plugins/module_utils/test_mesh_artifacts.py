# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendered artifacts of the plan: contents, byte stability, errors."""

import json

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    bootstrap_files,
    cilium_values,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_artifacts import (
    MERMAID_FULL_MESH_MAX,
    ArtifactError,
    change_lines,
    plan_changes,
    render_artifacts,
    summary_table,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (
    plan_mesh,
    state_from_plan,
)


def cluster(name, region, ip, distribution="k3s", agents=()):
    nodes = [{"host": name + "-1", "ip": ip, "role": "server"}]
    for i, agent in enumerate(agents):
        nodes.append({"host": "%s-%d" % (name, i + 2), "ip": agent, "role": "agent"})
    return {
        "group": "cluster_" + name.replace("-", "_"),
        "vars": {
            "edgemesh_cluster_name": name,
            "edgemesh_region": region,
            "edgemesh_distribution": distribution,
        },
        "nodes": nodes,
    }


THREE = [
    cluster("eu-core", "eu-west", "192.0.2.11", agents=["192.0.2.12", "192.0.2.13"]),
    cluster("eu-edge-1", "eu-west", "198.51.100.21"),
    cluster("us-core", "us-east", "203.0.113.31", distribution="kubeadm", agents=["203.0.113.32"]),
]


@pytest.fixture(name="plan")
def fixture_plan():
    return plan_mesh(THREE, {}, None)["plan"]


def test_paths(plan):
    files = render_artifacts(plan, {})
    assert sorted(files) == [
        "eu-core/cilium-values.yaml",
        "eu-edge-1/cilium-values.yaml",
        "plan.json",
        "plan.md",
        "summary.txt",
        "us-core/cilium-values.yaml",
    ]


def test_plan_json_is_sorted_indented_and_ends_with_newline(plan):
    text = render_artifacts(plan, {})["plan.json"]
    assert json.loads(text) == plan
    assert text == json.dumps(plan, sort_keys=True, indent=2) + "\n"
    assert text.index('"clusters"') < text.index('"mesh"')


def test_byte_stable_across_renders_and_input_order(plan):
    first = render_artifacts(plan, {"cilium_hubble": False})
    second = render_artifacts(plan_mesh(THREE[::-1], {}, None)["plan"], {"cilium_hubble": False})
    assert first == second


def test_bootstrap_previews_are_added_with_the_hosts_variables(plan):
    """The old k3s-config.yaml / kubeadm-config.yaml excerpts became complete previews; what
    they held is asserted in tests/unit/plugins/module_utils/test_bootstrap_files.py."""
    files = render_artifacts(plan, {}, bootstrap_hostvars={})
    previews = bootstrap_files.preview_files(plan, {}, "build")
    assert previews and all(files[path] == text for path, text in previews.items())
    assert set(files) - set(previews) == set(render_artifacts(plan, {}))
    with pytest.raises(ArtifactError, match="^bootstrap file previews: host "):
        render_artifacts(plan, {}, bootstrap_hostvars={"eu-core-1": {"k3s_disable": "{{ x }}"}})


def test_cilium_values_come_from_the_values_engine(plan):
    files = render_artifacts(plan, {"cilium_routing_mode": "native"})
    values = yaml.safe_load(files["eu-core/cilium-values.yaml"])
    assert values == cilium_values.cluster_values(plan, "eu-core", {"routing_mode": "native"})
    assert values["cluster"] == {"name": "eu-core", "id": 1}
    assert values["ipam"]["mode"] == "cluster-pool"
    assert values["ipam"]["operator"]["clusterPoolIPv4PodCIDRList"] == ["10.0.0.0/16"]
    assert values["clustermesh"]["maxConnectedClusters"] == 255
    assert values["clustermesh"]["apiserver"]["service"]["nodePort"] == 32379
    assert sorted(values["clustermesh"]["config"]["clusters"]) == ["eu-edge-1", "us-core"]


def test_unknown_knobs_are_left_to_other_parts(plan):
    plain_files = render_artifacts(plan, {})
    files = render_artifacts(plan, {"cilium_helm_timeout": "5m", "node_prep_sysctls": {}})
    assert files == plain_files


def test_ca_material_never_lands_in_rendered_files(plan):
    pem = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n"
    files = render_artifacts(plan, {"cilium_ca_cert": pem, "cilium_ca_key": pem})
    assert files == render_artifacts(plan, {})
    assert all(
        "tls" not in yaml.safe_load(t) for p, t in files.items() if p.endswith("values.yaml")
    )


def test_values_engine_errors_name_the_cluster(plan):
    with pytest.raises(ArtifactError) as info:
        render_artifacts(plan, {"cilium_routing_mode": "bgp"})
    assert "cluster 'eu-core': cilium-values.yaml:" in str(info.value)
    assert "routing_mode" in str(info.value)


@pytest.mark.parametrize(
    "plan, fragment", [({}, "not a mapping with 'mesh'"), ([], "not a mapping")]
)
def test_bad_plan(plan, fragment):
    with pytest.raises(ArtifactError) as info:
        render_artifacts(plan, {})
    assert fragment in str(info.value)


def test_bad_options(plan):
    with pytest.raises(ArtifactError) as info:
        render_artifacts(plan, ["x"])
    assert "options must be a mapping" in str(info.value)


def test_plan_md_table_and_full_mesh_diagram(plan):
    text = render_artifacts(plan, {})["plan.md"]
    assert (
        "| eu-core | 1 | eu-west | k3s | 10.0.0.0/16 | 172.16.0.0/20 | 172.16.0.10 | 32379 |"
        in text
    )
    assert "```mermaid\nflowchart LR\n" in text
    assert '  subgraph r0["region eu-west"]' in text
    assert '    c2["us-core<br/>id 3, kubeadm, 2 nodes"]' in text
    assert '    c1["eu-edge-1<br/>id 2, k3s, 1 node"]' in text
    links = [line for line in text.splitlines() if "<-->" in line]
    assert links == ["  c0 <--> c1", "  c0 <--> c2", "  c1 <--> c2"]
    assert "3 clusters in 2 regions" in text and "(3 mesh links)" in text


def test_plan_md_draws_region_links_for_large_meshes():
    clusters = [
        cluster("c%02d" % i, "eu" if i < 10 else "us", "192.0.2.%d" % (i + 1))
        for i in range(MERMAID_FULL_MESH_MAX + 3)
    ]
    text = render_artifacts(plan_mesh(clusters, {}, None)["plan"], {})["plan.md"]
    links = [line for line in text.splitlines() if "<-->" in line]
    # issue 13, finding 11: no region links to itself; the links inside a region are
    # counted in its box (45 = 10*9/2 in eu, 10 = 5*4/2 in us), 50 = 10*5 between them.
    assert links == ['  r0 <-->|"50 links"| r1']
    assert '  r0["region eu<br/>10 clusters, 45 links inside"]' in text
    assert '  r1["region us<br/>5 clusters, 10 links inside"]' in text
    assert "c00" not in text.split("```mermaid")[1]


def _mermaid_block(text):
    return text.split("```mermaid\n")[1].split("```")[0].splitlines()


def test_mermaid_at_255_clusters_is_region_level_without_self_links():
    """255 clusters in 8 regions: 8 region boxes and 28 region pairs, not 32,385 links."""
    clusters = [
        cluster("c%03d" % i, "region-%d" % (i % 8), "100.64.%d.%d" % (i // 250, i % 250 + 1))
        for i in range(255)
    ]
    block = _mermaid_block(render_artifacts(plan_mesh(clusters, {}, None)["plan"], {})["plan.md"])
    links = [line for line in block if "<-->" in line]
    assert len(links) == 28
    for line in links:
        left, right = line.split("<-->")
        assert left.strip() != right.split("|")[-1].strip()
    assert (
        sum(int(line.split('"')[1].split()[0]) for line in links)
        + sum(int(line.split("clusters, ")[1].split()[0]) for line in block if "inside" in line)
        == 255 * 254 // 2
    )
    assert len(block) == 1 + 8 + 28  # "flowchart LR", the regions, the region pairs


def test_mermaid_full_mesh_up_to_the_threshold():
    clusters = [
        cluster("c%02d" % i, "eu" if i % 2 else "us", "192.0.2.%d" % (i + 1))
        for i in range(MERMAID_FULL_MESH_MAX)
    ]
    block = _mermaid_block(render_artifacts(plan_mesh(clusters, {}, None)["plan"], {})["plan.md"])
    links = [line for line in block if "<-->" in line]
    n = MERMAID_FULL_MESH_MAX
    assert len(links) == n * (n - 1) // 2
    assert all(line.startswith("  c") and "|" not in line for line in links)
    assert len(set(links)) == len(links)


def test_summary_table(plan):
    text = summary_table(plan)
    lines = text.splitlines()
    assert lines[0].split() == [
        "CLUSTER",
        "ID",
        "REGION",
        "DIST",
        "POD",
        "CIDRS",
        "SERVICE",
        "CIDRS",
        "DNS",
        "NODEPORT",
        "SERVERS",
        "AGENTS",
    ]
    assert lines[1].split() == [
        "eu-core",
        "1",
        "eu-west",
        "k3s",
        "10.0.0.0/16",
        "172.16.0.0/20",
        "172.16.0.10",
        "32379",
        "192.0.2.11",
        "2",
    ]
    columns = [line.index("172.16") for line in lines[1:4]]
    assert len(set(columns)) == 1
    assert (
        lines[-1]
        == "3 clusters in 2 regions, Cilium 1.19.6, maxConnectedClusters 255, 3 mesh links"
    )
    assert render_artifacts(plan, {})["summary.txt"] == text


def test_summary_lists_inactive_clusters():
    state = plan_mesh(THREE, {}, None)["state"]
    plan = plan_mesh(THREE[1:], {"edgemesh_remove_clusters": ["eu-core"]}, state)["plan"]
    text = summary_table(plan)
    assert "kept in the state file (left the inventory; IDs and CIDRs reserved): eu-core" in text
    assert "eu-core" in render_artifacts(plan, {})["plan.md"].split("Kept in the state file")[1]


def test_servers_column_is_shortened():
    many = cluster("big", "eu", "192.0.2.1")
    many["nodes"] += [
        {"host": "s%d" % i, "ip": "192.0.2.%d" % (i + 10), "role": "server"} for i in range(4)
    ]
    text = summary_table(plan_mesh([many], {}, None)["plan"])
    assert "192.0.2.1, 192.0.2.10, 192.0.2.11 +2" in text


# ------------------------------------------------------------------- the YAML emitter

from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_artifacts import (  # noqa: E402
    yaml_text,
)

TRICKY = [
    "yes",
    "no",
    "on",
    "null",
    "~",
    "true",
    "1.0",
    "0x1F",
    "0o17",
    "12:30",
    "2001:0:1",
    "fd00::/56",
    "::1",
    "-x",
    "a: b",
    "a #b",
    "trail:",
    "",
    " lead",
    "tab\there",
    "line\nbreak",
    'quote"s',
    "back\\slash",
    "h\u00e9llo",
    "emoji \U0001f600",
    "\u2028",
    "=",
    "<<",
    ".inf",
    "10.0.0.0/16",
    "*alias",
    "&anchor",
    "!tag",
    "%percent",
    "@at",
    "`tick",
    "{brace}",
    "[list]",
    "a,b",
    "?q",
    "|pipe",
    ">gt",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.sampled_from(TRICKY),
    st.text(max_size=12),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(TRICKY), st.text(max_size=6)), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.dictionaries(st.text(max_size=8), json_like, min_size=1, max_size=5))
@example({"A\n": None, "": None})  # '$' matched before a final newline: emitted plain
def test_yaml_text_round_trips_through_pyyaml(data):
    assert yaml.safe_load(yaml_text(data)) == data


@pytest.mark.parametrize("value", TRICKY)
def test_yaml_text_tricky_scalars(value):
    assert yaml.safe_load(yaml_text({"k": value, value: [value, {value: value}]})) == {
        "k": value,
        value: [value, {value: value}],
    }


def test_yaml_text_layout():
    text = yaml_text({"b": [{"name": "x", "ips": ["1.2.3.4"]}, [1, 2], {}], "a": {}, "c": "yes"})
    assert text == (
        "---\n"
        "a: {}\n"
        "b:\n"
        "  - ips:\n"
        "      - 1.2.3.4\n"
        "    name: x\n"
        "  -\n"
        "    - 1\n"
        "    - 2\n"
        "  - {}\n"
        'c: "yes"\n'
    )


def test_yaml_text_refuses_what_it_cannot_render():
    with pytest.raises(ArtifactError):
        yaml_text({"k": object()})
    with pytest.raises(ArtifactError):
        yaml_text({})


# --- what changed since the last plan (issue 13, finding 11) ---------------------------


def _replan(clusters, previous, **settings):
    state = state_from_plan(previous) if previous else None
    return plan_mesh(clusters, settings, state)["plan"]


def test_first_plan_says_so(plan):
    changes = plan_changes(None, plan)
    assert changes["first"] and change_lines(changes) == [
        "first plan of this output directory (no previous plan.json)"
    ]


def test_unchanged_replan(plan):
    changes = plan_changes(plan, _replan(THREE, plan))
    assert change_lines(changes) == ["no change since the last plan"]
    assert not changes["added"] and not changes["clusters"] and not changes["peers"]


def test_added_cluster_joins_every_peer_list(plan):
    new = _replan(THREE + [cluster("ap-core", "ap-south", "192.0.2.77")], plan)
    changes = plan_changes(plan, new)
    assert changes["added"] == ["ap-core"]
    assert changes["peers"] == dict(
        (name, {"added": ["ap-core"], "removed": []})
        for name in ("eu-core", "eu-edge-1", "us-core")
    )
    assert change_lines(changes) == [
        "clusters added: ap-core",
        "peers of 3 clusters (eu-core, eu-edge-1, us-core): +ap-core",
    ]


def test_removed_then_released(plan):
    removed = _replan(THREE[:2], plan, edgemesh_remove_clusters=["us-core"])
    changes = plan_changes(plan, removed)
    assert changes["removed"] == ["us-core"] and changes["released"] == []
    assert change_lines(changes) == [
        "clusters removed (IDs, CIDRs and NodePort stay reserved): us-core",
        "peers of 2 clusters (eu-core, eu-edge-1): -us-core",
    ]
    released = _replan(THREE[:2], removed, edgemesh_release_clusters=["us-core"])
    changes = plan_changes(removed, released)
    assert changes["released"] == ["us-core"] and not changes["peers"]
    assert change_lines(changes) == ["clusters released (reservations dropped): us-core"]
    back = plan_changes(removed, _replan(THREE, removed))
    assert back["returned"] == ["us-core"] and back["added"] == []
    assert "clusters back from reserved: us-core" in change_lines(back)


def test_field_and_mesh_changes_are_listed():
    before = plan_mesh(THREE, {}, None)["plan"]
    after = json.loads(json.dumps(before))
    after["clusters"][0]["id"] = 9
    after["clusters"][0]["pod_cidrs"] = ["10.9.0.0/16"]
    after["clusters"][2]["clustermesh_nodeport"] = 32000
    after["mesh"]["cilium_version"] = "1.19.7"
    changes = plan_changes(before, after)
    assert changes["clusters"] == {
        "eu-core": {"id": [1, 9], "pod_cidrs": [["10.0.0.0/16"], ["10.9.0.0/16"]]},
        "us-core": {"clustermesh_nodeport": [32381, 32000]},
    }
    assert change_lines(changes) == [
        "mesh cilium_version: 1.19.6 -> 1.19.7",
        "eu-core id: 1 -> 9",
        "eu-core pod_cidrs: 10.0.0.0/16 -> 10.9.0.0/16",
        "us-core clustermesh_nodeport: 32381 -> 32000",
    ]


@pytest.mark.parametrize(
    "previous",
    [
        {"clusters": [1, {"id": 3}], "mesh": "x"},
        {"clusters": [{"name": "eu-core", "peers": 5}], "mesh": {"inactive_clusters": 7}},
    ],
)
def test_a_hand_edited_previous_plan_is_no_traceback(plan, previous):
    changes = plan_changes(previous, plan)
    assert "eu-edge-1" in changes["added"] or "eu-core" in changes["clusters"]
    assert change_lines(changes)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one schema of the state file: every message, the canonical text, property tests.

The planner's own bad-state cases (test_mesh_planner.py, ``test_refuses_bad_state`` and
``test_refuses_duplicate_ids_in_state``) are repeated here against ``parse_state``, so the
planner can read its state through this module and keep those assertions.
"""

import copy
import json
import re

import netaddr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    mesh_planner,
    mesh_rules,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    mesh_state_schema as schema,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_state_schema import (
    MeshState,
    StateEntry,
    StateError,
    dump_state,
    parse_state,
    to_dict,
)


def a_state(**clusters):
    state = {
        "format": 1,
        "max_connected_clusters": 255,
        "clusters": {
            "eu-core": {
                "id": 1,
                "pod_cidrs": ["10.1.0.0/16", "fd00:10:1::/56"],
                "service_cidrs": ["172.16.0.0/20", "fd00:20::/112"],
                "clustermesh_nodeport": 32379,
                "active": True,
            },
            "us-core": {
                "id": 2,
                "pod_cidrs": ["10.2.0.0/16"],
                "service_cidrs": ["172.16.16.0/20"],
                "clustermesh_nodeport": 32380,
                "active": False,
            },
        },
    }
    state["clusters"].update(clusters)
    return state


def refusal(data, where="state file"):
    with pytest.raises(StateError) as info:
        parse_state(data, where)
    return info.value


def mutated(change):
    state = a_state()
    change(state)
    return state


def entry(**changes):
    """a_state() with the entry of 'us-core' changed (a value None deletes the key)."""
    state = a_state()
    for key, value in changes.items():
        if value is None:
            state["clusters"]["us-core"].pop(key)
        else:
            state["clusters"]["us-core"][key] = value
    return state


# ---------------------------------------------------------------- valid and empty states


def test_valid_state_parses_into_named_dataclasses():
    state = parse_state(a_state())
    assert state.format == 1 and state.max_connected_clusters == 255
    core = state.clusters["eu-core"]
    assert core == StateEntry(
        "eu-core",
        1,
        ("10.1.0.0/16", "fd00:10:1::/56"),
        ("172.16.0.0/20", "fd00:20::/112"),
        32379,
        True,
    )
    assert state.clusters["us-core"].active is False
    nets = core.networks()
    assert sorted(nets) == [("pod", 4), ("pod", 6), ("service", 4), ("service", 6)]
    assert str(nets[("service", 6)]) == "fd00:20::/112"
    assert to_dict(state) == a_state()


@pytest.mark.parametrize("empty", [None, "", "  \n", b"", {}, "{}"])
def test_empty_inputs_are_the_empty_state(empty):
    assert parse_state(empty) == MeshState(1, 255, {})
    assert to_dict(parse_state(empty)) == {
        "format": 1,
        "max_connected_clusters": 255,
        "clusters": {},
    }


def test_text_bytes_mappings_and_mesh_states_are_accepted():
    text = json.dumps(a_state())
    assert parse_state(text) == parse_state(text.encode()) == parse_state(a_state())
    assert parse_state(parse_state(text)) == parse_state(text)


def test_optional_keys_default_and_stay_out_of_the_canonical_form():
    """A recovered state may lack CIDRs and the NodePort; a null NodePort is not recorded."""
    minimal = {"format": 1, "max_connected_clusters": 511, "clusters": {"lab": {"id": 300}}}
    state = parse_state(minimal)
    assert state.clusters["lab"] == StateEntry("lab", 300)
    assert to_dict(state)["clusters"]["lab"] == {"id": 300, "active": True}
    unknown_port = entry(clustermesh_nodeport=None, service_cidrs=[])
    unknown_port["clusters"]["us-core"]["clustermesh_nodeport"] = None
    assert "clustermesh_nodeport" not in to_dict(parse_state(unknown_port))["clusters"]["us-core"]


# ------------------------------------------------------------------- structural refusals


@pytest.mark.parametrize(
    "data, message",
    [
        (
            "{not json",
            "state file: not valid JSON (Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)); allowed: a file this planner wrote",
        ),
        ([1, 2], "state file: expected a JSON object, got list"),
        ("[1, 2]", "state file: expected a JSON object, got list"),
        ({"clusters": {}}, "state file: format is missing; allowed: 1"),
        ({"format": 2, "clusters": {}}, "state file: format 2 is not supported; allowed: 1"),
        ({"format": True}, "state file: format True is not supported; allowed: 1"),
        ({"format": "1"}, "state file: format '1' is not supported; allowed: 1"),
    ],
)
def test_structural_faults_stop_at_once(data, message):
    error = refusal(data)
    assert str(error) == message
    assert error.problems == [message] and error.where == "state file"


# ---------------------------------------------------------------- every collected message


@pytest.mark.parametrize(
    "data, message",
    [
        (
            mutated(lambda s: s.update(cluster={})),
            "state file: unknown key 'cluster'; did you mean 'clusters'? allowed: clusters, "
            "format, max_connected_clusters",
        ),
        (
            mutated(lambda s: s.update(zzz=1)),
            "state file: unknown key 'zzz'; allowed: clusters, format, max_connected_clusters",
        ),
        (
            mutated(lambda s: s.pop("max_connected_clusters")),
            "state file: max_connected_clusters is missing; allowed: 255 or 511",
        ),
        (
            mutated(lambda s: s.update(max_connected_clusters=300)),
            "state file: max_connected_clusters 300 is not allowed; allowed: 255 or 511",
        ),
        (
            mutated(lambda s: s.update(max_connected_clusters="255")),
            "state file: max_connected_clusters '255' is not allowed; allowed: 255 or 511",
        ),
        (
            mutated(lambda s: s.update(max_connected_clusters=True)),
            "state file: max_connected_clusters True is not allowed; allowed: 255 or 511",
        ),
        (
            mutated(lambda s: s.pop("clusters")),
            "state file: 'clusters' is missing; allowed: an object keyed by cluster name",
        ),
        (
            mutated(lambda s: s.update(clusters=[])),
            "state file: 'clusters' must be an object keyed by cluster name, got list",
        ),
        (
            mutated(lambda s: s["clusters"].update(x=[])),
            "state file: cluster 'x': expected an object, got list",
        ),
        (
            mutated(lambda s: s["clusters"].update(EU={"id": 9})),
            "state file: cluster name 'EU' is not allowed; allowed: "
            + mesh_rules.CLUSTER_NAME_ALLOWED,
        ),
        (
            mutated(lambda s: s["clusters"].update(default={"id": 9})),
            "state file: cluster name 'default' is not allowed; allowed: "
            + mesh_rules.CLUSTER_NAME_ALLOWED,
        ),
        (
            mutated(lambda s: s["clusters"].update({"a" * 33: {"id": 9}})),
            "state file: cluster name '%s' has 33 characters; allowed: %s"
            % ("a" * 33, mesh_rules.CLUSTER_NAME_ALLOWED),
        ),
        (
            entry(clustermesh_node_port=32000),
            "state file: cluster 'us-core': unknown key 'clustermesh_node_port'; did you mean "
            "'clustermesh_nodeport'? allowed: active, cilium_version, clustermesh_nodeport, id, "
            "pod_cidrs, service_cidrs",
        ),
        (entry(id=None), "state file: cluster 'us-core': id is missing; allowed: 1-255"),
        (entry(id=0), "state file: cluster 'us-core': id 0 is not allowed; allowed: 1-255"),
        (entry(id=256), "state file: cluster 'us-core': id 256 is not allowed; allowed: 1-255"),
        (entry(id=True), "state file: cluster 'us-core': id True is not allowed; allowed: 1-255"),
        (entry(id="2"), "state file: cluster 'us-core': id '2' is not allowed; allowed: 1-255"),
        (entry(id=2.0), "state file: cluster 'us-core': id 2.0 is not allowed; allowed: 1-255"),
        (
            entry(clustermesh_nodeport=8080),
            "state file: cluster 'us-core': clustermesh_nodeport 8080 is not allowed; "
            "allowed: 30000-32767",
        ),
        (
            entry(clustermesh_nodeport=80),
            "state file: cluster 'us-core': clustermesh_nodeport 80 is not allowed; "
            "allowed: 30000-32767",
        ),
        (
            entry(clustermesh_nodeport="32380"),
            "state file: cluster 'us-core': clustermesh_nodeport '32380' is not allowed; "
            "allowed: 30000-32767",
        ),
        (
            entry(active="yes"),
            "state file: cluster 'us-core': active 'yes' is not allowed; allowed: true or false",
        ),
        (
            entry(pod_cidrs="10.2.0.0/16"),
            "state file: cluster 'us-core': pod_cidrs '10.2.0.0/16' is not a list; allowed: a "
            "list of CIDRs, one per address family",
        ),
        (
            entry(service_cidrs=["172.16.16.0"]),
            "state file: cluster 'us-core': service_cidrs entry '172.16.16.0' is not a CIDR "
            "(address/prefix); allowed: " + schema.CIDR_ALLOWED,
        ),
        (
            entry(service_cidrs=[5]),
            "state file: cluster 'us-core': service_cidrs entry 5 is not a CIDR "
            "(address/prefix); allowed: " + schema.CIDR_ALLOWED,
        ),
        (
            entry(pod_cidrs=["10.2.0.300/16"]),
            "state file: cluster 'us-core': pod_cidrs entry '10.2.0.300/16' is not a valid "
            "CIDR; allowed: " + schema.CIDR_ALLOWED,
        ),
        (
            entry(pod_cidrs=["10.2.0.1/16"]),
            "state file: cluster 'us-core': pod_cidrs entry '10.2.0.1/16' has host bits set "
            "(the network address is 10.2.0.0/16); allowed: " + schema.CIDR_ALLOWED,
        ),
        (
            entry(pod_cidrs=["FD00:10:2::/56"]),
            "state file: cluster 'us-core': pod_cidrs entry 'FD00:10:2::/56' is not written "
            "canonically (the planner writes fd00:10:2::/56); allowed: " + schema.CIDR_ALLOWED,
        ),
        (
            entry(pod_cidrs=["10.2.0.0/17", "10.2.128.0/17"]),
            "state file: cluster 'us-core': pod_cidrs holds two CIDRs of one address family "
            "(IPv4: 10.2.0.0/17, 10.2.128.0/17); allowed: one per address family",
        ),
        (
            entry(id=1),
            "state file: cluster ID 1 is claimed by clusters 'eu-core' and 'us-core'; allowed: "
            "a unique cluster ID per cluster",
        ),
        (
            entry(pod_cidrs=["10.1.128.0/17"]),
            "state file: cluster 'eu-core' pod CIDR 10.1.0.0/16 overlaps cluster 'us-core' pod "
            "CIDR 10.1.128.0/17; allowed: disjoint pod and service CIDRs across the mesh",
        ),
        (
            entry(service_cidrs=["10.2.255.0/24"]),
            "state file: cluster 'us-core' pod CIDR 10.2.0.0/16 overlaps cluster 'us-core' "
            "service CIDR 10.2.255.0/24; allowed: disjoint pod and service CIDRs across the mesh",
        ),
    ],
)
def test_every_problem_names_where_cluster_key_value_and_allowed(data, message):
    error = refusal(data)
    assert str(error) == message
    assert error.problems == [message]


def test_the_id_range_follows_max_connected_clusters():
    wide = entry(id=511)
    wide["max_connected_clusters"] = 511
    assert parse_state(wide).clusters["us-core"].id == 511
    wide["clusters"]["us-core"]["id"] = 512
    assert str(refusal(wide)) == (
        "state file: cluster 'us-core': id 512 is not allowed; allowed: 1-511"
    )
    wide["max_connected_clusters"] = 1023  # unknown range: IDs are checked against 1-511
    assert refusal(wide).problems == [
        "state file: max_connected_clusters 1023 is not allowed; allowed: 255 or 511",
        "state file: cluster 'us-core': id 512 is not allowed; allowed: 1-511",
    ]


def test_families_do_not_overlap_each_other():
    state = entry(pod_cidrs=["10.2.0.0/16", "fd00:10:1::/56"])
    assert "fd00:10:1::/56" in str(refusal(state))  # same v6 block as eu-core
    state = entry(pod_cidrs=["10.2.0.0/16", "fd00:10:2::/56"])
    assert parse_state(state).clusters["us-core"].pod_cidrs == ("10.2.0.0/16", "fd00:10:2::/56")


def test_all_problems_are_collected_into_one_error():
    state = a_state()
    state["max_connected_clusters"] = 300
    state["clusters"]["us-core"].update(id=1, clustermesh_nodeport=8080, active="no")
    state["clusters"]["Bad"] = {"id": 3, "pod_cidrs": ["10.1.0.0/24"], "colour": "red"}
    error = refusal(state, "Secret ns/s key mesh-state.json")
    assert error.where == "Secret ns/s key mesh-state.json"
    assert [re.sub(r";.*", "", p) for p in error.problems] == [
        "Secret ns/s key mesh-state.json: max_connected_clusters 300 is not allowed",
        "Secret ns/s key mesh-state.json: cluster name 'Bad' is not allowed",
        "Secret ns/s key mesh-state.json: cluster 'Bad': unknown key 'colour'",
        "Secret ns/s key mesh-state.json: cluster 'us-core': clustermesh_nodeport 8080 is not "
        "allowed",
        "Secret ns/s key mesh-state.json: cluster 'us-core': active 'no' is not allowed",
        "Secret ns/s key mesh-state.json: cluster 'eu-core' pod CIDR 10.1.0.0/16 overlaps "
        "cluster 'Bad' pod CIDR 10.1.0.0/24",
    ]
    assert str(error) == "; ".join(error.problems)


def test_missing_netaddr_is_a_message(monkeypatch):
    """netaddr is installed here; the HAS_NETADDR switch stands in for a control node
    without it (the import pattern of mesh_planner)."""
    monkeypatch.setattr(schema, "HAS_NETADDR", False)
    monkeypatch.setattr(schema, "NETADDR_IMPORT_ERROR", ImportError("No module named 'netaddr'"))
    assert str(refusal(a_state())) == (
        "state file: the Python library netaddr is required to read the state (install it "
        "with: pip install netaddr): No module named 'netaddr'"
    )


# --------------------------------------------------- what the planner asserts, via parse_state


@pytest.mark.parametrize(
    "state, fragment",
    [
        ("{not json", "state file: not valid JSON"),
        ([1, 2], "state file: expected a JSON object, got list"),
        ({"format": 2, "clusters": {}}, "state file: format 2 is not supported; allowed: 1"),
        (
            {"format": 1, "max_connected_clusters": 255, "clusters": {"x": {"id": 0}}},
            "state file: cluster 'x': id 0 is not allowed; allowed: 1-255",
        ),
        (
            {
                "format": 1,
                "max_connected_clusters": 255,
                "clusters": {"x": {"id": 1, "pod_cidrs": ["10.0.0.1/16"]}},
            },
            "state file: cluster 'x': pod_cidrs entry '10.0.0.1/16' has host bits set",
        ),
        (
            {
                "format": 1,
                "max_connected_clusters": 255,
                "clusters": {"x": {"id": 1, "clustermesh_nodeport": 80}},
            },
            "state file: cluster 'x': clustermesh_nodeport 80 is not allowed",
        ),
    ],
)
def test_planner_bad_state_fragments(state, fragment):
    assert fragment in str(refusal(state))


def test_planner_duplicate_id_fragment():
    state = mesh_planner.plan_mesh(PLANNED, {}, None)["state"]
    state["clusters"]["us-core"]["id"] = 1
    assert "cluster ID 1 is claimed by clusters 'eu-core' and 'us-core'" in str(refusal(state))


# ------------------------------------------------------------------------ canonical text


def cluster(name, ip):
    return {
        "group": "cluster_" + name.replace("-", "_"),
        "vars": {"edgemesh_cluster_name": name, "edgemesh_region": "eu-west"},
        "nodes": [{"host": name + "-1", "ip": ip, "role": "server"}],
    }


PLANNED = [cluster("eu-core", "192.0.2.11"), cluster("eu-edge-1", "192.0.2.21")]
PLANNED.append(cluster("us-core", "192.0.2.31"))
DUAL = {
    "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
    "edgemesh_service_cidr_pool_v6": ["fd00:20::/104"],
}


@pytest.mark.parametrize("settings_", [{}, DUAL], ids=["ipv4", "dual-stack"])
def test_dump_is_the_text_the_planner_writes(settings_):
    """Byte for byte, including a cluster that left the inventory (active false)."""
    first = mesh_planner.plan_mesh(PLANNED, settings_, None)["state"]
    removed = dict(settings_, edgemesh_remove_clusters=["eu-core"])
    second = mesh_planner.plan_mesh(PLANNED[1:], removed, first)["state"]
    assert second["clusters"]["eu-core"]["active"] is False
    for planned in (first, second):
        text = mesh_planner.dump_state(planned)
        assert dump_state(parse_state(text)) == text
        assert dump_state(planned) == text
        assert to_dict(parse_state(text)) == planned


def test_dump_sorts_keys_and_ends_with_a_newline():
    text = dump_state(parse_state(a_state()))
    assert text.endswith("}\n") and text.index('"clusters"') < text.index('"format"')
    assert text == json.dumps(a_state(), sort_keys=True, indent=2) + "\n"


def test_dump_refuses_an_invalid_state():
    broken = MeshState(1, 255, {"x": StateEntry("x", 0)})
    with pytest.raises(StateError, match=r"^state to write: cluster 'x': id 0 is not allowed"):
        dump_state(broken)


# ------------------------------------------------------------------------ property tests


@st.composite
def mesh_states(draw):
    mcc = draw(st.sampled_from(mesh_rules.MAX_CONNECTED_CLUSTERS))
    names = draw(
        st.lists(
            st.text(alphabet="ab01-", min_size=1, max_size=mesh_rules.CLUSTER_NAME_MAX).filter(
                mesh_rules.is_cluster_name
            ),
            max_size=8,
            unique=True,
        )
    )
    count = len(names)
    ids = draw(st.lists(st.integers(1, mcc), min_size=count, max_size=count, unique=True))
    blocks = draw(st.lists(st.integers(0, 255), min_size=count, max_size=count, unique=True))
    clusters = {}
    for name, cid, block in zip(names, ids, blocks):
        pods, services = [], []
        if draw(st.booleans()):
            pods.append("10.%d.0.0/16" % block)
        if draw(st.booleans()):
            services.append("172.16.%d.0/24" % block)
        if draw(st.booleans()):
            pods.append(str(netaddr.IPNetwork("fd00:10:%x::/56" % block)))
            services.append(str(netaddr.IPNetwork("fd00:20::%x:0/112" % block)))
        port = draw(st.none() | st.integers(*mesh_rules.NODEPORT_RANGE))
        clusters[name] = StateEntry(name, cid, pods, services, port, draw(st.booleans()))
    return MeshState(schema.STATE_FORMAT, mcc, clusters)


@settings(max_examples=200, deadline=None)
@given(mesh_states())
def test_round_trip_of_valid_states(state):
    text = dump_state(state)
    assert parse_state(text) == state
    assert dump_state(parse_state(text)) == text
    assert parse_state(to_dict(state)) == state
    reordered = to_dict(state)
    reordered["clusters"] = dict(reversed(list(reordered["clusters"].items())))
    assert dump_state(reordered) == text


@settings(max_examples=200, deadline=None)
@given(
    mesh_states().filter(lambda s: s.clusters),
    st.integers(-(2**20), 2**20).filter(lambda p: not mesh_rules.is_nodeport(p)) | st.booleans(),
)
def test_any_port_outside_the_nodeport_range_is_refused(state, port):
    data = to_dict(state)
    name = sorted(data["clusters"])[0]
    data["clusters"][name]["clustermesh_nodeport"] = port
    assert str(refusal(copy.deepcopy(data))) == (
        "state file: cluster '%s': clustermesh_nodeport %r is not allowed; allowed: %d-%d"
        % ((name, port) + mesh_rules.NODEPORT_RANGE)
    )

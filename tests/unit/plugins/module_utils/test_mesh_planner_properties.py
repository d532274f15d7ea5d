# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property (issue 13): a re-plan from any mix of typos, removed clusters, clusters missing
from the inventory, releases and new clusters is either refused or keeps every existing
cluster's ID, CIDRs and NodePort; it never silently drops a cluster or ignores a typo.

The pipeline is the one plan.yml runs: the inventory in ``ansible-inventory --list`` shape,
the unknown-variable check (known_vars.check_names), clusters_from_inventory, plan_mesh.
"""

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (
    PlanError,
    clusters_from_inventory,
    plan_mesh,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.plugin_utils import known_vars

NAMES = ["eu-core", "eu-edge-1", "eu-edge-2", "us-core", "us-edge-1", "ap-core", "ap-edge-1"]
KEYS = ["edgemesh_distribution", "edgemesh_cluster_id", "cilium_hubble_ui", "k3s_version"]
FIELDS = ("id", "pod_cidrs", "service_cidrs", "clustermesh_nodeport")
PROPERTY = settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def inventory(names, typos=()):
    """--list output: one group per cluster, one server each; typos land on host vars."""
    data = {"_meta": {"hostvars": {}}, "edgemesh_clusters": {"children": []}}
    for name in names:
        group = "cluster_" + name.replace("-", "_")
        host = name + "-1"
        data["edgemesh_clusters"]["children"].append(group)
        data[group] = {"hosts": [host]}
        data["_meta"]["hostvars"][host] = {
            "edgemesh_cluster_name": name,
            "edgemesh_region": name.split("-")[0],
            "ansible_host": "192.0.2.%d" % (NAMES.index(name) + 1),
            "edgemesh_node_role": "server",
        }
    for name, key, value in typos:
        if name in names:
            data["_meta"]["hostvars"][name + "-1"][key] = value
    return data


def plan_like_plan_yml(inv, settings_, state):
    names = set(k for hv in inv["_meta"]["hostvars"].values() for k in hv)
    allow = settings_.get(known_vars.ALLOW_VAR)
    known_vars.check_names(names, list(settings_), None, allow)
    return plan_mesh(clusters_from_inventory(inv), settings_, state)


@st.composite
def typo_of(draw):
    """A key of the collection with one character dropped, doubled or swapped."""
    key = draw(st.sampled_from(KEYS))
    at = draw(st.integers(min_value=len(key.split("_")[0]) + 2, max_value=len(key) - 2))
    how = draw(st.sampled_from(["drop", "double", "swap"]))
    if how == "drop":
        typo = key[:at] + key[at + 1 :]
    elif how == "double":
        typo = key[:at] + key[at] + key[at:]
    else:
        typo = key[:at] + key[at + 1] + key[at] + key[at + 2 :]
    return typo


@PROPERTY
@given(
    before=st.lists(st.sampled_from(NAMES), min_size=1, max_size=6, unique=True),
    after=st.lists(st.sampled_from(NAMES), min_size=1, max_size=7, unique=True),
    removed=st.lists(st.sampled_from(NAMES), max_size=4, unique=True),
    released=st.lists(st.sampled_from(NAMES), max_size=3, unique=True),
    typos=st.lists(
        st.tuples(st.sampled_from(NAMES), typo_of(), st.sampled_from(["kubeadm", "7", True])),
        max_size=2,
    ),
    allow_typos=st.booleans(),
    tidy=st.booleans(),
)
def test_property_refused_or_every_reservation_kept(
    before, after, removed, released, typos, allow_typos, tidy
):
    if tidy:  # half the cases name exactly what left, so that many plans go through
        removed = sorted(set(before) - set(after))
        released = [n for n in released if n not in after]
    first = plan_mesh(clusters_from_inventory(inventory(before)), {}, None)["state"]
    settings_ = {"edgemesh_remove_clusters": removed, "edgemesh_release_clusters": released}
    typos = [t for t in typos if t[1] not in known_vars.known_names()]
    if allow_typos:
        settings_[known_vars.ALLOW_VAR] = [t[1] for t in typos]
    try:
        result = plan_like_plan_yml(inventory(after, typos), settings_, first)
    except (PlanError, known_vars.UnknownVariables) as exc:
        event("refused: %s" % type(exc).__name__)
        return
    event("planned")
    new = result["state"]["clusters"]
    typo_seen = [t for t in typos if t[0] in after]
    assert allow_typos or not typo_seen, "a typo was planned without the opt-out"
    for name, entry in first["clusters"].items():
        if name not in after:
            assert name in removed, "cluster %s dropped silently" % name
        if name in after or name not in released:
            assert name in new, "reservation of %s lost" % name
            for field in FIELDS:
                assert new[name][field] == entry[field], (name, field)
            assert new[name]["active"] == (name in after)
    for cluster in result["plan"]["clusters"]:
        assert set(cluster["peers"]) == set(after) - {cluster["name"]}


@PROPERTY
@given(
    names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=7, unique=True),
    lost=st.sampled_from([None, "", {}]),
    artifacts=st.lists(st.sampled_from(["b/plan.json", "b/mesh-ca", "b/x/kubeconfig"]), max_size=3),
    rebuild=st.booleans(),
)
def test_property_a_lost_state_never_renumbers(names, lost, artifacts, rebuild):
    """Without the state file: refused while artifacts exist, or rebuilt from plan.json
    with every reservation kept; planning from scratch only when nothing was there."""
    first = plan_mesh(clusters_from_inventory(inventory(names)), {}, None)
    settings_ = {"edgemesh_state_rebuild": "plan"} if rebuild else {}
    clusters = clusters_from_inventory(inventory(names))
    try:
        result = plan_mesh(clusters, settings_, lost, first["plan"], artifacts)
    except PlanError as exc:
        assert artifacts and not rebuild, str(exc)
        return
    if rebuild:
        assert result["state"] == first["state"]
    else:
        assert not artifacts

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upgrade ordering: servers first, one at a time, nodes at the target skipped."""

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import plan_mesh
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.rolling import (
    RollingError,
    check_step,
    installed_version,
    parse_version,
    removal_queue,
    rolling_order,
    upgrade_queue,
)
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.plans import inventory_cluster

TARGET = "v1.33.5+k3s1"


def node(host, role, version, cluster="eu-core"):
    return {"host": host, "role": role, "version": version, "cluster": cluster}


def hosts(order):
    return [n["host"] for n in order]


def test_servers_first_then_agents_sorted():
    nodes = [
        node("agent-b", "agent", "v1.32.9+k3s1"),
        node("server-2", "server", "v1.32.9+k3s1"),
        node("agent-a", "agent", "v1.32.9+k3s1"),
        node("server-1", "server", "v1.32.9+k3s1"),
    ]
    order = rolling_order(nodes, TARGET)
    assert hosts(order) == ["server-1", "server-2", "agent-a", "agent-b"]
    assert order[0] == {
        "host": "server-1",
        "cluster": "eu-core",
        "role": "server",
        "from": "v1.32.9+k3s1",
        "to": TARGET,
    }


def test_servers_of_every_cluster_before_any_agent():
    nodes = [
        node("x-agent", "agent", "v1.32.9+k3s1", "b-cluster"),
        node("y-server", "server", "v1.32.9+k3s1", "b-cluster"),
        node("z-server", "server", "v1.32.9+k3s1", "a-cluster"),
    ]
    assert hosts(rolling_order(nodes, TARGET)) == ["z-server", "y-server", "x-agent"]


def test_nodes_at_target_or_not_installed_are_skipped():
    nodes = [
        node("s1", "server", TARGET),
        node("s2", "server", "v1.33.4+k3s1"),
        node("a1", "agent", None),
        node("a2", "agent", ""),
        node("a3", "agent", "1.33.5+k3s1"),
    ]
    assert hosts(rolling_order(nodes, TARGET)) == ["s2"]


def test_nothing_to_do_when_all_at_target():
    assert rolling_order([node("s1", "server", TARGET)], TARGET) == []


def test_role_defaults_to_agent_and_k3s_patch_revision_counts():
    nodes = [{"host": "n1", "version": "v1.33.5+k3s0"}, node("s1", "server", "v1.33.5+k3s0")]
    order = rolling_order(nodes, TARGET)
    assert hosts(order) == ["s1", "n1"]
    assert order[1]["role"] == "agent" and order[1]["cluster"] == ""


def test_versions_mapping_and_cluster_name_for_plan_nodes():
    plan_nodes = [
        {"host": "eu-core-3", "ip": "192.0.2.13", "role": "agent"},
        {"host": "eu-core-1", "ip": "192.0.2.11", "role": "server"},
        {"host": "eu-core-2", "ip": "192.0.2.12", "role": "server"},
    ]
    versions = {"eu-core-1": TARGET, "eu-core-2": "v1.32.9+k3s1", "eu-core-3": "v1.32.9+k3s1"}
    order = rolling_order(plan_nodes, TARGET, versions=versions, cluster="eu-core")
    assert hosts(order) == ["eu-core-2", "eu-core-3"]
    assert {n["cluster"] for n in order} == {"eu-core"}
    with pytest.raises(
        RollingError, match="versions must be a mapping of host to version, got list"
    ):
        rolling_order(plan_nodes, TARGET, versions=["v1"])


def test_plain_kubernetes_versions():
    assert hosts(rolling_order([node("cp1", "server", "v1.32.3")], "v1.33.1")) == ["cp1"]
    assert parse_version("v1.33.1") == (1, 33, 1, 0)
    assert parse_version(" v1.33.5+k3s2 ") == (1, 33, 5, 2)


@pytest.mark.parametrize(
    "nodes, target, message",
    [
        ([], "latest", "version 'latest' is not a Kubernetes release"),
        ([node("s1", "server", "v1.33")], TARGET, "version 'v1.33' is not a Kubernetes release"),
        ({"host": "s1"}, TARGET, "nodes must be a list, got dict"),
        ([{"role": "server"}], TARGET, "node #0 has no host"),
        (["s1"], TARGET, "node #0 has no host"),
        (
            [node("s1", "master", "v1.32.9+k3s1")],
            TARGET,
            "host s1 has role 'master'; allowed: server, agent",
        ),
        (
            [node("s1", "server", "v1.32.9+k3s1"), node("s1", "agent", "v1.32.9+k3s1")],
            TARGET,
            "host s1 is listed twice",
        ),
        (
            [node("s1", "server", "v1.34.1+k3s1")],
            TARGET,
            "host s1 runs v1.34.1+k3s1, newer than the target v1.33.5+k3s1: downgrades are not supported",
        ),
        (
            [node("s1", "server", "v1.31.9+k3s1")],
            TARGET,
            "host s1 runs v1.31.9+k3s1; v1.33.5+k3s1 skips a minor version",
        ),
        ([node("s1", "server", "v0.33.5+k3s1")], TARGET, "skips a minor version"),
    ],
)
def test_refusals_name_the_host_and_value(nodes, target, message):
    with pytest.raises(RollingError) as err:
        rolling_order(nodes, target)
    assert message in str(err.value)


def test_check_step_allows_one_minor_and_patches():
    check_step("s1", "v1.32.9+k3s1", TARGET)
    check_step("s1", "v1.33.1+k3s1", TARGET)
    with pytest.raises(RollingError):
        check_step("s1", None, TARGET)


def test_filter_wraps_errors():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.edgemesh.cluster_mesh.plugins.filter.rolling_order import FilterModule

    flt = FilterModule().filters()["rolling_order"]
    assert hosts(flt([node("s1", "server", "v1.32.9+k3s1")], TARGET)) == ["s1"]
    with pytest.raises(AnsibleFilterError, match="^rolling_order: host s1 has role 'x'"):
        flt([node("s1", "x", "v1.32.9+k3s1")], TARGET)


# --- The playbooks' decisions: upgrade queues from the plan and removal requests ---------


@pytest.fixture(scope="module")
def mesh_plan():
    clusters = [
        inventory_cluster(
            "a-k3s",
            "k3s",
            [
                ("k-s1", "192.0.2.1", "server"),
                ("k-s2", "192.0.2.2", "server"),
                ("k-a1", "192.0.2.3", "agent"),
            ],
        ),
        inventory_cluster(
            "b-k3s", "k3s", [("m-s1", "192.0.2.11", "server"), ("m-a1", "192.0.2.12", "agent")]
        ),
        inventory_cluster(
            "c-kubeadm",
            "kubeadm",
            [
                ("cp-1", "198.51.100.1", "server"),
                ("cp-2", "198.51.100.2", "server"),
                ("w-1", "198.51.100.3", "agent"),
            ],
        ),
    ]
    return plan_mesh(clusters, {}, None)["plan"]


def answered(output, rc=0):
    return {"rc": rc, "stdout": output}


def k3s_hostvars(installed, target=TARGET):
    return dict(
        (host, {"__out": answered("k3s version %s (abc)\ngo version go1.24" % v), "__to": target})
        for host, v in installed.items()
    )


def test_installed_version_is_read_from_the_version_commands():
    assert installed_version("k3s version v1.33.5+k3s1 (e3b0c442)\ngo version go1.24") == (
        "v1.33.5+k3s1"
    )
    assert installed_version("Kubernetes v1.33.5") == "v1.33.5"
    assert installed_version("command not found") == ""
    assert installed_version(None) == ""


def test_k3s_queue_servers_of_every_cluster_first(mesh_plan):
    old = "v1.32.9+k3s1"
    hv = k3s_hostvars({"k-s1": old, "k-s2": TARGET, "k-a1": old, "m-s1": old, "m-a1": old})
    queue = upgrade_queue(mesh_plan, "k3s", hv, "__out", "__to")
    assert [(n["host"], n["cluster"]) for n in queue] == [
        ("k-s1", "a-k3s"),
        ("m-s1", "b-k3s"),
        ("k-a1", "a-k3s"),
        ("m-a1", "b-k3s"),
    ]
    assert queue[0] == {
        "host": "k-s1",
        "cluster": "a-k3s",
        "role": "server",
        "from": old,
        "to": TARGET,
    }


def test_nodes_that_did_not_answer_are_left_out(mesh_plan):
    hv = k3s_hostvars({"k-s1": "v1.32.9+k3s1"})
    hv["k-s2"] = {"__out": answered("", rc=2), "__to": TARGET}
    hv["k-a1"] = {"__out": {"skipped": True}, "__to": TARGET}
    assert [n["host"] for n in upgrade_queue(mesh_plan, "k3s", hv, "__out", "__to")] == ["k-s1"]
    assert upgrade_queue(mesh_plan, "k3s", {}, "__out", "__to") == []


def test_kubeadm_queue_starts_with_the_first_control_plane(mesh_plan):
    hv = dict(
        (host, {"__out": answered("Kubernetes v1.33.5"), "__to": "1.33.6"})
        for host in ("cp-1", "cp-2", "w-1")
    )
    for host in hv:
        hv[host]["kubeadm_control_plane_hosts"] = ["cp-2", "cp-1"]
    queue = upgrade_queue(mesh_plan, "kubeadm", hv, "__out", "__to", "kubeadm_control_plane_hosts")
    assert [n["host"] for n in queue] == ["cp-2", "cp-1", "w-1"]
    assert {(n["from"], n["to"]) for n in queue} == {("v1.33.5", "1.33.6")}
    hv["w-1"]["__out"] = answered("Kubernetes v1.33.6")
    assert [n["host"] for n in upgrade_queue(mesh_plan, "kubeadm", hv, "__out", "__to")] == [
        "cp-1",
        "cp-2",
    ]


@pytest.mark.parametrize(
    "hostvars, message",
    [
        (
            {"k-s1": {"__out": answered("k3s version v1.32.9+k3s1"), "__to": ""}},
            "cluster a-k3s: set the target __to (inventory or -e __to=...) to upgrade",
        ),
        (
            {
                "k-s1": {"__out": answered("k3s version v1.32.9+k3s1"), "__to": TARGET},
                "k-s2": {"__to": "v1.33.6+k3s1"},
            },
            "cluster a-k3s: __to differs between its nodes (k-s1=v1.33.5+k3s1, "
            "k-s2=v1.33.6+k3s1); allowed: one version per cluster",
        ),
        (
            {"k-s1": {"__out": answered("k3s version v1.31.9+k3s1"), "__to": TARGET}},
            "host k-s1 runs v1.31.9+k3s1; v1.33.5+k3s1 skips a minor version",
        ),
    ],
    ids=["no-target", "two-targets", "minor-jump"],
)
def test_upgrade_queue_refusals(mesh_plan, hostvars, message):
    with pytest.raises(RollingError) as err:
        upgrade_queue(mesh_plan, "k3s", hostvars, "__out", "__to")
    assert message in str(err.value)
    with pytest.raises(RollingError, match="the plan is not a mapping with 'clusters'"):
        upgrade_queue({}, "k3s", hostvars, "__out", "__to")


INVENTORY = ["k-s1", "k-s2", "k-a1", "m-s1", "m-a1", "cp-1", "cp-2", "w-1"]


def inputs_of(registration):
    """The k3s role inputs the role_inputs play set (registration address per cluster)."""
    hv = {}
    for host, ip, reg in (
        ("k-s1", "192.0.2.1", registration),
        ("k-s2", "192.0.2.2", registration),
        ("k-a1", "192.0.2.3", registration),
        ("m-s1", "192.0.2.11", "192.0.2.11"),
        ("m-a1", "192.0.2.12", "192.0.2.11"),
    ):
        hv[host] = {"k3s_registration_address": reg, "k3s_node_ip": ip}
    return hv


def test_removal_queue_accepts_a_list_or_commas(mesh_plan):
    hv = inputs_of("192.0.2.1")
    assert removal_queue(mesh_plan, "k-s2, k-a1,k-s2", INVENTORY, hv) == ["k-a1", "k-s2"]
    assert removal_queue(mesh_plan, ["m-a1"], INVENTORY, hv) == ["m-a1"]


@pytest.mark.parametrize(
    "requested, message",
    [
        ("", "remove_node.yml needs -e edgemesh_remove_nodes=<host[,host]>"),
        (7, "edgemesh_remove_nodes is 7; allowed: host names"),
        ("k-s2,ghost", "edgemesh_remove_nodes names ghost, not hosts of edgemesh_clusters"),
        (
            "k-s1,k-s2",
            "cluster a-k3s (k3s) cannot lose k-s1, k-s2: remove_node.yml handles k3s and "
            "kubeadm clusters that keep at least one server (use reset.yml to remove a whole "
            "cluster)",
        ),
        # kubeadm nodes can be removed now (issue 14 #4); without the kubeadm role inputs
        # this one is refused like a k3s node without them.
        ("w-1", "cluster c-kubeadm (kubeadm) cannot lose w-1: w-1 has no kubeadm role inputs"),
        (
            "k-s1",
            "cluster a-k3s (k3s) cannot lose k-s1: k-s1 is the registration address of the "
            "cluster; set edgemesh_control_plane_endpoint (a VIP) or pin edgemesh_k3s_init_server",
        ),
    ],
    ids=["none", "type", "unknown", "last-server", "kubeadm", "registration"],
)
def test_removal_refusals(mesh_plan, requested, message):
    with pytest.raises(RollingError) as err:
        removal_queue(
            mesh_plan, requested, INVENTORY + ["ghost-not-planned"], inputs_of("192.0.2.1")
        )
    assert message in str(err.value)


def test_removal_needs_the_role_inputs_and_a_planned_host(mesh_plan):
    with pytest.raises(RollingError, match="k-a1 has no k3s role inputs"):
        removal_queue(mesh_plan, "k-a1", INVENTORY, {})
    with pytest.raises(RollingError, match="host extra is in no cluster of the plan"):
        removal_queue(mesh_plan, "extra", INVENTORY + ["extra"], {})
    # With a VIP the former registration server can go.
    assert removal_queue(mesh_plan, "k-s1", INVENTORY, inputs_of("vip.example")) == ["k-s1"]


def test_queue_filters_wrap_errors(mesh_plan):
    from ansible.errors import AnsibleFilterError

    from ansible_collections.edgemesh.cluster_mesh.plugins.filter.removal_queue import (
        FilterModule as Removal,
    )
    from ansible_collections.edgemesh.cluster_mesh.plugins.filter.upgrade_queue import (
        FilterModule as Upgrade,
    )

    upgrade = Upgrade().filters()["upgrade_queue"]
    removal = Removal().filters()["removal_queue"]
    assert upgrade(mesh_plan, "k3s", {}, "__out", "__to") == []
    assert removal(mesh_plan, "k-a1", INVENTORY, inputs_of("vip")) == ["k-a1"]
    with pytest.raises(AnsibleFilterError, match="^upgrade_queue: distribution 'rke2'"):
        upgrade(mesh_plan, "rke2", {}, "__out", "__to")
    with pytest.raises(AnsibleFilterError, match="^upgrade_queue: cluster a-k3s: set the target"):
        upgrade(mesh_plan, "k3s", {"k-s1": {"__out": answered("v1.32.1")}}, "__out", "__to")
    with pytest.raises(AnsibleFilterError, match="^removal_queue: remove_node.yml needs"):
        removal(mesh_plan, [], INVENTORY, {})
    with pytest.raises(AnsibleFilterError, match="^removal_queue: the input must be the plan"):
        removal([], [], INVENTORY, {})

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upgrade ordering: servers first, one at a time, nodes at the target skipped."""

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.rolling import (
    RollingError,
    check_step,
    parse_version,
    rolling_order,
)

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

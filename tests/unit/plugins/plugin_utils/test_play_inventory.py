# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner's in-memory inventory read equals ansible-core's own variable resolution.

Real ansible-core InventoryManager and VariableManager on inventories written to disk
(inventory file vars, group_vars/ and host_vars/ files, nested groups, extra vars): the
shortcut of play_inventory.host_variables must give exactly what one
VariableManager.get_vars call per host gives."""

import textwrap

import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.manager import VariableManager

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (
    INVENTORY_KEYS,
    PlanError,
    clusters_from_inventory,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.plugin_utils import play_inventory

HOSTS = """
all:
  vars:
    cilium_hubble_ui: false
  children:
    edgemesh_clusters:
      children:
        cluster_a:
          vars: {edgemesh_cluster_name: a, edgemesh_region: eu}
          hosts:
            a1: {ansible_host: 192.0.2.1, edgemesh_node_role: server}
            a2: {ansible_host: 192.0.2.2}
            a3: {ansible_host: 192.0.2.3, edgemesh_node_ip: 198.51.100.3}
          children:
            a_agents:
              vars: {edgemesh_node_role: agent}
              hosts:
                a4: {ansible_host: 192.0.2.4}
                a5: {}
        cluster_b:
          vars: {edgemesh_cluster_name: b, edgemesh_region: us}
          hosts:
            b1: {ansible_host: 192.0.2.11, edgemesh_node_role: server}
            b2: {ansible_host: 192.0.2.12, edgemesh_node_role: agent}
"""


def write(tmp_path):
    (tmp_path / "hosts.yml").write_text(HOSTS)
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "cluster_b.yml").write_text("cilium_routing_mode: native\n")
    (tmp_path / "group_vars" / "all.yml").write_text("cilium_hubble: true\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "a5.yml").write_text("ansible_host: 192.0.2.5\n")
    (tmp_path / "host_vars" / "b2.yml").write_text(textwrap.dedent("""\
            edgemesh_node_ip_v6: 2001:db8::12
            cilium_routing_mode: tunnel
            """))
    return str(tmp_path)


@pytest.mark.parametrize(
    "extra", [{}, {"cilium_hubble_ui": "true", "edgemesh_node_role": "server"}]
)
def test_shortcut_equals_one_get_vars_per_host(tmp_path, extra):
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[write(tmp_path)])
    variables = VariableManager(loader=loader, inventory=inventory)
    variables._extra_vars = extra  # what -e gives VariableManager (load_extra_vars)
    wanted = frozenset(INVENTORY_KEYS)
    fast = play_inventory.host_variables(inventory, variables, wanted)
    exact = dict(
        (host.name, play_inventory.exact_variables(variables, host, wanted))
        for host in inventory.get_hosts()
    )
    for host in exact:
        assert fast[host] == exact[host], host
    if not extra:
        assert fast["b2"]["cilium_routing_mode"] == "tunnel"  # host_vars file wins
        assert fast["a4"]["edgemesh_node_role"] == "agent"  # nested group
        assert fast["a5"]["ansible_host"] == "192.0.2.5"
    else:
        assert all(v["edgemesh_node_role"] == "server" for v in fast.values())


def test_tree_and_clusters_through_the_planner_reader(tmp_path):
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[write(tmp_path)])
    variables = VariableManager(loader=loader, inventory=inventory)

    class HostVarsLike(object):
        _inventory = inventory
        _variable_manager = variables

    data = play_inventory.play_inventory(HostVarsLike(), INVENTORY_KEYS)
    assert sorted(data["cluster_a"]["children"]) == ["a_agents"]
    # b2 sets cilium_routing_mode itself: the cluster's hosts disagree, which the reader
    # refuses (a cluster-level option is one value per cluster).
    with pytest.raises(
        PlanError,
        match="hosts disagree on the cluster-level variable "
        'cilium_routing_mode \\(b1="native", b2="tunnel"\\)',
    ):
        clusters_from_inventory(data)
    del data["_meta"]["hostvars"]["b2"]["cilium_routing_mode"]
    clusters = clusters_from_inventory(data)
    assert [c["group"] for c in clusters] == ["cluster_a", "cluster_b"]
    assert clusters[1]["cilium"] == {"hubble": True, "hubble_ui": False, "routing_mode": "native"}
    roles = dict((n["host"], n["role"]) for n in clusters[0]["nodes"])
    assert roles == {"a1": "server", "a2": "agent", "a3": "agent", "a4": "agent", "a5": "agent"}
    b2 = [n for n in clusters[1]["nodes"] if n["host"] == "b2"][0]
    assert b2["ip_v6"] == "2001:db8::12"


def test_no_inventory_object_means_none():
    assert play_inventory.play_inventory({}, INVENTORY_KEYS) is None

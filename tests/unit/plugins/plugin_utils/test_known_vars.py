# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unknown variables with the collection's prefixes are refused with a suggestion.

The known set is read at run time from roles/*/meta/argument_specs.yml, so the tests below
that scan playbooks/ and roles/*/defaults fail as soon as a knob is used without being
declared (in an argument spec, the planner, or known_vars.PLAYBOOK_VARS). The inventory
read is the real ansible-core InventoryManager/VariableManager on files written to disk.
"""

import pathlib
import re

import pytest
import yaml
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.manager import VariableManager

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_planner
from ansible_collections.edgemesh.cluster_mesh.plugins.plugin_utils import (
    known_vars,
    play_inventory,
)

ROOT = pathlib.Path(known_vars.collection_root())
TOKEN = re.compile(r"\b((?:%s)[a-z0-9_]*[a-z0-9])\b" % "|".join(known_vars.PREFIXES))
# Prefixed words in playbooks/ that are not variables: a plan attribute and module option
# (cilium_version), a filter (verify_report), AWX credential keys (mesh_ca_cert/key), a
# task file (cilium_cleanup), the filters of upgrade_cilium.yml.
NOT_VARIABLES = {"cilium_version", "verify_report", "mesh_ca_cert", "mesh_ca_key", "cilium_cleanup"}
NOT_VARIABLES |= {
    "cilium_upgrade_plan",
    "cilium_upgrade_step",
    "cilium_policy_change",
    "cilium_upgrade_verified",
    "cilium_upgrade_state",
}


def refused(*args, **kwargs):
    with pytest.raises(known_vars.UnknownVariables) as info:
        known_vars.check_names(*args, **kwargs)
    return str(info.value)


def test_the_collection_root_holds_the_roles():
    assert (ROOT / "roles" / "k3s" / "meta" / "argument_specs.yml").is_file()
    assert "k3s_version" in known_vars.role_options()["k3s"]


def test_every_prefixed_name_in_playbooks_is_known():
    known = known_vars.known_names() | known_vars.PLAYBOOK_GROUPS | NOT_VARIABLES
    unknown = {}
    for path in sorted((ROOT / "playbooks").rglob("*.yml")):
        for match in TOKEN.finditer(path.read_text()):
            if match.group(1) not in known:
                unknown.setdefault(match.group(1), str(path.relative_to(ROOT)))
    assert not unknown, "add to an argument spec or known_vars.PLAYBOOK_VARS: %s" % unknown


def test_every_role_default_is_known():
    known = known_vars.known_names()
    missing = []
    for path in sorted(ROOT.glob("roles/*/defaults/**/*.yml")):
        for key in yaml.safe_load(path.read_text()) or {}:
            if key.startswith(known_vars.PREFIXES) and key not in known:
                missing.append("%s: %s" % (path.relative_to(ROOT), key))
    assert not missing, "declare them in meta/argument_specs.yml: %s" % missing


def test_the_planner_keys_and_the_cilium_values_options_are_known():
    known = known_vars.known_names()
    for key in mesh_planner.INVENTORY_KEYS + mesh_planner.MESH_KEYS:
        if key.startswith(known_vars.PREFIXES):
            assert key in known, key


def test_argument_specs_are_read_at_run_time(tmp_path):
    spec = tmp_path / "roles" / "newrole" / "meta" / "argument_specs.yml"
    spec.parent.mkdir(parents=True)
    spec.write_text("argument_specs:\n  main:\n    options:\n      k3s_brand_new_knob: {}\n")
    assert "k3s_brand_new_knob" in known_vars.known_names(str(tmp_path))
    assert "k3s_brand_new_knob" not in known_vars.known_names()


@pytest.mark.parametrize(
    "typo, suggestion",
    [
        ("edgemesh_distrbution", "edgemesh_distribution"),
        ("edgemesh_clusterid", "edgemesh_cluster_id"),
        ("edgemesh_cilium_verison", "edgemesh_cilium_version"),
        ("cilium_hubbel_ui", "cilium_hubble_ui"),
        ("k3s_verison", "k3s_version"),
        ("edgemesh_remove_cluster", "edgemesh_remove_clusters"),
    ],
)
def test_typos_are_refused_with_did_you_mean(typo, suggestion):
    message = refused([typo], [], lambda names, hosts: {typo: ["group cluster_a"]})
    assert message.startswith("unknown variable '%s' (set for group cluster_a)" % typo)
    assert "did you mean '%s'" % suggestion in message
    assert "edgemesh_allow_unknown_vars" in message


def test_unknown_names_on_the_control_node_and_without_a_locator():
    assert "(set for the control node" in refused([], ["edgemesh_clusterid"])
    assert "(set for a host)" in refused(["edgemesh_clusterid"], [])


def test_the_opt_out_and_names_without_our_prefixes():
    known_vars.check_names(["edgemesh_mine", "myapp_x"], ["other_var"], allow=["edgemesh_mine"])
    known_vars.check_names(["edgemesh_mine", "cilium_x"], [], allow=True)
    known_vars.check_names(["edgemesh_mine"], [], allow="edgemesh_mine")
    message = refused(["edgemesh_a", "edgemesh_b"], [], allow=["edgemesh_a"])
    assert "'edgemesh_b'" in message and "'edgemesh_a'" not in message
    message = refused([], [], allow={"x": 1})
    assert "edgemesh_allow_unknown_vars {'x': 1} is not allowed; allowed: true or a list" in message


def test_control_node_role_options_set_for_a_cluster_are_refused():
    option = sorted(known_vars.control_node_options())[0]
    located = {option: ["group cluster_a"]}
    message = refused([option], [], lambda names, hosts: located)
    assert message.startswith("%s is set for group cluster_a, but the role" % option)
    assert "set it in group_vars/all or as an extra var" in message
    # Set in group_vars/all (the control node sees it too): accepted.
    known_vars.check_names([option], [option], lambda names, hosts: {option: ["group all"]})
    # Also in group_vars/all, but overridden by a cluster group: refused.
    both = {option: ["group all", "group cluster_b"]}
    assert "is set for group cluster_b" in refused([option], [option], lambda n, h: both)
    # The Cilium values options are per cluster: never refused for being on a cluster.
    known_vars.check_names(["cilium_hubble_ui"], [], lambda n, h: located)


HOSTS = """
all:
  children:
    edgemesh_clusters:
      children:
        cluster_a:
          vars: {edgemesh_cluster_name: a, edgemesh_region: eu}
          hosts:
            a1: {ansible_host: 192.0.2.1, edgemesh_node_role: server}
            a2: {ansible_host: 192.0.2.2, k3s_verison: v1}
"""


def test_the_real_inventory_reports_names_and_who_sets_them(tmp_path):
    (tmp_path / "hosts.yml").write_text(HOSTS)
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "cluster_a.yml").write_text("edgemesh_distrbution: kubeadm\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "a1.yml").write_text("cilium_hubbel_ui: true\n")
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(tmp_path / "hosts.yml")])
    variables = VariableManager(loader=loader, inventory=inventory)
    variables._extra_vars = {"edgemesh_clusterid": 3}

    class HostVarsLike(object):
        _inventory = inventory
        _variable_manager = variables

    data = play_inventory.play_inventory(
        HostVarsLike(), mesh_planner.INVENTORY_KEYS, known_vars.PREFIXES
    )
    names = data["_meta"]["variable_names"]
    for name in ("edgemesh_distrbution", "cilium_hubbel_ui", "k3s_verison", "edgemesh_clusterid"):
        assert name in names
    assert "ansible_host" not in names
    wanted = ["edgemesh_distrbution", "cilium_hubbel_ui", "k3s_verison", "edgemesh_clusterid"]
    where = play_inventory.variable_sources(HostVarsLike(), wanted)
    assert where == {
        "edgemesh_distrbution": ["group cluster_a"],
        "cilium_hubbel_ui": ["host a1"],
        "k3s_verison": ["host a2"],
        "edgemesh_clusterid": ["extra vars"],
    }
    assert play_inventory.variable_sources(HostVarsLike(), wanted, hosts=False)["k3s_verison"] == []

    def locate(names, hosts):
        return play_inventory.variable_sources(HostVarsLike(), names, hosts)

    message = refused(names, [], locate)
    assert "unknown variable 'edgemesh_distrbution' (set for group cluster_a)" in message
    assert "unknown variable 'cilium_hubbel_ui' (set for host a1)" in message
    assert "unknown variable 'edgemesh_clusterid' (set for extra vars)" in message

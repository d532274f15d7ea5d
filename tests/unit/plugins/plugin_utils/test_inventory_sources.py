# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every inventory source parsed, or the reason with file and line (issue 13, findings 1/8).

Real ansible-core InventoryManager and DataLoader on inventories written to tmp_path: the
manager only warns about a file it cannot parse (ansible/inventory/manager.py,
parse_source) and records the files it did parse in ``processed_sources``; group_vars
files are read by the host_group_vars vars plugin with ``DataLoader.load_from_file``.
"""

import os

import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader

from ansible_collections.edgemesh.cluster_mesh.plugins.plugin_utils.inventory_sources import (
    inventory_files,
    source_problems,
    vars_files,
)

GOOD = """---
all:
  children:
    edgemesh_clusters:
      children:
        cluster_a:
          hosts:
            a1: {ansible_host: 192.0.2.1}
"""
BROKEN = """---
all:
  children:
    cluster_b:
      hosts:
        b1: {ansible_host: [192.0.2.2
"""


def problems(sources, processed=True):
    loader = DataLoader()
    manager = InventoryManager(loader, sources=[str(s) for s in sources])
    done = manager._inventory.processed_sources if processed else None
    return source_problems(manager, loader, [str(s) for s in sources], done)


@pytest.fixture(name="inv")
def inv_fixture(tmp_path):
    inv = tmp_path / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "hosts.yml").write_text(GOOD)
    (inv / "group_vars" / "all" / "mesh.yml").write_text("---\nedgemesh_cilium_version: 1.19.6\n")
    (inv / "group_vars" / "cluster_a.yml").write_text("---\nedgemesh_cluster_name: a\n")
    return inv


@pytest.mark.parametrize("processed", [True, False], ids=["play", "reparse"])
def test_a_good_inventory_has_no_problem(inv, processed):
    assert problems([inv], processed) == []
    assert problems([inv / "hosts.yml"], processed) == []


@pytest.mark.parametrize("processed", [True, False], ids=["play", "reparse"])
def test_a_broken_file_of_a_directory_is_named_with_its_line(inv, processed):
    (inv / "more.yml").write_text(BROKEN)
    found = problems([inv], processed)
    assert len(found) == 1
    assert found[0].startswith("inventory file %s does not parse (" % (inv / "more.yml"))
    assert found[0].endswith("(at %s:7:1)" % (inv / "more.yml"))
    assert "YAML parsing failed" in found[0]


def test_a_broken_single_file_source(tmp_path):
    (tmp_path / "hosts.yml").write_text(BROKEN)
    found = problems([tmp_path / "hosts.yml"])
    assert len(found) == 1 and "hosts.yml:7:1" in found[0]


def test_a_broken_file_among_several_sources(inv, tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "b.yml").write_text(BROKEN)
    found = problems([inv, tmp_path / "other" / "b.yml"])
    assert len(found) == 1 and found[0].startswith(
        "inventory file %s does not parse" % (tmp_path / "other" / "b.yml")
    )


def test_a_structural_error_without_a_yaml_error(tmp_path):
    # Valid YAML, not an inventory: every plugin refuses it; the message says which.
    (tmp_path / "hosts.yml").write_text("---\n- just\n- a list\n")
    found = problems([tmp_path / "hosts.yml"])
    assert len(found) == 1
    assert found[0].startswith("inventory file %s does not parse" % (tmp_path / "hosts.yml"))


def test_a_missing_source(tmp_path, inv):
    found = problems([inv, tmp_path / "nope.yml"])
    assert found == [
        "inventory source %s does not exist (check -i and the inventory setting)"
        % (tmp_path / "nope.yml")
    ]


@pytest.mark.parametrize(
    "relative",
    ["group_vars/cluster_a.yml", "group_vars/all/mesh.yml", "host_vars/a1.yaml", "host_vars/a1"],
)
def test_a_broken_vars_file_is_named_with_its_line(inv, relative):
    path = inv / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\nedgemesh_region: eu\nedgemesh_x: [1\n")
    found = problems([inv])
    kind = relative.split("/")[0]
    assert found == [
        "%s file %s does not load: YAML parsing failed: While parsing a flow sequence did not "
        "find expected ',' or ']'. (at %s:4:1)" % (kind, path, path)
    ]


def test_vars_files_beside_a_file_source_and_once(inv):
    (inv / "group_vars" / "cluster_a.yml").write_text("---\nx: [1\n")
    found = problems([inv / "hosts.yml", inv])
    assert len(found) == 1 and found[0].startswith("group_vars file ")


def test_ignored_entries_are_not_inventory(inv):
    # Ansible skips hidden entries (so .edgemesh beside the inventory), backups and docs.
    (inv / ".edgemesh").mkdir()
    (inv / ".edgemesh" / "plan.json").write_text("{not yaml")
    (inv / "README.md").write_text("# not an inventory\n")
    (inv / "hosts.yml~").write_text(BROKEN)
    (inv / "group_vars" / ".hidden.yml").write_text("x: [1\n")
    (inv / "group_vars" / "notes.txt").write_text("x: [1\n")
    assert inventory_files(str(inv)) == [str(inv / "hosts.yml")]
    assert problems([inv]) == []
    assert sorted(os.path.basename(p) for _k, p in vars_files(str(inv))) == [
        "cluster_a.yml",
        "mesh.yml",
    ]


def test_host_lists_are_skipped():
    assert problems(["localhost,"]) == []

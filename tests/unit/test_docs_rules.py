# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docs tables that list rules agree with the one place the rules live."""

import json
import pathlib
import re

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    cilium_values,
    mesh_planner,
    mesh_rules,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def table_rows(path):
    rows = {}
    for line in (ROOT / path).read_text().splitlines():
        match = re.match(r"^\| `([a-z0-9_]+)`(?: / `[a-z0-9_]+`)? \| (.*?) \|", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_cilium_options_table_lists_every_option_with_its_default():
    rows = table_rows("docs/cilium.md")
    table = dict((k[len("cilium_") :], v) for k, v in rows.items() if k.startswith("cilium_"))
    assert set(cilium_values.INVENTORY_OPTIONS) == set(table)
    for name in cilium_values.INVENTORY_OPTIONS:
        default = json.dumps(cilium_values.DEFAULT_OPTIONS[name])
        assert "| `%s` |" % default in table[name], name


def test_planner_tables_state_the_rules_of_mesh_rules():
    rows = table_rows("docs/planner.md")
    name_row = rows["edgemesh_cluster_name"]
    assert "≤ %d characters" % mesh_rules.CLUSTER_NAME_MAX in name_row
    assert "`%s`" % mesh_rules.CLUSTER_NAME_PATTERN in name_row
    for reserved in mesh_rules.RESERVED_CLUSTER_NAMES:
        assert "not `%s`" % reserved in name_row
    version_row = rows["edgemesh_cilium_version"]
    assert "`%s`" % mesh_rules.DEFAULT_CILIUM_VERSION in version_row
    minors = [m + ".x" for m in mesh_rules.SUPPORTED_CILIUM_MINORS]
    assert "%s or %s" % (", ".join(minors[:-1]), minors[-1]) in version_row
    mcc_row = rows["edgemesh_max_connected_clusters"]
    for value in mesh_rules.MAX_CONNECTED_CLUSTERS:
        assert "`%d` (IDs 1–%d)" % (value, value) in mcc_row
    assert "`%d-%d`" % mesh_rules.NODEPORT_RANGE in rows["edgemesh_clustermesh_nodeport_range"]
    for dist in mesh_rules.DISTRIBUTIONS:
        assert "`%s`" % dist in rows["edgemesh_distribution"]


def test_planner_defaults_table_matches_the_planner_defaults():
    rows = table_rows("docs/planner.md")
    for key, value in mesh_planner.DEFAULTS.items():
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
            shown = "%d-%d" % tuple(value)
        elif isinstance(value, list):
            shown = "[%s]" % ", ".join(value)
        else:
            shown = str(value)
        assert "| `%s` |" % shown in rows[key], key


def test_literal_cilium_defaults_outside_python_follow_mesh_rules():
    """YAML cannot import the rules: every literal default Cilium version in roles and
    playbooks must be (the minor of) mesh_rules.DEFAULT_CILIUM_VERSION."""
    default = mesh_rules.DEFAULT_CILIUM_VERSION
    minor = mesh_rules.cilium_minor(default)
    found = []
    for path in list((ROOT / "roles").rglob("*.yml")) + list((ROOT / "playbooks").rglob("*.yml")):
        text = path.read_text()
        for match in re.finditer(r"cilium_version[^\n]*?[\"'](v?\d+\.\d+(?:\.\d+)?)[\"']", text):
            found.append((path.name, match.group(1)))
    assert found, "the pattern finds the node_prep default"
    for name, value in found:
        assert value in (default, minor), (name, value)

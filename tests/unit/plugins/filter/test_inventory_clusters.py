# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory_clusters filter, on hand-made input and on a real ansible-inventory run."""

import json
import os
import pathlib
import subprocess
import sys

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.inventory_clusters import (
    FilterModule,
    inventory_clusters,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]

INVENTORY = {
    "_meta": {
        "hostvars": {
            "h1": {
                "ansible_host": "192.0.2.1",
                "edgemesh_node_role": "server",
                "edgemesh_cluster_name": "a",
                "edgemesh_region": "eu",
            }
        }
    },
    "all": {"children": ["ungrouped", "edgemesh_clusters"]},
    "edgemesh_clusters": {"children": ["cluster_a"]},
    "cluster_a": {"hosts": ["h1"]},
}


def test_registered_name():
    assert FilterModule().filters() == {"inventory_clusters": inventory_clusters}


def test_accepts_parsed_data_and_json_text():
    expected = [
        {
            "group": "cluster_a",
            "vars": {"edgemesh_cluster_name": "a", "edgemesh_region": "eu"},
            "nodes": [{"host": "h1", "ip": "192.0.2.1", "ip_v6": "", "role": "server"}],
        }
    ]
    assert inventory_clusters(INVENTORY) == expected
    assert inventory_clusters(json.dumps(INVENTORY)) == expected


@pytest.mark.parametrize(
    "data, fragment",
    [
        ("{oops", "inventory_clusters: the input is not the JSON of 'ansible-inventory --list'"),
        ([1], "inventory_clusters: the input must be the output of 'ansible-inventory --list'"),
        ({"_meta": {}}, "inventory_clusters: the inventory has no group 'edgemesh_clusters'"),
    ],
)
def test_errors_are_filter_errors(data, fragment):
    with pytest.raises(AnsibleFilterError) as info:
        inventory_clusters(data)
    assert str(info.value).startswith(fragment)


def test_example_inventory_through_ansible_inventory():
    """The exact invocation plan.yml uses, on the example inventory."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ansible.cli.inventory",
            "--list",
            "--inventory=%s" % (ROOT / "inventories" / "example"),
        ],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    clusters = inventory_clusters(proc.stdout)
    assert [c["group"] for c in clusters] == [
        "cluster_eu_core",
        "cluster_eu_edge_1",
        "cluster_us_core",
    ]
    assert [c["vars"]["edgemesh_cluster_name"] for c in clusters] == [
        "eu-core",
        "eu-edge-1",
        "us-core",
    ]
    assert clusters[1]["nodes"] == [
        {"host": "eu-edge-1", "ip": "198.51.100.21", "ip_v6": "", "role": "server"}
    ]
    assert clusters[2]["vars"]["edgemesh_distribution"] == "kubeadm"
    assert len({c["vars"]["edgemesh_region"] for c in clusters}) == 2

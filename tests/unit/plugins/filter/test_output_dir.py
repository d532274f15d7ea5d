# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The output_dir filter: a thin wrapper around mesh_paths.output_dir."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.output_dir import (
    FilterModule,
    output_dir,
)


def test_registered_name():
    assert FilterModule().filters() == {"output_dir": output_dir}


def test_default_beside_the_inventory(tmp_path):
    (tmp_path / "hosts.yml").write_text("---\nall: {}\n")
    assert output_dir([str(tmp_path / "hosts.yml")]) == str(tmp_path / ".edgemesh")
    assert output_dir([str(tmp_path / "hosts.yml")], "") == str(tmp_path / ".edgemesh")
    assert output_dir([str(tmp_path)], "/srv/mesh") == "/srv/mesh"


@pytest.mark.parametrize(
    "args, message",
    [
        ((["/a/h.yml", "/b/h.yml"],), "output_dir: edgemesh_output_dir is not set and the "),
        ((["/a"], ["x"]), "output_dir: edgemesh_output_dir is ['x'] (list); allowed: a "),
        (("a,b,",), "output_dir: edgemesh_output_dir is not set and no inventory source"),
        ((7,), "output_dir: the inventory sources must be a list of paths"),
    ],
)
def test_errors_are_filter_errors(args, message):
    with pytest.raises(AnsibleFilterError) as info:
        output_dir(*args)
    assert str(info.value).startswith(message)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The output (state) directory belongs to the inventory (issue 13, finding 2).

Fact relied on: ansible-core never parses a directory entry whose name starts with '.'
as inventory (IGNORED_ALWAYS in ansible/inventory/manager.py), checked for real by
tests/integration/test_plan_playbook.py.
"""

import os

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_paths import (
    DEFAULT_DIR_NAME,
    OutputDirError,
    inventory_dirs,
    output_dir,
)


@pytest.fixture(name="inv")
def inv_fixture(tmp_path):
    (tmp_path / "site-a").mkdir()
    (tmp_path / "site-a" / "hosts.yml").write_text("---\nall: {}\n")
    (tmp_path / "site-a" / "extra.ini").write_text("")
    (tmp_path / "site-b").mkdir()
    (tmp_path / "site-b" / "hosts.yml").write_text("---\nall: {}\n")
    return tmp_path


def test_directory_source(inv):
    assert output_dir([str(inv / "site-a")]) == str(inv / "site-a" / DEFAULT_DIR_NAME)


def test_file_source_uses_its_directory(inv):
    assert output_dir([str(inv / "site-a" / "hosts.yml")]) == str(inv / "site-a" / ".edgemesh")


def test_files_of_one_directory_and_the_directory_agree(inv):
    sources = [
        str(inv / "site-a"),
        str(inv / "site-a" / "hosts.yml"),
        str(inv / "site-a/extra.ini"),
    ]
    assert output_dir(sources) == str(inv / "site-a" / ".edgemesh")
    assert inventory_dirs(sources) == [str(inv / "site-a")]


def test_symlinked_sources_resolve_to_one_directory(inv):
    os.symlink(str(inv / "site-a"), str(inv / "link"))
    assert output_dir([str(inv / "link"), str(inv / "site-a" / "hosts.yml")]) == str(
        inv / "site-a" / ".edgemesh"
    )


def test_configured_wins_and_is_absolute(inv, monkeypatch):
    monkeypatch.chdir(inv)
    assert output_dir([str(inv / "site-a")], "out/mesh") == str(inv / "out" / "mesh")
    assert output_dir([str(inv / "site-a"), str(inv / "site-b")], "/srv/m") == "/srv/m"


def test_a_single_string_source(inv):
    assert output_dir(str(inv / "site-b")) == str(inv / "site-b" / ".edgemesh")


def test_host_lists_are_not_directories(inv):
    assert output_dir(["localhost,", str(inv / "site-b")]) == str(inv / "site-b" / ".edgemesh")
    with pytest.raises(OutputDirError) as info:
        output_dir(["a.example,b.example"])
    assert str(info.value) == (
        "edgemesh_output_dir is not set and no inventory source is a file or directory "
        "(sources: a.example,b.example); set edgemesh_output_dir to the mesh's own directory"
    )


def test_no_source_at_all():
    with pytest.raises(OutputDirError) as info:
        output_dir([])
    assert "(sources: none)" in str(info.value)


def test_sources_in_different_directories_are_refused(inv):
    with pytest.raises(OutputDirError) as info:
        output_dir([str(inv / "site-a" / "hosts.yml"), str(inv / "site-b")])
    assert str(info.value) == (
        "edgemesh_output_dir is not set and the inventory sources are in 2 directories "
        "(%s, %s), so the mesh's state has no single home; set edgemesh_output_dir "
        "(e.g. -e edgemesh_output_dir=%s/.edgemesh)"
        % (inv / "site-a", inv / "site-b", inv / "site-a")
    )


@pytest.mark.parametrize(
    "sources, configured, message",
    [
        (["x"], 5, "edgemesh_output_dir is 5 (int); allowed: a directory path"),
        ({"a": 1}, None, "the inventory sources must be a list of paths"),
    ],
)
def test_bad_arguments(sources, configured, message):
    with pytest.raises(OutputDirError) as info:
        output_dir(sources, configured)
    assert str(info.value).startswith(message)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sync_owned: files of clusters no longer planned leave the output dir (issue 13, finding
11), only files an earlier sync wrote (its manifest), never in check mode; diffs never
carry a secret (mode 0600) file. Real files in tmp_path."""

import json
import os

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.edgemesh.cluster_mesh.plugins.plugin_utils.file_sync import (
    MANIFEST,
    read_manifest,
    sync_files,
    sync_owned,
)

FIRST = {
    "plan.json": "{}\n",
    "a/cilium-values.yaml": "a: 1\n",
    "b/cilium-values.yaml": "b: 1\n",
    "b/b-1/config.yaml": "node: b-1\n",
}


def tree(root):
    found = []
    for base, _dirs, files in os.walk(root):
        found += [os.path.relpath(os.path.join(base, f), root) for f in files]
    return sorted(found)


@pytest.fixture(name="out")
def out_fixture(tmp_path):
    out = str(tmp_path / "out")
    changed, removed, unchanged = sync_owned(out, FIRST)
    assert sorted(changed) == sorted(list(FIRST) + [MANIFEST])
    assert removed == [] and unchanged == 0
    return out


def test_the_manifest_lists_what_was_written(out):
    assert read_manifest(out) == sorted(FIRST)
    with open(os.path.join(out, MANIFEST)) as handle:
        assert json.load(handle) == {"format": 1, "files": sorted(FIRST)}


def test_stale_files_are_removed_and_their_empty_directories(out):
    # b/ holds a kubeconfig the plan never wrote: it stays, and so does b/.
    with open(os.path.join(out, "b", "kubeconfig"), "w") as handle:
        handle.write("secret\n")
    files = dict((k, v) for k, v in FIRST.items() if not k.startswith("b/"))
    changed, removed, unchanged = sync_owned(out, files)
    assert removed == ["b/b-1/config.yaml", "b/cilium-values.yaml"]
    assert changed == [MANIFEST] and unchanged == 2
    assert tree(out) == ["a/cilium-values.yaml", "b/kubeconfig", MANIFEST, "plan.json"]
    assert not os.path.exists(os.path.join(out, "b", "b-1"))
    assert sync_owned(out, files) == ([], [], 3)


def test_check_mode_removes_nothing_and_reports(out):
    before = tree(out)
    diffs = []
    changed, removed, _unchanged = sync_owned(out, {"plan.json": "{}\n"}, True, diffs)
    assert removed == ["a/cilium-values.yaml", "b/b-1/config.yaml", "b/cilium-values.yaml"]
    assert changed == [MANIFEST]
    assert tree(out) == before
    headers = [d["after_header"] for d in diffs]
    assert headers == [MANIFEST] + ["%s (removed)" % p for p in removed]
    assert diffs[1]["before"] == "a: 1\n" and diffs[1]["after"] == ""


def test_files_never_listed_are_never_removed(tmp_path):
    out = str(tmp_path / "out")
    os.makedirs(os.path.join(out, "old"))
    with open(os.path.join(out, "old", "cilium-values.yaml"), "w") as handle:
        handle.write("written before manifests existed\n")
    assert sync_owned(out, {"plan.json": "{}\n"})[1] == []
    assert os.path.exists(os.path.join(out, "old", "cilium-values.yaml"))


def test_a_manifest_entry_outside_the_dir_is_refused(out):
    with open(os.path.join(out, MANIFEST), "w") as handle:
        json.dump({"format": 1, "files": ["../elsewhere"]}, handle)
    with pytest.raises(AnsibleActionFail) as info:
        sync_owned(out, FIRST)
    assert "leaves dest" in str(info.value)


@pytest.mark.parametrize("text", ["not json", '{"files": "x"}', "[1]"])
def test_a_broken_manifest_is_a_clear_error(out, text):
    with open(os.path.join(out, MANIFEST), "w") as handle:
        handle.write(text)
    with pytest.raises(AnsibleActionFail) as info:
        sync_owned(out, FIRST)
    assert str(info.value).startswith(os.path.join(out, MANIFEST))
    assert "move it away and re-run" in str(info.value)


def test_diffs_leave_secret_files_out(tmp_path):
    out = str(tmp_path / "out")
    state = os.path.join(out, "mesh-state.json")
    diffs = []
    files = {"plan.json": "{}\n", state: {"content": '{"s": 1}\n', "mode": "0600"}}
    changed, _dirs, _unchanged = sync_files(out, files, diffs=diffs)
    assert sorted(changed) == sorted(["plan.json", state])
    assert [d["after_header"] for d in diffs] == ["plan.json"]
    assert diffs[0]["before_header"] == "plan.json (absent)" and diffs[0]["before"] == ""


def test_the_state_file_is_never_in_the_manifest(tmp_path):
    out = str(tmp_path / "out")
    state = os.path.join(out, "mesh-state.json")
    sync_owned(out, {"plan.json": "{}\n", state: {"content": "{}\n", "mode": "0600"}})
    assert read_manifest(out) == ["plan.json"]
    sync_owned(out, {"plan.json": "{}\n"})
    assert os.path.exists(state)

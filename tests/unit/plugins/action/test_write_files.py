# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The write_files action plugin: bytes-only changes, modes, check mode, refusals."""

import os
import stat
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext

from ansible_collections.edgemesh.cluster_mesh.plugins.action.write_files import (
    ActionModule,
    parse_mode,
    sync_files,
)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def run(args, check_mode=False):
    task = mock.MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.async_val = 0
    task.diff = False
    action = ActionModule(
        task=task,
        connection=mock.MagicMock(),
        play_context=PlayContext(),
        loader=None,
        templar=None,
        shared_loader_obj=None,
    )
    return action.run(task_vars={})


def test_writes_creates_dirs_and_is_idempotent(tmp_path):
    dest = tmp_path / "build"
    files = {
        "plan.json": "{}\n",
        "eu-core/k3s-config.yaml": "cluster-cidr: 10.0.0.0/16\n",
        "mesh-state.json": {"content": '{"format": 1}\n', "mode": "0600"},
    }
    result = run({"dest": str(dest), "files": files})
    assert result["changed"] is True
    assert result["changed_files"] == ["eu-core/k3s-config.yaml", "mesh-state.json", "plan.json"]
    assert result["dest"] == str(dest)
    assert (dest / "eu-core" / "k3s-config.yaml").read_text() == "cluster-cidr: 10.0.0.0/16\n"
    assert mode_of(dest / "mesh-state.json") == 0o600
    assert mode_of(dest / "plan.json") == 0o644
    assert mode_of(dest / "eu-core") == 0o755
    assert result["contents"] == {} and "10.0.0.0/16" not in str(result)
    again = run({"dest": str(dest), "files": files})
    assert again["changed"] is False and again["changed_files"] == [] and again["unchanged"] == 3


def test_only_changed_bytes_or_modes_are_rewritten(tmp_path):
    files = {"a.txt": "one\n", "b.txt": "two\n"}
    run({"dest": str(tmp_path), "files": files})
    inode_b = os.stat(tmp_path / "b.txt").st_ino
    result = run({"dest": str(tmp_path), "files": dict(files, **{"a.txt": "uno\n"})})
    assert result["changed_files"] == ["a.txt"]
    assert os.stat(tmp_path / "b.txt").st_ino == inode_b
    os.chmod(tmp_path / "b.txt", 0o666)
    result = run({"dest": str(tmp_path), "files": {"b.txt": "two\n"}})
    assert result["changed_files"] == ["b.txt"] and mode_of(tmp_path / "b.txt") == 0o644


def test_check_mode_reports_and_writes_nothing(tmp_path):
    dest = tmp_path / "out"
    result = run({"dest": str(dest), "files": {"x/y.txt": "data\n"}}, check_mode=True)
    assert result["changed"] is True and result["changed_files"] == ["x/y.txt"]
    assert result["created_directories"] == [str(dest), str(dest / "x")]
    assert "would write 1 file(s)" in result["msg"]
    assert not dest.exists()


def test_list_form_default_mode_and_absolute_paths(tmp_path):
    outside = tmp_path / "state" / "mesh-state.json"
    result = run(
        {
            "dest": str(tmp_path / "build"),
            "mode": "0640",
            "files": [
                {"path": "plan.md", "content": "# plan\n"},
                {"path": str(outside), "content": "{}\n", "mode": 0o600},
            ],
        }
    )
    assert result["changed"] is True
    assert mode_of(tmp_path / "build" / "plan.md") == 0o640
    assert mode_of(outside) == 0o600


def test_relative_dest_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run({"dest": "build", "files": {"a": "b"}})
    assert result["dest"] == str(tmp_path / "build")
    assert (tmp_path / "build" / "a").read_text() == "b"


@pytest.mark.parametrize(
    "files, fragment",
    [
        ({"../escape.txt": "x"}, "the path leaves dest"),
        ({"a.txt": 5}, "file a.txt: content must be text, got int"),
        ({"a.txt": {"content": "x", "owner": "root"}}, "unknown key(s) owner"),
        ({"a.txt": {"content": "x", "mode": "rwx"}}, "file a.txt: mode 'rwx' is not a mode"),
        ({"a.txt": {"content": "x", "mode": "17777"}}, "is out of range"),
        ("nope", "files must be a mapping of path to content or a list"),
        (["nope"], "files[0] is not a mapping"),
        ([{"content": "x"}], "a file entry has no path"),
        ({"a/b": "x", "a//b": "y"}, "name the same file"),
    ],
)
def test_refusals(tmp_path, files, fragment):
    with pytest.raises(AnsibleActionFail) as info:
        sync_files(str(tmp_path), files)
    assert fragment in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_refuses_directory_in_the_way(tmp_path):
    (tmp_path / "plan.json").mkdir()
    with pytest.raises(AnsibleActionFail) as info:
        sync_files(str(tmp_path), {"plan.json": "{}"})
    assert "exists and is not a regular file" in str(info.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(AnsibleActionFail) as info:
        sync_files(str(tmp_path), {"file/inner.txt": "{}"})
    assert "exists and is not a directory" in str(info.value)


def test_unknown_argument_is_refused(tmp_path):
    with pytest.raises(AnsibleActionFail) as info:
        run({"dest": str(tmp_path), "files": {}, "owner": "root"})
    assert "owner" in str(info.value)


@pytest.mark.parametrize("value, expected", [("0600", 0o600), ("644", 0o644), (0o640, 0o640)])
def test_parse_mode(value, expected):
    assert parse_mode(value, "m") == expected


def test_parse_mode_refuses_bool():
    with pytest.raises(AnsibleActionFail):
        parse_mode(True, "m")


def test_return_content_returns_only_named_files_also_in_check_mode(tmp_path):
    files = {"summary.txt": "table\n", "mesh-state.json": {"content": "secret", "mode": "0600"}}
    result = run(
        {"dest": str(tmp_path / "b"), "files": files, "return_content": ["summary.txt"]},
        check_mode=True,
    )
    assert result["contents"] == {"summary.txt": "table\n"}
    assert "secret" not in str(result)
    assert not (tmp_path / "b").exists()
    with pytest.raises(AnsibleActionFail) as info:
        run({"dest": str(tmp_path), "files": files, "return_content": ["nope.txt"]})
    assert "return_content names nope.txt, which are not in files" in str(info.value)

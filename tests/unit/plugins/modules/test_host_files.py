# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_files module, run as Ansible runs it (a process reading its JSON arguments),
on real files under a temporary directory."""

import grp
import json
import os
import pathlib
import pwd
import stat
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[4]
COLLECTIONS = ROOT / ".collections"
MODULE = "ansible_collections.edgemesh.cluster_mesh.plugins.modules.host_files"
OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run_module(args, tmp_path, check=False, diff=False):
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run(
        [sys.executable, "-m", MODULE, str(args_file)],
        capture_output=True,
        check=False,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(COLLECTIONS)),
        cwd=str(tmp_path),
        timeout=60,
    )
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return json.loads(proc.stdout)


def files(tmp_path):
    return [
        {"path": str(tmp_path / "etc/a.d/one.conf"), "content": "one\n", "owner": OWNER},
        {
            "path": str(tmp_path / "etc/two.conf"),
            "content": "two\n",
            "mode": "0600",
            "group": GROUP,
        },
    ]


def test_writes_creates_dirs_and_is_idempotent(tmp_path):
    wanted = files(tmp_path)
    result = run_module({"files": wanted}, tmp_path)
    assert result["changed"] is True
    assert result["changed_paths"] == [
        str(tmp_path / "etc"),
        str(tmp_path / "etc/a.d"),
        wanted[0]["path"],
        wanted[1]["path"],
    ]
    assert pathlib.Path(wanted[0]["path"]).read_text() == "one\n"
    assert stat.S_IMODE(os.stat(wanted[0]["path"]).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(wanted[1]["path"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(tmp_path / "etc/a.d")).st_mode) == 0o755
    again = run_module({"files": wanted}, tmp_path)
    assert again["changed"] is False and again["changed_paths"] == []


def test_only_what_differs_changes(tmp_path):
    wanted = files(tmp_path)
    run_module({"files": wanted}, tmp_path)
    os.chmod(wanted[1]["path"], 0o644)
    wanted[0]["content"] = "one, changed\n"
    result = run_module({"files": wanted}, tmp_path)
    assert result["changed_paths"] == [wanted[0]["path"], wanted[1]["path"]]
    assert pathlib.Path(wanted[0]["path"]).read_text() == "one, changed\n"
    assert stat.S_IMODE(os.stat(wanted[1]["path"]).st_mode) == 0o600


def test_check_mode_writes_nothing_and_diff_shows_the_text(tmp_path):
    wanted = files(tmp_path)
    result = run_module({"files": wanted}, tmp_path, check=True, diff=True)
    assert result["changed"] is True
    assert not (tmp_path / "etc").exists()
    assert [d["after"] for d in result["diff"]] == ["one\n", "two\n"]
    assert result["diff"][0]["before"] == ""


def test_bad_input_names_the_path(tmp_path):
    (tmp_path / "adir").mkdir()
    result = run_module({"files": [{"path": str(tmp_path / "adir"), "content": "x"}]}, tmp_path)
    assert result["failed"] and "adir exists and is not a regular file" in result["msg"]
    result = run_module({"files": [{"path": "rel.conf", "content": "x"}]}, tmp_path)
    assert result["failed"] and "is not absolute" in result["msg"]
    result = run_module(
        {"files": [{"path": str(tmp_path / "m.conf"), "content": "x", "mode": "rw"}]}, tmp_path
    )
    assert result["failed"] and "'rw' is not an octal mode" in result["msg"]

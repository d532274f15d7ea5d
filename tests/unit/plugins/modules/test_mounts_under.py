# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mounts_under module, run as Ansible runs it: a process reading its JSON arguments.

The real-mount tests mount tmpfs and cgroup2 for real, inside a private mount namespace
(`unshare --mount --propagation private`), so the host's mount table is never touched.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]
COLLECTIONS = ROOT / ".collections"
MODULE = "ansible_collections.edgemesh.cluster_mesh.plugins.modules.mounts_under"

CAN_UNSHARE = os.geteuid() == 0 and shutil.which("unshare") is not None


def module_command(args, tmp_path):
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    return [sys.executable, "-m", MODULE, str(args_file)]


def run(argv, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    proc = subprocess.run(
        argv, capture_output=True, check=False, text=True, env=env, cwd=str(tmp_path), timeout=60
    )
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_reads_a_given_mountinfo_and_resolves_symlinked_roots(tmp_path):
    (tmp_path / "run" / "cilium").mkdir(parents=True)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "run").symlink_to(tmp_path / "run")
    real = str(tmp_path / "run" / "cilium")
    table = tmp_path / "mountinfo"
    table.write_text(
        "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
        "61 27 0:38 / %s/cgroupv2 rw shared:30 - cgroup2 none rw\n"
        "62 27 0:39 / %s/bpffs rw - bpf bpf rw\n" % (real, real)
    )
    result = run(
        module_command(
            {"roots": [str(tmp_path / "var" / "run" / "cilium")], "mountinfo_path": str(table)},
            tmp_path,
        ),
        tmp_path,
    )
    assert result["changed"] is False and not result.get("failed")
    assert result["roots"] == [real]
    assert result["mounts"] == [real + "/bpffs", real + "/cgroupv2"]


def test_root_slash_is_refused_with_a_message(tmp_path):
    result = run(module_command({"roots": ["/"]}, tmp_path), tmp_path)
    assert result["failed"] is True
    assert result["msg"] == "mounts_under: roots: root '/' would select every mount of the host"


def test_missing_mountinfo_is_a_message(tmp_path):
    missing = str(tmp_path / "nope")
    result = run(module_command({"roots": ["/run"], "mountinfo_path": missing}, tmp_path), tmp_path)
    assert result["failed"] is True
    assert result["msg"].startswith("mounts_under: cannot read %s: " % missing)


def test_malformed_mountinfo_is_a_message(tmp_path):
    table = tmp_path / "mountinfo"
    table.write_text("garbage\n")
    result = run(
        module_command({"roots": ["/run"], "mountinfo_path": str(table)}, tmp_path), tmp_path
    )
    assert result["failed"] is True
    assert result["msg"] == (
        "mounts_under: %s: mountinfo line 1 is not a mount entry: 'garbage'" % table
    )


@pytest.mark.skipif(
    not CAN_UNSHARE, reason="needs root and unshare(1) for a private mount namespace"
)
def test_finds_real_mounts_in_unmount_order(tmp_path):
    base = tmp_path / "var-run-cilium"
    (base / "cgroupv2").mkdir(parents=True)
    (base / "bpffs").mkdir()
    (base / "with space").mkdir()
    (tmp_path / "elsewhere").mkdir()
    script = (
        "set -e; "
        "mount -t tmpfs none {b}/bpffs; mkdir {b}/bpffs/tc; mount -t tmpfs none {b}/bpffs/tc; "
        "mount -t cgroup2 none {b}/cgroupv2; "
        "mount -t tmpfs none '{b}/with space'; "
        "mount -t tmpfs none {e}; "
        'exec "$@"'
    ).format(b=base, e=tmp_path / "elsewhere")
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
    result = run(argv + module_command({"roots": [str(base)]}, tmp_path), tmp_path)
    assert not result.get("failed"), result
    assert result["mounts"][0] == str(base / "bpffs" / "tc")
    assert sorted(result["mounts"][1:]) == sorted(
        [str(base / "bpffs"), str(base / "cgroupv2"), str(base / "with space")]
    )
    # The private namespace is gone with its process: nothing stays mounted here.
    assert str(base) not in pathlib.Path("/proc/self/mountinfo").read_text()

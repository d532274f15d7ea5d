# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host preflights shared by k3s and kubeadm (roles/cluster_common/tasks/cgroup_v2.yml and
time_sync.yml), run by the real ansible-playbook against this machine.

The cgroup check is judged against this kernel's own mounts (/proc/self/mountinfo): the
machine running these tests boots a hybrid layout (a tmpfs at /sys/fs/cgroup, cgroup2 at
/sys/fs/cgroup/unified), so both verdicts are exercised for real. The active-service path of
the time-sync check needs systemd as PID 1: it runs on the Molecule hosts (molecule/kubeadm).
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
PLAYBOOK = str(pathlib.Path(sys.executable).parent / "ansible-playbook")
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")


def fstype(path):
    """The filesystem type mounted exactly at ``path``, from /proc/self/mountinfo."""
    found = None
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            sep = fields.index("-")
            if fields[4] == path:
                found = fields[sep + 1]
    return found


def run(tmp_path, tasks_from, **variables):
    play = tmp_path / "play.yml"
    lines = [
        "- hosts: localhost",
        "  connection: local",
        "  gather_facts: false",
        "  tasks:",
        "    - ansible.builtin.include_role:",
        "        name: edgemesh.cluster_mesh.cluster_common",
        "        tasks_from: %s" % tasks_from,
        "      vars:",
        "        cluster_common_caller: kubeadm",
    ]
    lines += ["        %s: %s" % (k, v) for k, v in variables.items()]
    play.write_text("\n".join(lines) + "\n")
    return subprocess.run(
        [
            PLAYBOOK,
            "-i",
            "localhost,",
            "-e",
            "ansible_python_interpreter=" + sys.executable,
            str(play),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=str(ROOT),
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("mount", ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"])
def test_cgroup_v2_verdict_matches_the_kernel(tmp_path, mount):
    kind = fstype(mount)
    if kind is None:
        pytest.skip("nothing is mounted at %s on this machine" % mount)
    proc = run(tmp_path, "cgroup_v2.yml", cluster_common_cgroup_mount=mount)
    out = proc.stdout + proc.stderr
    if kind == "cgroup2":
        assert proc.returncode == 0, out
    else:
        assert proc.returncode != 0
        assert "kubeadm: host localhost does not run cgroup v2: %s is" % mount in out
        assert "allowed: cgroup2fs" in out and "Traceback" not in out


def test_cgroup_check_names_a_missing_mount(tmp_path):
    proc = run(tmp_path, "cgroup_v2.yml", cluster_common_cgroup_mount=str(tmp_path / "none"))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "No such file or directory" in out, out


def test_time_sync_check_refuses_a_host_without_an_active_service(tmp_path):
    """This machine runs no systemd (no chrony, no timesyncd): refused, with each state."""
    if os.path.exists("/run/systemd/system"):
        pytest.skip("this machine runs systemd; the refusal is shown on a host without it")
    proc = run(tmp_path, "time_sync.yml")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "kubeadm: host localhost runs none of chrony, chronyd, systemd-timesyncd" in out, out

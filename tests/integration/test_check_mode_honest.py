# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""--check is honest (issue 13, finding 9): cilium.yml and verify.yml refuse, in a dry run as
in a real one, a missing plan, planned clusters without a kubeconfig and a missing helm -
before anything else, and cilium.yml creates the mesh CA only after all of that passed.

Real ansible-playbook runs on the example inventory; no cluster is contacted (every
refusal comes before the first API call).
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = str(pathlib.Path(sys.executable).parent / "ansible-playbook")
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
CLUSTERS = ("eu-core", "eu-edge-1", "us-core")


def _run(*args):
    return subprocess.run(
        [PLAYBOOK, "-i", str(ROOT / "inventories" / "example"), *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        check=False,
    )


@pytest.fixture(name="planned")
def planned_fixture(tmp_path):
    out = tmp_path / "build"
    proc = _run("playbooks/plan.yml", "-e", f"edgemesh_output_dir={out}")
    assert proc.returncode == 0, proc.stdout[-2000:]
    return out


@pytest.mark.parametrize("playbook", ["verify.yml", "cilium.yml", "global_services.yml"])
@pytest.mark.parametrize("check", [True, False], ids=["check", "real"])
def test_no_kubeconfig_is_refused_in_check_mode_too(planned, playbook, check):
    args = ["-e", f"edgemesh_output_dir={planned}"] + (["--check"] if check else [])
    proc = _run(f"playbooks/{playbook}", *args)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "No kubeconfig on the control node for 3 planned cluster(s)" in proc.stdout
    assert "eu-core, eu-edge-1, us-core" in proc.stdout
    for name in CLUSTERS:
        assert f"{planned}/{name}/kubeconfig" in proc.stdout
    assert not (planned / "mesh-ca").exists()
    # One refusal: ansible-core 2.19 shows a failed task as its [ERROR] line plus the
    # result; nothing of ours repeats or wraps it.
    assert proc.stdout.count("[ERROR]: Task failed: Action failed: No kubeconfig") == 1
    assert "Finalization" not in proc.stdout


def test_missing_plan_is_refused_before_the_ca(tmp_path):
    out = tmp_path / "empty"
    proc = _run("playbooks/cilium.yml", "--check", "-e", f"edgemesh_output_dir={out}")
    assert proc.returncode != 0
    assert f"No plan: {out}/plan.json does not exist" in proc.stdout
    assert not (out / "mesh-ca").exists()


def _kubeconfigs(out):
    for name in CLUSTERS:
        (out / name).mkdir(exist_ok=True)
        (out / name / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")


def test_missing_helm_is_refused_before_the_ca(planned):
    _kubeconfigs(planned)
    proc = _run(
        "playbooks/cilium.yml",
        "--check",
        "-e",
        f"edgemesh_output_dir={planned}",
        "-e",
        "cilium_helm_binary=/nonexistent/helm",
    )
    assert proc.returncode != 0
    assert "helm is not usable on the control node: `/nonexistent/helm" in proc.stdout
    assert not (planned / "mesh-ca").exists()


def test_verify_with_kubeconfigs_passes_the_access_check(planned):
    """With kubeconfigs present the access check passes; the run then fails on the
    unreachable API servers (documentation addresses), not on the check."""
    _kubeconfigs(planned)
    proc = _run(
        "playbooks/verify.yml",
        "--check",
        "-e",
        f"edgemesh_output_dir={planned}",
        "-e",
        "verify_wait_timeout=0",
    )
    assert "No kubeconfig on the control node" not in proc.stdout
    assert "Refuse clusters without a kubeconfig" in proc.stdout

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml in a dry run of a new mesh (no kubeconfig yet) passes; a real run refuses clearly."""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = str(pathlib.Path(sys.executable).parent / "ansible-playbook")
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")


def _run(*args):
    return subprocess.run(
        [PLAYBOOK, "-i", str(ROOT / "inventories" / "example"), *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        check=False,
    )


def test_verify_dry_run_without_kubeconfigs_then_real_run_refuses(tmp_path):
    out = f"edgemesh_output_dir={tmp_path / 'build'}"
    assert _run("playbooks/plan.yml", "-e", out).returncode == 0
    dry = _run("playbooks/verify.yml", "--check", "-e", out)
    assert dry.returncode == 0, dry.stdout[-2000:]
    assert "failed=0" in dry.stdout and "changed=0" in dry.stdout
    real = _run("playbooks/verify.yml", "-e", out)
    assert real.returncode != 0
    assert (
        f"verify: no kubeconfig for cluster eu-core at {tmp_path}/build/eu-core/kubeconfig"
        in real.stdout
    )

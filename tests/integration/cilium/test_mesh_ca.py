# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh CA tasks on localhost (real community.crypto, real files): created once, 0600,
unchanged on every re-run, never regenerated, and the key absent from -vvv output."""

import hashlib
import os
import pathlib
import re
import stat
import subprocess
import sys

from cryptography import x509

ROOT = pathlib.Path(__file__).resolve().parents[3]


def run(tmp, *args, check_mode=False):
    playbook = tmp / "ca.yml"
    playbook.write_text(
        "---\n"
        "- name: Mesh CA\n"
        "  hosts: localhost\n"
        "  gather_facts: false\n"
        "  roles:\n"
        "    - role: edgemesh.cluster_mesh.mesh_ca\n"
        "      mesh_ca_dir: %s\n"
        "      mesh_ca_key_size: 2048\n" % (tmp / "state" / "mesh-ca")
    )
    inventory = tmp / "hosts.ini"
    inventory.write_text("unused ansible_host=192.0.2.1\n")
    bin_dir = pathlib.Path(sys.executable).parent
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    cmd = [str(bin_dir / "ansible-playbook"), "-i", str(inventory), str(playbook)] + list(args)
    if check_mode:
        cmd.append("--check")
    return subprocess.run(
        cmd, cwd=str(ROOT), env=env, capture_output=True, check=False, text=True, timeout=600
    )


def recap(stdout):
    m = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+).*failed=(\d+)", stdout)
    return dict(ok=int(m.group(1)), changed=int(m.group(2)), failed=int(m.group(3)))


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ca_created_once_0600_unchanged_and_never_logged(tmp_path):
    ca_dir = tmp_path / "state" / "mesh-ca"
    key, cert = ca_dir / "ca.key", ca_dir / "ca.crt"

    dry = run(tmp_path, check_mode=True)
    assert dry.returncode == 0, dry.stdout[-3000:]
    assert not key.exists() and not cert.exists(), "check mode must not create the CA"

    first = run(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first.stdout)["changed"] >= 1
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(ca_dir.stat().st_mode) == 0o700
    ca = x509.load_pem_x509_certificate(cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    before = (digest(key), digest(cert))

    again = run(tmp_path, "-vvv")
    assert again.returncode == 0, again.stdout[-3000:]
    assert recap(again.stdout)["changed"] == 0
    assert (digest(key), digest(cert)) == before
    body = [line for line in key.read_text().splitlines() if line and "-----" not in line]
    assert len(body) > 10
    output = again.stdout + again.stderr
    assert not any(line in output for line in body), "CA key material in -vvv output"
    assert "PRIVATE KEY" not in output

    assert recap(run(tmp_path, check_mode=True).stdout)["changed"] == 0


def test_half_a_ca_is_refused_not_regenerated(tmp_path):
    ca_dir = tmp_path / "state" / "mesh-ca"
    assert run(tmp_path).returncode == 0
    key_before = digest(ca_dir / "ca.key")
    (ca_dir / "ca.crt").unlink()
    proc = run(tmp_path)
    assert proc.returncode != 0
    assert "exists but" in proc.stdout and "is never regenerated" in proc.stdout
    assert digest(ca_dir / "ca.key") == key_before
    assert not (ca_dir / "ca.crt").exists()


def test_a_readable_ca_key_is_refused(tmp_path):
    ca_dir = tmp_path / "state" / "mesh-ca"
    assert run(tmp_path).returncode == 0
    (ca_dir / "ca.key").chmod(0o644)
    proc = run(tmp_path)
    assert proc.returncode != 0
    assert "it must be 0600" in proc.stdout

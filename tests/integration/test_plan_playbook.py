# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/plan.yml end to end (issue 13, findings 1, 2, 8, 11 and check-mode honesty).

Real ansible-playbook runs on copies of the example inventory in tmp_path; only the
control node is involved. Checks: a source that does not parse (a file of an inventory
directory, a group_vars file, a missing -i path, a broken hosts.yml) refuses the plan with
the file and line and writes nothing; the output dir defaults to <inventory dir>/.edgemesh
(which Ansible does not read as inventory); a re-plan prints what changed, --diff shows
the changed files but never the state file, --check writes nothing and says what would
change, and files of a removed cluster leave the output dir.
"""

import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = str(pathlib.Path(sys.executable).parent / "ansible-playbook")
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
BROKEN = "---\nall:\n  children:\n    cluster_x:\n      hosts:\n        x1: {ansible_host: [1\n"


def plan(*args, inventory=()):
    argv = [PLAYBOOK]
    for source in inventory:
        argv += ["-i", str(source)]
    proc = subprocess.run(
        argv + [str(ROOT / "playbooks" / "plan.yml")] + list(args),
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        check=False,
    )
    proc.out = " ".join((proc.stdout + proc.stderr).split())  # the callback wraps lines
    return proc


def snapshot(directory):
    found = {}
    for base, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, directory)] = hashlib.sha256(handle.read()).hexdigest()
    return found


@pytest.fixture(name="inv")
def inv_fixture(tmp_path):
    inv = tmp_path / "mesh-a"
    shutil.copytree(ROOT / "inventories" / "example", inv, ignore=shutil.ignore_patterns(".*"))
    return inv


def refused(proc, *parts):
    assert proc.returncode != 0, proc.stdout[-2000:]
    for part in parts:
        assert part in proc.out, proc.stdout[-3000:]
    assert "Finalization of task args" not in proc.out
    assert "Traceback" not in proc.out


def test_default_output_dir_is_beside_the_inventory(inv, tmp_path):
    proc = plan(inventory=[inv])
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (inv / ".edgemesh" / "plan.json").is_file()
    assert (inv / ".edgemesh" / "mesh-state.json").is_file()
    assert not (ROOT / "build" / "plan-files.json").exists()
    assert "first plan of this output directory" in proc.out
    # A second inventory elsewhere never sees the first one's state.
    other = tmp_path / "mesh-b"
    shutil.copytree(inv, other, ignore=shutil.ignore_patterns(".*"))
    assert plan(inventory=[other / "hosts.yml"]).returncode == 0
    assert (other / ".edgemesh" / "plan.json").is_file()
    # Re-run: .edgemesh is not parsed as inventory, nothing changes.
    again = plan(inventory=[inv])
    assert again.returncode == 0 and "changed=0" in again.out
    assert "Unable to parse" not in again.out
    assert "no change since the last plan" in again.out


def test_sources_in_two_directories_need_edgemesh_output_dir(inv, tmp_path):
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "extra.yml").write_text("---\nall:\n  hosts:\n    spare: {}\n")
    proc = plan(inventory=[inv, tmp_path / "more" / "extra.yml"])
    refused(
        proc,
        "mesh_plan: edgemesh_output_dir is not set and the inventory sources are in 2 "
        "directories (%s, %s)" % (inv, tmp_path / "more"),
    )
    ok = plan("-e", "edgemesh_output_dir=%s" % (tmp_path / "out"), inventory=[inv])
    assert ok.returncode == 0 and (tmp_path / "out" / "plan.json").is_file()


@pytest.mark.parametrize(
    "relative, text, message",
    [
        ("more.yml", BROKEN, "inventory file {path} does not parse"),
        ("group_vars/cluster_eu_core.yml", "---\nx: [1\n", "group_vars file {path} does not load"),
        ("hosts.yml", "---\nall:\n  children: [1\n", "inventory file {path} does not parse"),
    ],
    ids=["file-of-a-directory", "group_vars", "hosts.yml"],
)
def test_a_source_that_does_not_parse_refuses_the_plan(inv, relative, text, message):
    path = inv / relative
    path.write_text(text)
    proc = plan(inventory=[inv])
    line = len(text.splitlines()) + 1
    refused(
        proc,
        "1 inventory problem(s); nothing planned, nothing written",
        message.format(path=path),
        "(at %s:%d:1)" % (path, line),
    )
    assert not (inv / ".edgemesh").exists()


def test_a_missing_inventory_path_is_named(inv, tmp_path):
    missing = inv / "hosts-typo.yml"
    proc = plan(inventory=[inv, missing])
    refused(proc, "inventory source %s does not exist" % missing)
    assert not (inv / ".edgemesh").exists()


def test_check_mode_writes_nothing(inv):
    proc = plan("--check", inventory=[inv])
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "would write 16 of 16 file(s) under %s" % (inv / ".edgemesh") in proc.out
    assert not (inv / ".edgemesh").exists()


def _drop_us_core(inv):
    text = (inv / "hosts.yml").read_text()
    start = text.index("        cluster_us_core:")
    (inv / "hosts.yml").write_text(text[:start])
    (inv / "group_vars" / "cluster_us_core.yml").unlink()


def test_removal_check_then_real_then_diff(inv):
    assert plan(inventory=[inv]).returncode == 0
    out = inv / ".edgemesh"
    (out / "us-core" / "kubeconfig").write_text("apiVersion: v1\n")  # written by a role
    before = snapshot(out)
    _drop_us_core(inv)
    remove = ["-e", '{"edgemesh_remove_clusters": ["us-core"]}']
    check = plan("--check", "--diff", *remove, inventory=[inv])
    assert check.returncode == 0, check.stdout[-2000:]
    assert snapshot(out) == before
    assert "clusters removed (IDs, CIDRs and NodePort stay reserved): us-core" in check.out
    assert "peers of 2 clusters (eu-core, eu-edge-1): -us-core" in check.out
    assert "would remove 5 file(s) of clusters no longer planned" in check.out
    assert "us-core/cilium-values.yaml (removed)" in check.out
    assert "before: plan.json" in check.out and "mesh-state.json" not in check.out
    real = plan(*remove, inventory=[inv])
    assert real.returncode == 0, real.stdout[-2000:]
    assert "removed 5 file(s) of clusters no longer planned" in real.out
    left = sorted(p for p in snapshot(out) if p.startswith("us-core/"))
    assert left == ["us-core/kubeconfig"]
    again = plan(*remove, inventory=[inv])
    assert "no change since the last plan" in again.out and "changed=0" in again.out

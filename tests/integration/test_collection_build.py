# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection builds into a clean tarball and its plugins are visible to ansible-doc."""

import json
import os
import pathlib
import subprocess
import sys
import tarfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
CLUTTER = (
    ".venv/",
    ".collections/",
    ".git/",
    "build/",
    "tests/output/",
    ".ci/",
    "benchmarks/",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    "constraints.txt",
    "Makefile",
    "pyproject.toml",
)


def test_build_has_no_dev_clutter(tmp_path):
    subprocess.run(
        [
            str(BIN / "ansible-galaxy"),
            "collection",
            "build",
            "--output-path",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        env=ENV,
        cwd=ROOT,
    )
    (tarball,) = tmp_path.glob("edgemesh-cluster_mesh-*.tar.gz")
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "galaxy.yml" not in names and "MANIFEST.json" in names
    assert any(n.startswith("plugins/") for n in names)
    assert any(n.startswith("roles/") for n in names)
    bad = [n for n in names for c in CLUTTER if n.startswith(c) or f"/{c}" in n]
    assert not bad, f"dev files in the tarball: {bad[:10]}"


def test_ansible_doc_lists_the_collection_plugins():
    plugins = sorted(p.stem for p in (ROOT / "plugins" / "filter").glob("*.py"))
    assert plugins, "the collection has no filter plugins yet"
    out = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "filter", "-l", "edgemesh.cluster_mesh", "-j"],
        check=True,
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
    ).stdout
    listed = sorted(name.split(".")[-1] for name in json.loads(out))
    assert listed == plugins
    modules = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py"))
    out = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "module", "-l", "edgemesh.cluster_mesh", "-j"],
        check=True,
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
    ).stdout
    assert sorted(name.split(".")[-1] for name in json.loads(out)) == modules

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution-environment.yml: a valid ansible-builder v3 definition whose build context is
created offline, installs this collection with its pinned dependencies, declares the Python
requirements through meta/execution-environment.yml, and installs helm only after checking
a pinned sha256. No image is built here (no registry access); the checks run on the
definition, the generated Containerfile and ansible-builder's own introspection script.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml
from ansible_builder.ee_schema import validate_schema

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
# No network: a proxy that refuses every connection proves `create` needs none.
OFFLINE = dict(
    os.environ,
    ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
    http_proxy="http://127.0.0.1:9",
    https_proxy="http://127.0.0.1:9",
    HTTP_PROXY="http://127.0.0.1:9",
    HTTPS_PROXY="http://127.0.0.1:9",
    no_proxy="",
)
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def ee():
    return load(ROOT / "execution-environment.yml")


@pytest.fixture(scope="module")
def galaxy():
    return load(ROOT / "galaxy.yml")


@pytest.fixture(scope="module")
def context(tmp_path_factory, ee, galaxy):
    """Build the collection tarball and run `ansible-builder create`, like `make build` + docs/awx.md."""
    work = tmp_path_factory.mktemp("ee")
    dist = work / "build" / "dist"
    dist.mkdir(parents=True)
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        env=OFFLINE,
        cwd=ROOT,
    )
    shutil.copy(ROOT / "execution-environment.yml", work / "execution-environment.yml")
    run = subprocess.run(
        [
            str(BIN / "ansible-builder"),
            "create",
            "-f",
            "execution-environment.yml",
            "-c",
            "context",
            "--output-filename",
            "Containerfile",
        ],
        capture_output=True,
        text=True,
        env=OFFLINE,
        cwd=work,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return work


def test_definition_is_valid_v3(ee):
    assert ee["version"] == 3
    validate_schema(ee)  # ansible-builder's own schema; raises on any unknown or mistyped key


def test_collection_tarball_matches_galaxy_version(ee, galaxy):
    tarball = "edgemesh-cluster_mesh-%s.tar.gz" % galaxy["version"]
    names = [c["name"] for c in ee["dependencies"]["galaxy"]["collections"]]
    assert "/build/collections/" + tarball in names
    assert {"src": "build/dist/" + tarball, "dest": "collections"} in ee["additional_build_files"]


def test_collection_dependencies_are_pinned_to_the_tested_versions(ee, galaxy):
    pins = dict(
        (c["name"], c.get("version"))
        for c in ee["dependencies"]["galaxy"]["collections"]
        if c.get("type") != "file"
    )
    assert sorted(pins) == sorted(galaxy["dependencies"])
    import ansible_collections

    site = pathlib.Path(list(ansible_collections.__path__)[-1])
    for name, version in pins.items():
        namespace, coll = name.split(".")
        manifests = [
            p / namespace / coll / "MANIFEST.json"
            for p in map(pathlib.Path, ansible_collections.__path__)
            if (p / namespace / coll / "MANIFEST.json").exists()
        ] or [site / namespace / coll / "MANIFEST.json"]
        tested = json.loads(manifests[0].read_text())["collection_info"]["version"]
        assert version == tested, "%s pinned to %s, tests run %s" % (name, version, tested)


def test_ansible_core_pin_matches_constraints(ee):
    constraints = (ROOT / "constraints.txt").read_text().split()
    core = [c for c in constraints if c.startswith("ansible-core==")][0]
    assert ee["dependencies"]["ansible_core"]["package_pip"] == core


def test_helm_is_pinned_and_verified_before_install(ee):
    steps = ee["additional_build_steps"]["append_final"]
    (helm,) = [s for s in steps if "get.helm.sh" in s]
    urls = re.findall(
        r"https://get\.helm\.sh/helm-v(\d+\.\d+\.\d+)-linux-\$\{arch\}\.tar\.gz", helm
    )
    assert urls == ["3.18.4"]
    sums = dict(re.findall(r"(amd64|arm64); sum=([0-9a-f]+)", helm))
    assert sorted(sums) == ["amd64", "arm64"]
    assert all(SHA256.match(s) for s in sums.values())
    assert len(set(sums.values())) == 2
    # download -> verify -> unpack -> install, in that order; a failed check stops the RUN
    order = [helm.index(k) for k in ("curl -fsSL", "sha256sum -c", "tar -xzf", "install -m 0755")]
    assert order == sorted(order)
    assert "set -eu" in helm
    assert "exit 1" in helm.split("esac")[0]  # an unpinned architecture fails the build


def test_meta_points_at_the_requirement_files():
    meta = load(ROOT / "meta" / "execution-environment.yml")
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    assert (ROOT / "requirements.txt").is_file() and (ROOT / "bindep.txt").is_file()


def test_create_writes_a_complete_build_context(context, galaxy):
    ctx = context / "context"
    containerfile = (ctx / "Containerfile").read_text()
    tarball = (
        ctx / "_build" / "collections" / ("edgemesh-cluster_mesh-%s.tar.gz" % galaxy["version"])
    )
    assert tarball.is_file()
    reqs = load(ctx / "_build" / "requirements.yml")
    assert {"name": "/build/collections/" + tarball.name, "type": "file"} in reqs["collections"]
    assert "ansible-galaxy collection install" in containerfile
    assert "ansible-core==2.19.14" in containerfile
    final = containerfile.split("FROM base AS final")[1]
    # helm is installed in the final image, after the bindep packages (tar, gzip)
    assert (
        final.index("install-from-bindep") < final.index("get.helm.sh") < final.index("USER 1000")
    )
    assert "f8180838c23d7c7d797b208861fecb591d9ce1690d8704ed1e4cb8e2add966c1" in final


def test_introspection_finds_the_collection_requirements(context, galaxy, tmp_path):
    """Run the builder's own introspect.py on the collection unpacked from the tarball,
    as the image build does after `ansible-galaxy collection install`."""
    dest = tmp_path / "collections" / "ansible_collections" / "edgemesh" / "cluster_mesh"
    dest.mkdir(parents=True)
    tarball = (
        context
        / "context"
        / "_build"
        / "collections"
        / ("edgemesh-cluster_mesh-%s.tar.gz" % galaxy["version"])
    )
    with tarfile.open(tarball) as tar:
        tar.extractall(dest, filter="data")
    out = subprocess.run(
        [
            sys.executable,
            str(context / "context" / "_build" / "scripts" / "introspect.py"),
            "introspect",
            str(tmp_path / "collections"),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=OFFLINE,
    ).stdout
    data = yaml.safe_load(out)
    wanted = [
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    # the builder drops what ansible-core already brings (PyYAML) - nothing else
    from ansible_builder._target_scripts.introspect import EXCLUDE_REQUIREMENTS

    python = data["python"]
    for req in wanted:
        name = re.split(r"[<>=!~\[ ]", req)[0].lower()
        if name in EXCLUDE_REQUIREMENTS:
            assert not any(p.lower().startswith(name) for p in python)
            continue
        assert "%s  # from collection edgemesh.cluster_mesh" % req in python, python
    assert any(p.startswith("netaddr") for p in python)  # the planner's library
    assert any(s.startswith("tar [platform:rpm]") for s in data["system"])
    assert any(s.startswith("gzip [platform:rpm]") for s in data["system"])

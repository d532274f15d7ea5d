# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real containerd binaries of Debian 12 (1.6), 13 (1.7) and unstable (2.1).

`apt-get download` + `dpkg-deb -x` through debian_packages.py (beside this file) into
~/.cache/edgemesh/debian-packages; the second run is offline. A test skips only when the
Debian mirror is really unreachable, and under CI (CI=true) even that fails the run, so CI
cannot pass without running them.
"""

import importlib.util
import os
import pathlib
import subprocess

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.containerd_config import (
    version_from_text,
)

HERE = pathlib.Path(__file__).resolve().parent
_SPEC = importlib.util.spec_from_file_location(
    "edgemesh_debian_packages", HERE / "debian_packages.py"
)
debian_packages = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(debian_packages)

# Debian suite -> the containerd minor it ships (checked against `containerd --version`).
SUITES = {"bookworm": "1.6", "trixie": "1.7", "unstable": "2.1"}


class Containerd:
    """One unpacked Debian containerd package: its binaries and its reported version."""

    def __init__(self, suite, root):
        self.suite = suite
        self.bin = pathlib.Path(root) / "usr" / "bin"
        self.containerd = self.bin / "containerd"
        self.ctr = self.bin / "ctr"
        out = subprocess.run(
            [str(self.containerd), "--version"], capture_output=True, text=True, check=True
        ).stdout
        self.version_line = out.strip()

    def __repr__(self):
        return "Containerd(%s: %s)" % (self.suite, self.version_line)


def _fetch(suite):
    try:
        return debian_packages.fetch(suite, ["containerd"])["containerd"]
    except debian_packages.Unreachable as exc:
        message = "Debian mirror unreachable, containerd of %s not fetched: %s" % (suite, exc)
        if os.environ.get("CI"):
            pytest.fail(message + " (CI=true: the real-binary tests must run)")
        pytest.skip(message)


@pytest.fixture(scope="session", params=sorted(SUITES))
def debian_containerd(request):
    found = Containerd(request.param, _fetch(request.param))
    version = version_from_text(found.version_line)
    assert "%d.%d" % version[:2] == SUITES[request.param], found
    return found


@pytest.fixture(scope="session")
def containerd_of():
    """suite -> Containerd, for the tests that feed one version's file to another."""
    cache = {}

    def get(suite):
        if suite not in cache:
            cache[suite] = Containerd(suite, _fetch(suite))
        return cache[suite]

    return get

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the playbook-level tests: generated inventories, fake kubeconfigs, a
STAND-IN helm (tests/integration/stand_ins/helm) that records release operations, and the
REAL helm v4.1.4 with the real Cilium charts for the render tests (test_chart_render.py).

Nothing here reaches a Kubernetes API: the kubeconfigs point at TEST-NET addresses and the
helm stand-in answers from a JSON store. What these tests prove is the playbooks' own
behaviour - how many release operations they issue and whether a re-run changes anything.
"""

import hashlib
import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
STAND_IN_HELM = ROOT / "tests" / "integration" / "stand_ins" / "helm"
# The real Cilium charts: $EDGEMESH_CHARTS_DIR, else ../shared/charts beside the repository.
CHARTS_DIR = pathlib.Path(
    os.environ.get("EDGEMESH_CHARTS_DIR") or ROOT.parent / "shared" / "charts"
)
CILIUM_REPO = "https://helm.cilium.io"

_SPEC = importlib.util.spec_from_file_location(
    "edgemesh_real_helm", ROOT / "tests" / "integration" / "helm" / "real_helm.py"
)
real_helm = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(real_helm)


def _skip_or_fail(message):
    if os.environ.get("CI"):
        pytest.fail(message + " (CI=true: the real chart tests must run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def helm_binary():
    """The real helm (make helm installs it; installed here too when missing)."""
    try:
        return str(real_helm.install() / "helm")
    except (real_helm.ChecksumError, RuntimeError, OSError) as exc:
        _skip_or_fail("no real helm (run `make helm`): %s" % exc)


def _pinned_sums(directory):
    sums = {}
    path = directory / "SHA256SUMS"
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                digest, name = line.split(None, 1)
                sums[name.strip().lstrip("*")] = digest
    return sums


def chart_path(helm, version):
    """cilium-<version>.tgz from CHARTS_DIR (sha256 checked against its SHA256SUMS), else
    pulled with helm from the Cilium repository into the cache, else skipped (CI: failed)."""
    name = "cilium-%s.tgz" % version
    local = CHARTS_DIR / name
    if local.is_file():
        pinned = _pinned_sums(CHARTS_DIR).get(name)
        digest = hashlib.sha256(local.read_bytes()).hexdigest()
        assert pinned in (None, digest), "%s: sha256 %s, SHA256SUMS says %s" % (
            local,
            digest,
            pinned,
        )
        return str(local)
    cache = real_helm.cache_root() / "charts"
    if not (cache / name).is_file():
        cache.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [helm, "pull", "cilium", "--repo", CILIUM_REPO, "--version", version, "-d", str(cache)],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if proc.returncode != 0:
            _skip_or_fail(
                "Cilium chart %s neither in %s nor pullable from %s; set EDGEMESH_CHARTS_DIR "
                "to a directory holding %s" % (version, CHARTS_DIR, CILIUM_REPO, name)
            )
    return str(cache / name)


def cluster_name(i):
    return "c%02d" % i


def write_mesh(tmp, n, version="1.19.6", names=None):
    """Inventory of n existing clusters (kubeconfigs only) and their fake kubeconfigs."""
    names = names or [cluster_name(i) for i in range(1, n + 1)]
    kube_dir = tmp / "kubeconfigs"
    kube_dir.mkdir(exist_ok=True)
    children = {}
    for name in names:
        i = int(name[1:])
        server = "198.18.%d.1" % i
        kubeconfig = kube_dir / (name + ".yaml")
        kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": name,
                    "contexts": [{"name": name, "context": {"cluster": name, "user": "admin"}}],
                    "clusters": [{"name": name, "cluster": {"server": "https://%s:6443" % server}}],
                    "users": [{"name": "admin", "user": {"token": "stand-in"}}],
                }
            )
        )
        kubeconfig.chmod(0o600)
        children["cluster_" + name] = {
            "vars": {
                "edgemesh_cluster_name": name,
                "edgemesh_region": "region-%d" % (i % 2),
                "edgemesh_distribution": "k3s" if i % 2 else "kubeadm",
                "edgemesh_kubeconfig": str(kubeconfig),
            },
            "hosts": {
                name + "-s1": {"ansible_host": server, "edgemesh_node_role": "server"},
                name + "-a1": {"ansible_host": "198.18.%d.2" % i, "edgemesh_node_role": "agent"},
            },
        }
    inventory = {
        "all": {
            "vars": {"edgemesh_cilium_version": version},
            "children": {"edgemesh_clusters": {"children": children}},
        }
    }
    path = tmp / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=True))
    return path


class Runner:
    """Runs ansible-playbook from the repository root with the helm stand-in."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.out = tmp / "build"
        self.helm_state = tmp / "helm-state"
        self.helm_log = tmp / "helm.log"
        self.helm_state.mkdir(exist_ok=True)

    def run(self, playbook, inventory, *args, check=True):
        self.helm_log.write_text("")
        env = dict(os.environ)
        bin_dir = str(pathlib.Path(sys.executable).parent)
        env.update(
            {
                "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
                "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_NOCOLOR": "1",
                "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
                "STANDIN_HELM_STATE": str(self.helm_state),
                "STANDIN_HELM_LOG": str(self.helm_log),
            }
        )
        cmd = [
            os.path.join(bin_dir, "ansible-playbook"),
            "-i",
            str(inventory),
            str(ROOT / "playbooks" / playbook),
            "-e",
            "edgemesh_output_dir=%s" % self.out,
            "-e",
            "cilium_helm_binary=%s" % STAND_IN_HELM,
            "-e",
            '{"cilium_wait_ready": false, "mesh_ca_key_size": 2048}',
        ] + list(args)
        proc = subprocess.run(
            cmd, cwd=str(ROOT), env=env, capture_output=True, check=False, text=True, timeout=900
        )
        log = self.helm_log.read_text().splitlines()
        if check:
            assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
        return proc, log


@pytest.fixture
def runner(tmp_path):
    return Runner(tmp_path)


@pytest.fixture(name="write_mesh")
def _write_mesh_fixture():
    return write_mesh


@pytest.fixture(name="cluster_name")
def _cluster_name_fixture():
    return cluster_name

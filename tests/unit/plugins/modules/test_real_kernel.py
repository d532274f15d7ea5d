# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real kernels as test subjects.

1. The kernel running these tests: every verdict of the kernel_readiness module must agree
   with the kernel's own configuration, read here independently (plain text matching).
2. A Debian distribution kernel config (apt-get download + dpkg-deb), where WireGuard and
   GENEVE are modules: ready, with the module named for loading.
3. The node_prep role on this machine: a failed preflight lists every missing item of every
   host at once and changes nothing.

Nothing here hard-codes what this machine's kernel has.
"""

import glob
import gzip
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_requirements import (
    FEATURES,
    requirements_for,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]
COLLECTIONS = ROOT / ".collections"
MODULE = "ansible_collections.edgemesh.cluster_mesh.plugins.modules.kernel_readiness"
RELEASE = platform.release()
CANDIDATES = ["/proc/config.gz", "/boot/config-%s" % RELEASE, "/lib/modules/%s/config" % RELEASE]
CACHE = pathlib.Path(
    os.environ.get("EDGEMESH_CACHE_DIR")
    or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "edgemesh")
)


def running_config():
    for path in CANDIDATES:
        if os.path.isfile(path):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt") as handle:
                return path, handle.read()
    return None, None


def option_state(text, option):
    """'y', 'm' or None, by plain matching of one line of the config text."""
    match = re.search(r"^%s=([ym])$" % re.escape(option), text, re.M)
    return match.group(1) if match else None


def version_of(release):
    return tuple(int(x) for x in re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release).groups("0"))


def run_module(args, tmp_path):
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run(
        [sys.executable, "-m", MODULE, str(args_file)],
        capture_output=True,
        check=False,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(COLLECTIONS)),
        timeout=60,
    )
    return json.loads(proc.stdout)


def expected_missing(text, feature, kernel):
    missing = []
    for item in requirements_for("1.19")["features"][feature]["options"]:
        if item["max_kernel"] and kernel >= version_of(item["max_kernel"]):
            continue
        if option_state(text, item["option"]) is None:
            missing.append(item["option"])
    return missing


SOURCE, TEXT = running_config()
needs_config = pytest.mark.skipif(
    TEXT is None, reason="no kernel config of the running kernel in %s" % ", ".join(CANDIDATES)
)


@needs_config
def test_every_verdict_matches_the_running_kernels_config(tmp_path):
    result = run_module({"features": list(FEATURES), "cilium_version": "1.19"}, tmp_path)
    report = result["readiness"]
    assert result["changed"] is False
    assert report["config"]["source"] == SOURCE
    kernel = version_of(RELEASE)
    assert report["kernel"]["release"] == RELEASE
    for feature in FEATURES:
        got = report["features"][feature]
        missing = expected_missing(TEXT, feature, kernel)
        assert got["missing_options"] == missing, feature
        minimum = got["min_kernel"]
        too_old = bool(minimum) and kernel < version_of(minimum)
        assert got["verdict"] == ("missing" if missing or too_old else "ready"), feature


@needs_config
def test_wireguard_vxlan_and_base_verdicts_name_the_options(tmp_path):
    report = run_module({"features": ["vxlan", "wireguard"], "cilium_version": "1.20"}, tmp_path)[
        "readiness"
    ]
    wireguard = report["features"]["wireguard"]
    if option_state(TEXT, "CONFIG_WIREGUARD"):
        assert wireguard["verdict"] == "ready"
    else:
        assert wireguard["verdict"] == "missing"
        assert "wireguard: CONFIG_WIREGUARD" in report["missing"]
    vxlan_ok = option_state(TEXT, "CONFIG_VXLAN") and option_state(TEXT, "CONFIG_FIB_RULES")
    assert report["features"]["vxlan"]["verdict"] == ("ready" if vxlan_ok else "missing")
    base_missing = [
        o for o in ("CONFIG_CRYPTO_USER_API_HASH", "CONFIG_SCHEDSTATS") if not option_state(TEXT, o)
    ]
    for option in base_missing:
        assert option in report["features"]["base"]["missing_options"]


@needs_config
def test_host_facts_match_the_machine(tmp_path):
    report = run_module({"cilium_version": "1.18"}, tmp_path)["readiness"]
    modules = option_state(TEXT, "CONFIG_MODULES") == "y"
    assert report["modules_supported"] is modules
    assert report["btf"] is os.path.exists("/sys/kernel/btf/vmlinux")
    with open("/proc/self/mounts") as handle:
        mounts = [line.split()[1:3] for line in handle]
    assert report["bpffs_mounted"] is (["/sys/fs/bpf", "bpf"] in mounts)
    if ["/sys/fs/cgroup", "cgroup2"] in mounts:
        assert report["cgroup"] == "v2"
    if shutil.which("iptables"):
        out = subprocess.run(
            ["iptables", "--version"], capture_output=True, check=False, text=True
        ).stdout
        assert report["iptables_backend"] in out


# --- a Debian distribution kernel --------------------------------------------------------


def debian_config():
    """boot/config-* of Debian's current linux-image-amd64, cached under CACHE."""
    cached = sorted(glob.glob(str(CACHE / "kernel-configs" / "config-*")))
    if cached:
        return cached[-1]
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        pytest.skip("apt-get/dpkg-deb not available to fetch a Debian kernel package")
    deps = subprocess.run(
        ["apt-cache", "depends", "linux-image-amd64"], capture_output=True, check=False, text=True
    ).stdout
    match = re.search(r"Depends: (linux-image-\S+)", deps)
    if not match:
        pytest.skip("apt knows no linux-image-amd64 package (no Debian package lists)")
    work = CACHE / "kernel-configs" / "download"
    work.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["apt-get", "download", match.group(1)],
        cwd=str(work),
        capture_output=True,
        check=False,
        text=True,
        timeout=900,
    )
    debs = glob.glob(str(work / "*.deb"))
    if proc.returncode != 0 or not debs:
        pytest.skip("apt-get download %s failed: %s" % (match.group(1), proc.stderr.strip()[-200:]))
    subprocess.run(["dpkg-deb", "-x", debs[0], str(work / "root")], check=True, timeout=600)
    found = glob.glob(str(work / "root" / "boot" / "config-*"))
    assert found, "the Debian kernel package holds no boot/config-*"
    target = CACHE / "kernel-configs" / os.path.basename(found[0])
    shutil.copyfile(found[0], str(target))
    shutil.rmtree(str(work))
    return str(target)


def test_debian_distro_kernel_needs_modules_loaded(tmp_path):
    path = debian_config()
    with open(path) as handle:
        text = handle.read()
    report = run_module(
        {
            "features": ["vxlan", "geneve", "wireguard"],
            "cilium_version": "1.19",
            "kernel_config_path": path,
        },
        tmp_path,
    )["readiness"]
    assert report["config"]["source"] == path
    assert report["modules_supported"] is (option_state(text, "CONFIG_MODULES") == "y")
    for feature, option, module in (
        ("wireguard", "CONFIG_WIREGUARD", "wireguard"),
        ("geneve", "CONFIG_GENEVE", "geneve"),
    ):
        state = option_state(text, option)
        assert report["features"][feature]["verdict"] == ("ready" if state else "missing")
        if state == "m":
            assert module in report["features"][feature]["modules_to_load"]
            assert module in report["modules_to_load"]


# --- the role on this machine: a failed preflight changes nothing -------------------------

WATCHED = [
    "/etc/sysctl.d/90-edgemesh-cilium.conf",
    "/etc/sysctl.d/91-edgemesh-cilium-rp-filter.conf",
    "/etc/systemd/system/edgemesh-bpffs.service",
    "/etc/systemd/networkd.conf.d/90-edgemesh-cilium.conf",
    "/etc/modules-load.d/edgemesh-cilium.conf",
]


def snapshot():
    state = {}
    for path in WATCHED:
        state[path] = os.stat(path).st_mtime_ns if os.path.exists(path) else None
    with open("/proc/sys/net/ipv4/ip_forward") as handle:
        state["ip_forward"] = handle.read()
    return state


def test_failed_preflight_lists_every_host_and_changes_nothing(tmp_path):
    fixture = tmp_path / "config-no-wireguard"
    fixture.write_text(
        "# Linux/x86 6.12.1 Kernel Configuration\n"
        + "".join(
            "%s=y\n" % i["option"] for i in requirements_for("1.19")["features"]["base"]["options"]
        )
        + "CONFIG_VXLAN=y\nCONFIG_FIB_RULES=y\n# CONFIG_WIREGUARD is not set\n"
    )
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                    },
                    "hosts": {
                        "node-fixture": {"node_prep_kernel_config_path": str(fixture)},
                        "node-real": {},
                    },
                }
            }
        )
    )
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "name": "node_prep on this machine",
                    "hosts": "all",
                    "gather_facts": False,
                    "vars": {
                        "node_prep_features": ["vxlan", "wireguard"],
                        "node_prep_cilium_version": "1.19",
                        "node_prep_output_dir": str(tmp_path / "out"),
                    },
                    "roles": [{"role": "edgemesh.cluster_mesh.node_prep"}],
                }
            ]
        )
    )
    before = snapshot()
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
    )
    proc = subprocess.run(
        [
            str(pathlib.Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(inventory),
            str(playbook),
        ],
        capture_output=True,
        check=False,
        text=True,
        env=env,
        cwd=str(ROOT),
        timeout=300,
    )
    assert snapshot() == before, "the failed preflight changed the host"
    assert proc.returncode != 0, proc.stdout[-2000:]
    run = json.loads(proc.stdout)
    tasks = run["plays"][0]["tasks"]
    names = [t["task"]["name"].split(" : ", 1)[-1] for t in tasks]
    refuse = [t for t, n in zip(tasks, names) if n.startswith("Refuse hosts")]
    assert refuse, names
    message = next(r["msg"] for r in refuse[0]["hosts"].values() if r.get("failed"))
    assert "node-fixture: wireguard: CONFIG_WIREGUARD" in message
    real_report = json.loads((tmp_path / "out" / "readiness" / "node-real.json").read_text())
    for line in real_report["missing"]:
        assert "node-real: " + line in message
    fixture_report = json.loads((tmp_path / "out" / "readiness" / "node-fixture.json").read_text())
    assert fixture_report["missing"] == ["wireguard: CONFIG_WIREGUARD"]
    # Nothing after the preflight ran; only the controller-side reports changed.
    assert not any(n.startswith(("Install", "Configure", "Start the mount")) for n in names)
    for task, name in zip(tasks, names):
        for result in task["hosts"].values():
            if result.get("changed"):
                assert name.startswith(("Write the readiness reports on the controller",)), name

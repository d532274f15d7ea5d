# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel_readiness module, run as Ansible runs it: a process reading its JSON arguments."""

import gzip
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]
COLLECTIONS = ROOT / ".collections"
MODULE = "ansible_collections.edgemesh.cluster_mesh.plugins.modules.kernel_readiness"

CONFIG = """#
# Linux/x86 6.12.9 Kernel Configuration
#
CONFIG_MODULES=y
CONFIG_BPF=y
CONFIG_BPF_SYSCALL=y
CONFIG_NET_CLS_BPF=m
CONFIG_BPF_JIT=y
CONFIG_NET_CLS_ACT=y
CONFIG_NET_SCH_INGRESS=m
CONFIG_CRYPTO_SHA1=y
CONFIG_CRYPTO_USER_API_HASH=m
CONFIG_CGROUPS=y
CONFIG_CGROUP_BPF=y
CONFIG_PERF_EVENTS=y
CONFIG_SCHEDSTATS=y
CONFIG_VXLAN=m
CONFIG_FIB_RULES=y
CONFIG_WIREGUARD=m
# CONFIG_GENEVE is not set
"""


def run_module(args, tmp_path):
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    proc = subprocess.run(
        [sys.executable, "-m", MODULE, str(args_file)],
        capture_output=True,
        check=False,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=60,
    )
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "config-6.12.9-edge.gz"
    with gzip.open(str(path), "wb") as handle:
        handle.write(CONFIG.encode())
    return str(path)


def test_given_config_file_is_judged(tmp_path, config_file):
    result = run_module(
        {
            "features": ["vxlan", "wireguard", "geneve"],
            "cilium_version": "1.19.6",
            "kernel_config_path": config_file,
        },
        tmp_path,
    )
    assert result["changed"] is False and not result.get("failed")
    report = result["readiness"]
    assert report["config"] == {"found": True, "source": config_file, "candidates": [config_file]}
    assert report["kernel"]["release"] == "6.12.9"
    assert report["features"]["base"]["verdict"] == "ready"
    assert report["features"]["vxlan"]["verdict"] == "ready"
    assert report["features"]["wireguard"]["modules_to_load"] == ["wireguard"]
    assert report["features"]["geneve"]["verdict"] == "missing"
    assert report["missing"] == ["geneve: CONFIG_GENEVE"]
    assert report["modules_to_load"] == [
        "algif_hash",
        "cls_bpf",
        "sch_ingress",
        "vxlan",
        "wireguard",
    ]
    assert report["config_options"]["CONFIG_GENEVE"] == "n"
    assert report["config_options"]["CONFIG_WIREGUARD"] == "m"
    for key in (
        "distro",
        "btf",
        "cgroup",
        "bpffs_mounted",
        "memlock",
        "iptables_backend",
        "networkd",
    ):
        assert key in report


def test_check_mode_gives_the_same_answer(tmp_path, config_file):
    args = {"features": ["wireguard"], "cilium_version": "1.20", "kernel_config_path": config_file}
    normal = run_module(args, tmp_path)
    checked = run_module(dict(args, _ansible_check_mode=True), tmp_path)
    assert checked["changed"] is False
    assert checked["readiness"]["features"] == normal["readiness"]["features"]


def test_kernel_release_overrides_config_header(tmp_path, config_file):
    result = run_module(
        {
            "features": ["netkit"],
            "cilium_version": "1.19",
            "kernel_config_path": config_file,
            "kernel_release": "6.6.1-custom",
        },
        tmp_path,
    )
    netkit = result["readiness"]["features"]["netkit"]
    assert netkit["verdict"] == "missing" and netkit["kernel_ok"] is False
    assert result["readiness"]["missing"] == ["netkit: kernel >= 6.8 (have 6.6.1), CONFIG_NETKIT"]


@pytest.mark.parametrize(
    "args,message",
    [
        ({"cilium_version": "1.14"}, "Cilium version '1.14' is not supported; allowed: 1.18.x"),
        ({"cilium_version": "banana"}, "Cilium version 'banana' is not supported"),
        (
            {"cilium_version": "1.19", "features": ["warp"]},
            "value of features must be one or more of",
        ),
        ({}, "missing required arguments: cilium_version"),
        (
            {"cilium_version": "1.19", "kernel_release": "latest"},
            "'latest' is not a kernel release",
        ),
        (
            {"cilium_version": "1.19", "kernel_config_path": "/nonexistent/config"},
            "kernel_config_path /nonexistent/config: no such file",
        ),
    ],
)
def test_bad_input_fails_with_a_clear_message(tmp_path, args, message):
    result = run_module(args, tmp_path)
    assert result["failed"] is True
    assert message in result["msg"]


def test_file_that_is_not_a_config_is_refused(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("just some notes\n")
    result = run_module({"cilium_version": "1.19", "kernel_config_path": str(other)}, tmp_path)
    assert result["failed"] is True
    assert result["msg"] == (
        "kernel_readiness: no CONFIG_ lines: this is not a kernel configuration file"
    )

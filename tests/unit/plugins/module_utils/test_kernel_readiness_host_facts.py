# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host facts kernel_readiness returns for node_prep (host_facts: true): OS family
from os-release, unit states from `systemctl show`, swaps from /proc/swaps; and the module
with host_facts on this machine.

The `systemctl show` text below is what systemd 252 (Debian 12 test host) prints for
`systemctl show --property=Id,LoadState,SubState systemd-networkd.service
firewalld.service nope.service` (captured from a test host of tests/hosts)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.kernel_readiness import (
    os_family,
    parse_unit_states,
    read_os_release,
    read_swaps,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]
MODULE = "ansible_collections.edgemesh.cluster_mesh.plugins.modules.kernel_readiness"

SHOW = """Id=systemd-networkd.service
LoadState=loaded
SubState=dead

Id=firewalld.service
LoadState=not-found
SubState=dead

Id=ufw.service
LoadState=loaded
SubState=running
"""


@pytest.mark.parametrize(
    "text,family",
    [
        ('ID=debian\nVERSION_ID="12"\n', "Debian"),
        ("ID=ubuntu\nID_LIKE=debian\n", "Debian"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "RedHat"),
        ("ID=fedora\n", "RedHat"),
        ("ID=arch\n", "arch"),
        ("", ""),
    ],
)
def test_os_family(tmp_path, text, family):
    path = tmp_path / "os-release"
    path.write_text(text)
    assert os_family(read_os_release(str(path))) == family


def test_os_family_of_this_machine_is_debian():
    """This machine is Debian 12 (docs/testing.md)."""
    assert os_family(read_os_release()) == "Debian"


def test_unit_states():
    assert parse_unit_states(SHOW) == {
        "systemd-networkd.service": "stopped",
        "firewalld.service": "",
        "ufw.service": "running",
    }
    assert parse_unit_states("") == {}


def test_swaps(tmp_path):
    path = tmp_path / "swaps"
    path.write_text(
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
        "/swapfile                               file\t\t1048572\t\t0\t\t-2\n"
        "/dev/vda3                               partition\t2097148\t\t0\t\t-3\n"
    )
    assert read_swaps(str(path)) == ["/swapfile", "/dev/vda3"]
    assert read_swaps(str(tmp_path / "missing")) == []


def test_module_returns_host_facts_on_this_machine(tmp_path):
    args = {"cilium_version": "1.19", "host_facts": True, "services": ["firewalld.service"]}
    (tmp_path / "args.json").write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run(
        [sys.executable, "-m", MODULE, str(tmp_path / "args.json")],
        capture_output=True,
        check=False,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT / ".collections")),
        timeout=60,
    )
    result = json.loads(proc.stdout)
    facts = result["host_facts"]
    assert facts["os_family"] == "Debian"
    assert facts["swaps"] == read_swaps()
    # No systemd as PID 1 here: the unit's state is unknown, reported as absent.
    assert set(facts["services"]) == {"firewalld.service"}
    assert isinstance(facts["ufw_status"], str)
    assert result["readiness"]["features_requested"] == ["base"]

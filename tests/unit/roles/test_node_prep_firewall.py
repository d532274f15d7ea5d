# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_prep on this machine (connection local) with bad host-firewall inputs: the play
stops in the preflight with the firewall_ports filter's message (or the argument spec's),
before the install, configure and service phases; no traceback."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_requirements import (
    requirements_for,
)

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / ".collections"


def run_role(tmp_path, role_vars):
    config = tmp_path / "kernel-config"
    options = requirements_for("1.19")["features"]["base"]["options"]
    config.write_text(
        "# Linux/x86 6.12.30 Kernel Configuration\n"
        + "".join("CONFIG_%s=y\n" % o["option"].replace("CONFIG_", "") for o in options)
        + "CONFIG_VXLAN=y\nCONFIG_FIB_RULES=y\n"
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
                    "hosts": {"node-fixture": {}},
                }
            }
        )
    )
    play_vars = {
        "node_prep_features": ["vxlan"],
        "node_prep_cilium_version": "1.19",
        "node_prep_kernel_config_path": str(config),
        "node_prep_output_dir": str(tmp_path / "out"),
    }
    play_vars.update(role_vars)
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "name": "node_prep with bad firewall inputs",
                    "hosts": "all",
                    "gather_facts": False,
                    "vars": play_vars,
                    "roles": [{"role": "edgemesh.cluster_mesh.node_prep"}],
                }
            ]
        )
    )
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
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    failed = [
        (t["task"]["name"], r.get("msg", ""))
        for t in tasks
        for r in t["hosts"].values()
        if r.get("failed")
    ]
    names = [t["task"]["name"].split(" : ", 1)[-1] for t in tasks]
    assert not any(n.startswith(("Install", "Configure", "Start the mount")) for n in names)
    return failed


@pytest.mark.parametrize(
    "role_vars, message",
    [
        (
            {"node_prep_cilium_options": {"tunel_protocol": "geneve"}},
            "firewall_ports: cilium_options: unknown option 'tunel_protocol'",
        ),
        (
            {"node_prep_cilium_options": {"cilium_routing_mode": "bgp"}},
            "firewall_ports: cilium_options: option routing_mode must be tunnel or native",
        ),
        (
            {"node_prep_clustermesh_nodeport": 80},
            "firewall_ports: clustermesh_nodeport 80 is not allowed; allowed: 0 (none) or a "
            "NodePort 30000-32767",
        ),
        (
            {"node_prep_firewall_extra_ports": ["8080"]},
            "firewall_ports: extra port 1 '8080' is not allowed",
        ),
    ],
)
def test_bad_inputs_stop_in_the_preflight_with_the_filter_message(tmp_path, role_vars, message):
    failed = run_role(tmp_path, role_vars)
    assert len(failed) == 1, failed
    task, text = failed[0]
    assert task.endswith("Check the inputs of the host firewall's ports"), failed
    assert message in text, text


def test_a_bad_role_is_refused_by_the_argument_spec(tmp_path):
    failed = run_role(tmp_path, {"node_prep_node_role": "worker"})
    assert len(failed) == 1, failed
    assert "node_prep_node_role" in failed[0][1] and "server, agent" in failed[0][1], failed

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_prep's default features on this machine (connection local, report only): the role
asks the kernel for what the cluster's Cilium values need, from the plan it is given
(node_prep_plan / node_prep_cluster, as playbooks/prepare.yml passes them): a cluster with
WireGuard asks for wireguard, one without does not; without a plan the play stops with
the cilium_features message and no traceback (issue 14 #10)."""

import json
import os
import pathlib
import subprocess
import sys

from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.plans import complete_plan

ROOT = pathlib.Path(__file__).resolve().parents[3]


def plan(cilium):
    return complete_plan(
        {
            "mesh": {"cilium_version": "1.19.6"},
            "clusters": [
                {
                    "name": "core",
                    "id": 1,
                    "pod_cidrs": ["10.1.0.0/16"],
                    "clustermesh_nodeport": 32379,
                    "servers": ["192.0.2.1"],
                    "cilium": cilium,
                }
            ],
        }
    )


def run_role(tmp_path, role_vars):
    (tmp_path / "hosts.yml").write_text(
        json.dumps(
            {
                "all": {
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                    },
                    "hosts": {"node-1": {}},
                }
            }
        )
    )
    play_vars = dict(
        {
            "node_prep_report_only": True,
            "node_prep_cilium_version": "1.19",
            "node_prep_output_dir": str(tmp_path / "out"),
        },
        **role_vars,
    )
    (tmp_path / "play.yml").write_text(
        json.dumps(
            [
                {
                    "name": "node_prep with the default features",
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
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
    )
    proc = subprocess.run(
        [
            str(pathlib.Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(tmp_path / "hosts.yml"),
            str(tmp_path / "play.yml"),
        ],
        capture_output=True,
        check=False,
        text=True,
        env=env,
        cwd=str(ROOT),
        timeout=300,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def requested(tmp_path):
    report = json.loads((tmp_path / "out" / "readiness" / "node-1.json").read_text())
    return report["features_requested"]


def test_a_cluster_with_wireguard_asks_for_wireguard(tmp_path):
    proc = run_role(
        tmp_path,
        {"node_prep_plan": plan({"encryption": True}), "node_prep_cluster": "core"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert requested(tmp_path) == [
        "base",
        "vxlan",
        "wireguard",
        "kube_proxy_replacement",
        "l7_proxy",
    ]


def test_geneve_without_encryption(tmp_path):
    cilium = {"encryption": False, "tunnel_protocol": "geneve", "kube_proxy_replacement": False}
    proc = run_role(tmp_path, {"node_prep_plan": plan(cilium), "node_prep_cluster": "core"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert requested(tmp_path) == ["base", "geneve", "l7_proxy", "iptables_masquerade"]


def test_inventory_features_override_the_derivation(tmp_path):
    proc = run_role(tmp_path, {"node_prep_features": ["base", "netkit"]})
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert requested(tmp_path) == ["base", "netkit"]


def test_without_a_plan_the_message_says_what_to_do(tmp_path):
    proc = run_role(tmp_path, {})
    assert proc.returncode != 0
    assert "cilium_features: the plan has no clusters" in proc.stdout
    assert "run playbooks/plan.yml first" in proc.stdout

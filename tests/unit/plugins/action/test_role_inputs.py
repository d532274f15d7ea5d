# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role_inputs action plugin and playbooks/cluster_inputs.yml, run for real by
ansible-playbook on local-connection hosts: the role variables land as host variables
(set_fact over the action's ``vars``), only on the nodes of the distribution; the init
server follows the registered cluster-data stat; refusals are clear messages."""

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import plan_mesh
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.role_inputs import (
    k3s_inputs,
    kubeadm_inputs,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]
PLAYBOOK = str(pathlib.Path(sys.executable).parent / "ansible-playbook")
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
CLUSTERS = {
    "eu-core": (
        "k3s",
        [
            ("eu-1", "192.0.2.11", "server"),
            ("eu-2", "192.0.2.12", "server"),
            ("eu-3", "192.0.2.13", "agent"),
        ],
    ),
    "us-core": (
        "kubeadm",
        [("us-1", "198.51.100.11", "server"), ("us-2", "198.51.100.12", "agent")],
    ),
}
# Printed per host by the test plays: the variables a role would see.
DUMP = """
- name: Dump what the roles would see
  hosts: edgemesh_clusters
  gather_facts: false
  tasks:
    - name: Write the host's role variables
      ansible.builtin.copy:
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        mode: "0600"
        content: >-
          {{ {'vars': dict(names | zip(names | map('extract', hostvars[inventory_hostname]))),
              'groups': group_names} | to_json }}
      vars:
        names: "{{ hostvars[inventory_hostname] | select('match', '^(k3s|kubeadm)_') | sort }}"
      delegate_to: localhost
"""


@pytest.fixture
def mesh(tmp_path):
    inventory = {
        "all": {
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "hosts": {"localhost": {"ansible_connection": "local"}},
            "children": {"edgemesh_clusters": {"children": {}}},
        }
    }
    planner_input = []
    for name, (dist, nodes) in CLUSTERS.items():
        group = "cluster_" + name.replace("-", "_")
        cvars = {
            "edgemesh_cluster_name": name,
            "edgemesh_region": "eu",
            "edgemesh_distribution": dist,
        }
        inventory["all"]["children"]["edgemesh_clusters"]["children"][group] = {
            "vars": cvars,
            "hosts": dict(
                (h, {"ansible_connection": "local", "ansible_become": False})
                for h, _ip, _r in nodes
            ),
        }
        planner_input.append(
            {
                "group": group,
                "vars": cvars,
                "nodes": [{"host": h, "ip": ip, "role": r} for h, ip, r in nodes],
            }
        )
    plan = plan_mesh(planner_input, {}, None)["plan"]
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "plan.json").write_text(json.dumps(plan))
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "out").mkdir()
    return tmp_path, plan


def run(tmp_path, playbook_text):
    (tmp_path / "test.yml").write_text(playbook_text)
    result = subprocess.run(
        [
            PLAYBOOK,
            "-i",
            str(tmp_path / "hosts.yml"),
            str(tmp_path / "test.yml"),
            "-e",
            "edgemesh_output_dir=%s" % (tmp_path / "build"),
            "-e",
            "out=%s" % (tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        check=False,
    )
    return result


def seen(tmp_path, host):
    return json.loads((tmp_path / "out" / ("%s.json" % host)).read_text())


def cluster(plan, name):
    return next(c for c in plan["clusters"] if c["name"] == name)


def test_cluster_inputs_set_the_role_variables_on_the_nodes_of_one_distribution(mesh):
    tmp_path, plan = mesh
    result = run(
        tmp_path,
        "---\n- name: Inputs\n  ansible.builtin.import_playbook: %s\n"
        "  vars:\n    __edgemesh_distribution: k3s\n%s"
        % (ROOT / "playbooks" / "cluster_inputs.yml", DUMP),
    )
    assert result.returncode == 0, result.stdout[-3000:]
    output = str(tmp_path / "build")
    for host in ("eu-1", "eu-2", "eu-3"):
        assert seen(tmp_path, host)["vars"] == k3s_inputs(
            cluster(plan, "eu-core"), host, {"edgemesh_output_dir": output}
        )
    assert set(seen(tmp_path, "eu-1")["groups"]) >= {"edgemesh_k3s", "edgemesh_k3s_init"}
    assert "edgemesh_k3s_server" in seen(tmp_path, "eu-2")["groups"]
    assert "edgemesh_k3s_agent" in seen(tmp_path, "eu-3")["groups"]
    # The kubeadm nodes were only grouped: no variables, no facts, never in the k3s plays.
    assert seen(tmp_path, "us-1") == {
        "vars": {},
        "groups": ["cluster_us_core", "edgemesh_clusters", "edgemesh_kubeadm"],
    }
    assert (
        "us-1"
        not in result.stdout.split("PLAY [Set the role variables from the plan]")[1].split(
            "PLAY ["
        )[0]
    )


def test_a_server_holding_cluster_data_initialises(mesh):
    tmp_path, plan = mesh
    playbook = """---
- name: Load the plan
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Load
      ansible.builtin.include_tasks: %s
      vars:
        __edgemesh_out: "{{ edgemesh_output_dir }}"

- name: Pretend eu-2 holds etcd data (what the stat would register)
  hosts: eu-2
  gather_facts: false
  tasks:
    - name: Register
      ansible.builtin.set_fact:
        __edgemesh_cluster_data: {stat: {exists: true}}

- name: Map
  hosts: cluster_eu_core:cluster_us_core
  gather_facts: false
  tasks:
    - name: Map the plan
      edgemesh.cluster_mesh.role_inputs:
        distribution: "{{ 'k3s' if 'cluster_eu_core' in group_names else 'kubeadm' }}"
      register: mapped
    - name: Set
      ansible.builtin.set_fact:
        "{{ item.key }}": "{{ item.value }}"
      loop: "{{ mapped.vars | dict2items }}"
%s""" % (ROOT / "playbooks" / "tasks" / "load_plan.yml", DUMP)
    result = run(tmp_path, playbook)
    assert result.returncode == 0, result.stdout[-3000:]
    eu1, eu2 = seen(tmp_path, "eu-1")["vars"], seen(tmp_path, "eu-2")["vars"]
    assert (eu1["k3s_cluster_init"], eu2["k3s_cluster_init"]) == (False, True)
    assert eu1["k3s_registration_address"] == "192.0.2.12"
    assert seen(tmp_path, "us-2")["vars"] == kubeadm_inputs(
        cluster(plan, "us-core"), "us-2", {"edgemesh_output_dir": str(tmp_path / "build")}
    )


def test_refusals_are_messages(mesh):
    tmp_path, _plan = mesh
    wrong = run(
        tmp_path,
        """---
- name: Load the plan
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Load
      ansible.builtin.include_tasks: %s
      vars:
        __edgemesh_out: "{{ edgemesh_output_dir }}"
- name: Map
  hosts: us-1
  gather_facts: false
  tasks:
    - name: Map the plan
      edgemesh.cluster_mesh.role_inputs:
        distribution: k3s
""" % (ROOT / "playbooks" / "tasks" / "load_plan.yml"),
    )
    assert wrong.returncode != 0
    assert "role_inputs: host us-1: cluster us-core is a kubeadm cluster, not k3s" in wrong.stdout
    no_plan = run(
        tmp_path,
        """---
- name: Map
  hosts: eu-1
  gather_facts: false
  tasks:
    - name: Map the plan
      edgemesh.cluster_mesh.role_inputs:
        distribution: k3s
""",
    )
    assert no_plan.returncode != 0
    assert (
        "role_inputs: localhost has no fact edgemesh_plan; run playbooks/plan.yml" in no_plan.stdout
    )
    assert "Traceback" not in no_plan.stdout + no_plan.stderr


def test_without_edgemesh_output_dir_the_inputs_use_the_inventory_dir(mesh):
    """Issue 13, finding 2: unset, the output dir is <inventory dir>/.edgemesh for the plan
    (cluster_inputs.yml loads plan.json there) and for the role variables alike."""
    tmp_path, plan = mesh
    default = tmp_path / ".edgemesh"
    default.mkdir()
    (default / "plan.json").write_text((tmp_path / "build" / "plan.json").read_text())
    (tmp_path / "test.yml").write_text(
        "---\n- name: Inputs\n  ansible.builtin.import_playbook: %s\n"
        "  vars:\n    __edgemesh_distribution: k3s\n%s"
        % (ROOT / "playbooks" / "cluster_inputs.yml", DUMP)
    )
    result = subprocess.run(
        [PLAYBOOK, "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "test.yml")]
        + ["-e", "out=%s" % (tmp_path / "out")],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    for host in ("eu-1", "eu-2", "eu-3"):
        found = seen(tmp_path, host)["vars"]
        assert found["k3s_output_dir"] == str(default)
        assert found == k3s_inputs(
            cluster(plan, "eu-core"), host, {"edgemesh_output_dir": str(default)}
        )

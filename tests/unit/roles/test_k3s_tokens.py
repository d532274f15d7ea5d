# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k3s role's join tokens (roles/k3s/tasks/tokens.yml), run for real by ansible-playbook on
this machine: two inventory hosts with connection local stand for the cluster's initialising
server and an agent; the node paths of the role (vars/main.yml) point into a temporary
directory. The server-side token files are written as k3s writes them (secure format
``K10<CA hash>::server:<secret>`` / ``::node:<secret>``, k3s pkg/server/server.go).

Checked: a first run generates two different tokens (0600) on the control node and installs
the server token only on servers, the agent token everywhere; a lost token is read back from
the initialising server instead of being replaced; an agent-token file that is the server
token (k3s's symlink when no agent token was set) gives agents a new token of their own; no
token appears in the output."""

import json
import os
import pathlib
import stat
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / ".collections"
CA_HASH = "ab" * 32


def run_tokens(tmp_path, server_files=None):
    """Run tokens.yml on the server then the agent; returns (stdout, paths)."""
    out = tmp_path / "build" / "lab"
    node = {h: tmp_path / "node" / h for h in ("lab-1", "lab-3")}
    data = tmp_path / "node" / "lab-1" / "server"
    data.mkdir(parents=True, exist_ok=True)
    for name, text in (server_files or {}).items():
        (data / name).write_text(text)
    hosts = {
        "lab-1": {"k3s_node_role": "server", "k3s_cluster_init": True},
        "lab-3": {"k3s_node_role": "agent", "k3s_cluster_init": False},
    }
    for host, path in node.items():
        path.mkdir(parents=True, exist_ok=True)
        hosts[host]["test_node_dir"] = str(path)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                    },
                    "hosts": hosts,
                }
            }
        )
    )
    role_vars = {
        "k3s_cluster_name": "lab",
        "k3s_token_file": str(out / "k3s-token"),
        "k3s_agent_token_file": str(out / "k3s-agent-token"),
        "k3s_init_host": "lab-1",
        # Role vars (vars/main.yml) give way to include_role vars: the init server's data.
        "_k3s_server_token_file": str(data / "token"),
        "_k3s_server_agent_token_file": str(data / "agent-token"),
        "_k3s_token_path": "{{ test_node_dir }}/cluster-token",
        "_k3s_agent_token_path": "{{ test_node_dir }}/agent-token",
    }
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "name": "k3s join tokens, %s" % host,
                    "hosts": host,
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Keep and install the tokens",
                            "ansible.builtin.include_role": {
                                "name": "edgemesh.cluster_mesh.k3s",
                                "tasks_from": "tokens.yml",
                            },
                            "vars": role_vars,
                        },
                        # The tokens notify the restart handler; no k3s unit here.
                        {"name": "End without handlers", "ansible.builtin.meta": "end_play"},
                    ],
                }
                for host in ("lab-1", "lab-3")
            ]
        )
    )
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1")
    result = subprocess.run(
        [
            str(pathlib.Path(sys.executable).parent / "ansible-playbook"),
            "-v",
            "-i",
            str(inventory),
            str(playbook),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout, out, node


def read(path):
    return path.read_text().strip()


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_first_run_generates_two_tokens_and_agents_get_only_theirs(tmp_path):
    stdout, out, node = run_tokens(tmp_path)
    server, agent = read(out / "k3s-token"), read(out / "k3s-agent-token")
    assert len(server) == len(agent) == 64 and server != agent
    assert mode(out / "k3s-token") == mode(out / "k3s-agent-token") == 0o600
    assert read(node["lab-1"] / "cluster-token") == server
    assert read(node["lab-1"] / "agent-token") == read(node["lab-3"] / "agent-token") == agent
    assert not (node["lab-3"] / "cluster-token").exists()
    assert mode(node["lab-3"] / "agent-token") == 0o600
    assert server not in stdout and agent not in stdout


def test_lost_tokens_are_read_back_from_the_initialising_server(tmp_path):
    server_files = {
        "token": "K10%s::server:%s\n" % (CA_HASH, "s" * 64),
        "agent-token": "K10%s::node:%s\n" % (CA_HASH, "a" * 64),
    }
    stdout, out, node = run_tokens(tmp_path, server_files)
    assert read(out / "k3s-token") == "s" * 64
    assert read(out / "k3s-agent-token") == "a" * 64
    assert mode(out / "k3s-token") == 0o600
    assert read(node["lab-3"] / "agent-token") == "a" * 64
    assert "s" * 64 not in stdout and "a" * 64 not in stdout


def test_an_agent_token_that_is_the_server_token_is_not_kept_for_agents(tmp_path):
    token = "K10%s::server:%s\n" % (CA_HASH, "s" * 64)
    _stdout, out, node = run_tokens(tmp_path, {"token": token, "agent-token": token})
    assert read(out / "k3s-token") == "s" * 64
    agent = read(out / "k3s-agent-token")
    assert len(agent) == 64 and agent != "s" * 64
    assert read(node["lab-3"] / "agent-token") == agent


def test_present_tokens_are_kept_whatever_the_server_holds(tmp_path):
    out = tmp_path / "build" / "lab"
    out.mkdir(parents=True)
    (out / "k3s-token").write_text("kept-server\n")
    (out / "k3s-agent-token").write_text("kept-agent\n")
    server_files = {"token": "K10%s::server:%s\n" % (CA_HASH, "other")}
    _stdout, out, node = run_tokens(tmp_path, server_files)
    assert read(out / "k3s-token") == "kept-server"
    assert read(node["lab-1"] / "cluster-token") == "kept-server"
    assert read(node["lab-3"] / "agent-token") == "kept-agent"

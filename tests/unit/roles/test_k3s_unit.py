# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render roles/k3s/templates/k3s.service.j2 with Ansible's Templar; systemd checks it.

The unit follows the one k3s's install.sh writes (create_systemd_service_file in
k3s-io/k3s install.sh at commit 0136cf258954a458da1404858396342724b93d24): the
EnvironmentFile lines (/etc/default/%N, /etc/sysconfig/%N for proxies, and the
install.sh env file), KillMode=process, Delegate=yes, User=root, the Limit* lines,
TimeoutStartSec=0, Restart=always, RestartSec=5s and the two modprobe ExecStartPre lines.
The start itself is bounded by the role (tasks/service.yml, k3s_start_timeout), not here;
molecule/k3s_join_timeout runs that on a real systemd host.
"""

import os
import pathlib
import shutil
import subprocess

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "k3s"


def render(tmp_path, **overrides):
    variables = {}
    for part in ("defaults", "vars"):
        with open(ROLE / part / "main.yml", encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
        variables.update(
            {k: trust_as_template(v) if isinstance(v, str) else v for k, v in loaded.items()}
        )
    variables.update(
        k3s_cluster_name="eu-core", k3s_install_dir=str(tmp_path), ansible_managed="Ansible managed"
    )
    variables.update(overrides)
    templar = Templar(loader=DataLoader(), variables=variables)
    with open(ROLE / "templates" / "k3s.service.j2", encoding="utf-8") as handle:
        return templar.template(trust_as_template(handle.read()))


def directives(text):
    """[(section, key, value)] in file order; repeated keys (EnvironmentFile) kept."""
    section, found = None, []
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.append((section, key, value))
    return found


def service(text, key):
    return [
        value for section, name, value in directives(text) if (section, name) == ("Service", key)
    ]


@pytest.mark.parametrize(
    "role, name, other", [("server", "k3s", "k3s-agent"), ("agent", "k3s-agent", "k3s")]
)
def test_unit_has_the_upstream_service_settings(tmp_path, role, name, other):
    text = render(tmp_path, k3s_node_role=role)
    assert text.startswith("#\n# Ansible managed\n#\n")
    assert service(text, "Type") == ["notify"]
    assert service(text, "EnvironmentFile") == [
        "-/etc/default/%N",
        "-/etc/sysconfig/%N",
        "-/etc/systemd/system/%N.service.env",
    ]
    for key, value in [
        ("KillMode", "process"),
        ("Delegate", "yes"),
        ("User", "root"),
        ("LimitNOFILE", "1048576"),
        ("LimitNPROC", "infinity"),
        ("LimitCORE", "infinity"),
        ("TasksMax", "infinity"),
        ("TimeoutStartSec", "0"),
        ("Restart", "always"),
        ("RestartSec", "5s"),
    ]:
        assert service(text, key) == [value], key
    assert service(text, "ExecStartPre") == [
        "-/sbin/modprobe br_netfilter",
        "-/sbin/modprobe overlay",
    ]
    assert service(text, "ExecStart") == ["%s/k3s %s" % (tmp_path, role)]
    assert ("Unit", "Conflicts", other + ".service") in directives(text)
    assert ("Unit", "Wants", "network-online.target") in directives(text)
    assert ("Install", "WantedBy", "multi-user.target") in directives(text)


def test_limits_follow_k3s_service_limits(tmp_path):
    text = render(tmp_path, k3s_node_role="agent", k3s_service_limits={"LimitNOFILE": 20000})
    assert service(text, "LimitNOFILE") == ["20000"]
    assert service(text, "LimitNPROC") == [] and service(text, "TasksMax") == []


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize("role", ["server", "agent"])
def test_systemd_accepts_the_unit(tmp_path, role):
    """systemd-analyze verify parses the unit as systemd would and reports any bad line."""
    binary = tmp_path / "k3s"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    unit = tmp_path / ("k3s.service" if role == "server" else "k3s-agent.service")
    unit.write_text(render(tmp_path, k3s_node_role=role))
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        cwd=str(tmp_path),
        env=dict(os.environ, SYSTEMD_LOG_LEVEL="warning"),
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout + proc.stderr == "", proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_analyze_catches_a_bad_line(tmp_path):
    """The check above can fail: systemd-analyze reports an invalid KillMode."""
    (tmp_path / "k3s").write_text("#!/bin/sh\n")
    (tmp_path / "k3s").chmod(0o755)
    unit = tmp_path / "k3s.service"
    unit.write_text(
        render(tmp_path, k3s_node_role="server").replace("KillMode=process", "KillMode=x")
    )
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "kill mode" in (proc.stdout + proc.stderr).lower()

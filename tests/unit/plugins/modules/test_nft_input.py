# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nft_input module as Ansible runs it (a process reading its JSON arguments), against
the real nft of this machine, each test in a throw-away network namespace (`unshare -n`):
the host's own rule set is never touched. Skipped without root, unshare or nft.

A "boot" is what nftables.service does: `nft -f <config file>`.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]
COLLECTIONS = ROOT / ".collections"
FIXTURES = ROOT / "tests" / "fixtures" / "nft"
MODULE = "ansible_collections.edgemesh.cluster_mesh.plugins.modules.nft_input"
PORTS = [
    {"first": 2379, "last": 2380, "proto": "tcp", "why": "etcd", "port": "2379-2380"},
    {"first": 4240, "last": 4240, "proto": "tcp", "why": "cilium-health"},
    {"first": 8472, "last": 8472, "proto": "udp", "why": "Cilium VXLAN tunnel"},
    {"first": 10250, "last": 10250, "proto": "tcp", "why": "kubelet API", "ufw": "10250"},
]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nft"),
    reason="needs root, unshare and nft (apt-get install nftables)",
)


class Host:
    """Files of one test host under tmp_path; steps run in one new network namespace."""

    def __init__(self, tmp_path, boot_conf):
        self.dir = tmp_path
        self.conf = tmp_path / "nftables.conf"
        self.rules = tmp_path / "nftables.d" / "edgemesh-node-prep.nft"
        self.conf.write_text(boot_conf)
        self.steps = ["set -e"]
        self.outputs = []

    def args(self, check=False, **extra):
        args = dict(
            ports=PORTS,
            config_file=str(self.conf),
            rules_file=str(self.rules),
            service="edgemesh-test-none.service",
            _ansible_check_mode=check,
            _ansible_diff=True,
        )
        args.update(extra)
        return args

    def shell(self, command):
        self.steps.append(command)
        return self

    def boot(self):
        return self.shell("nft -f %s" % self.conf)

    def module(self, **kwargs):
        name = "module-%d.json" % len(self.outputs)
        (self.dir / ("args-" + name)).write_text(
            json.dumps({"ANSIBLE_MODULE_ARGS": self.args(**kwargs)})
        )
        self.outputs.append(("module", name))
        cmd = "%s -m %s %s > %s || true"
        return self.shell(
            cmd % (sys.executable, MODULE, self.dir / ("args-" + name), self.dir / name)
        )

    def listing(self):
        name = "ruleset-%d.txt" % len(self.outputs)
        self.outputs.append(("ruleset", name))
        return self.shell("nft list ruleset > %s" % (self.dir / name))

    def run(self):
        script = self.dir / "steps.sh"
        script.write_text("\n".join(self.steps) + "\n")
        env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
        proc = subprocess.run(
            ["unshare", "-n", "sh", str(script)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        results = []
        for kind, name in self.outputs:
            text = (self.dir / name).read_text()
            assert "Traceback" not in text, text
            results.append(json.loads(text) if kind == "module" else text)
        return results


def warnings(result):
    """Warning texts (ansible-core 2.19 returns them as structured events)."""
    return [w if isinstance(w, str) else w["event"]["msg"] for w in result.get("warnings", [])]


def deny_conf():
    return (FIXTURES / "deny.conf").read_text()


def test_default_deny_host_check_mode_apply_idempotence_and_boot(tmp_path):
    host = Host(tmp_path, deny_conf())
    host.boot().listing().module(check=True).listing().module().listing().module()
    host.boot().listing()
    before, check, after_check, apply, after, again, booted = host.run()

    assert check["changed"] and check["default_deny"] == ["inet filter input"]
    assert "insert rule inet filter input jump edgemesh_input" in check["script"]
    assert after_check == before  # check mode changes nothing (files: the next test)
    assert apply["changed"] and apply["persisted"] and apply["script"] == check["script"]
    assert apply["forward_deny"] == ["inet filter forward"]
    assert [w for w in warnings(apply) if "inet filter forward drops forwarded" in w]
    assert again["changed"] is False and again["script"] == ""
    for text in (after, booted):
        assert text.count("jump edgemesh_input") == 1
        assert 'tcp dport 2379-2380 accept comment "etcd"' in text
        assert 'udp dport 8472 accept comment "Cilium VXLAN tunnel"' in text
    assert booted == after
    conf = host.conf.read_text()
    assert conf.startswith(deny_conf())
    assert conf.count('include "%s"' % host.rules) == 1
    assert host.rules.read_text().count("insert rule") == 1
    assert oct(host.rules.stat().st_mode & 0o777) == "0o644"


def test_check_mode_writes_no_file(tmp_path):
    host = Host(tmp_path, deny_conf())
    (check,) = host.boot().module(check=True).run()
    assert check["changed"] and not host.rules.exists()
    assert host.conf.read_text() == deny_conf()
    assert [d["before_header"] for d in check["diff"]] == [str(host.rules), str(host.conf)]


def test_changed_ports_rewrite_our_chain_only(tmp_path):
    host = Host(tmp_path, deny_conf())
    host.boot().module().module(ports=PORTS[1:]).listing()
    first, second, text = host.run()
    assert second["changed"]
    assert second["script"].splitlines()[0] == "add chain inet filter edgemesh_input"
    assert "jump" not in second["script"]
    assert "2379-2380" not in text and text.count("jump edgemesh_input") == 1
    assert "2379-2380" not in host.rules.read_text()


def test_host_without_default_deny_is_untouched(tmp_path):
    conf = (FIXTURES / "debian-default.conf").read_text()
    host = Host(tmp_path, conf)
    host.boot().listing().module().listing()
    before, result, after = host.run()
    assert result["changed"] is False and result["default_deny"] == []
    assert before == after and host.conf.read_text() == conf
    assert not host.rules.parent.exists()


def test_an_include_glob_is_reused(tmp_path):
    conf = deny_conf() + 'include "%s/nftables.d/*.nft"\n' % tmp_path
    host = Host(tmp_path, conf)
    host.boot().module().boot().listing()
    result, text = host.run()
    assert result["changed"] and host.conf.read_text() == conf
    assert text.count("jump edgemesh_input") == 1


def test_a_boot_config_that_would_break_is_refused_and_nothing_changes(tmp_path):
    # The live default-deny chain is not in the file nftables.service loads: our rules
    # would make that file fail to load at boot.
    host = Host(tmp_path, "flush ruleset\n")
    host.shell("nft -f %s" % (FIXTURES / "deny.conf")).listing().module().listing()
    before, result, after = host.run()
    assert result["failed"] and "would no longer load" in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert before == after and host.conf.read_text() == "flush ruleset\n"
    assert not host.rules.exists()


def test_live_only_without_a_config_file(tmp_path):
    host = Host(tmp_path, deny_conf())
    host.boot().module(config_file="").listing()
    result, text = host.run()
    assert result["changed"] and result["persisted"] is False
    assert "jump edgemesh_input" in text and not host.rules.exists()


def test_missing_config_file_warns(tmp_path):
    host = Host(tmp_path, deny_conf())
    host.boot().module(config_file=str(tmp_path / "absent.conf"))
    (result,) = host.run()
    assert result["changed"] and result["persisted"] is False
    assert any("absent.conf does not exist" in w for w in warnings(result))


def test_iptables_default_deny_is_refused(tmp_path):
    if not shutil.which("iptables-nft"):
        pytest.skip("no iptables-nft")
    host = Host(tmp_path, "")
    (result,) = host.shell("iptables-nft -P INPUT DROP").module().run()
    assert result["failed"]
    assert "ip filter INPUT drops by default and belongs to iptables" in result["msg"]
    assert "2379-2380/tcp, 4240/tcp, 8472/udp, 10250/tcp" in result["msg"]


@pytest.mark.parametrize(
    "ports, message",
    [
        ([{"first": 1, "proto": "tcp", "why": "x"}], "ports[0] "),
        ([{"first": "a", "last": 1, "proto": "tcp", "why": "x"}], "ports[0] "),
        ([{"first": 1, "last": 1, "proto": "icmp", "why": "x"}], "not a tcp/udp port"),
        ([], "no ports"),
    ],
)
def test_bad_ports_fail_clearly(tmp_path, ports, message):
    host = Host(tmp_path, deny_conf())
    (result,) = host.boot().module(ports=ports).run()
    assert result["failed"] and message in result["msg"]

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nft_ruleset on real `nft -j list ruleset` output.

The fixtures under tests/fixtures/nft/ were printed by nft itself (1.0.6 of Debian 12 on
this machine, in a throw-away network namespace: `unshare -n sh -c 'nft -f <conf> && nft
-j list ruleset'`; 1.1.x of Debian 13 inside a test host), never written by hand:

* debian12-empty / debian12-default-conf: no rules, and Debian's shipped /etc/nftables.conf
  (three chains with policy accept);
* debian12-deny: an inet filter input chain with policy drop (lo, established, ssh, icmp);
* debian12-deny-applied: that, after the script plan() made for four ports was applied;
* debian12-deny-applied-stale: the same with only two of the four ports;
* debian12-deny-two-jumps: our chain with two jumps (a script loaded twice);
* debian12-reject-last: ip table with policy accept ending in `counter reject`, an ip6
  table with policy drop, and an inet chain with policy accept and a conditional drop;
* debian12-iptables-nft-drop: `iptables-nft -P INPUT DROP` plus two rules;
* debian13-*: the same configurations printed by Debian 13's nft.

How nftables evaluates several base chains of one hook (an accept in one does not stop a
drop in another): nft(8), "CHAINS", and the nftables wiki page "Configuring chains".
"""

import json
import pathlib

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import nft_ruleset as nft

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "nft"
PORTS = sorted(
    [
        nft.Port(4240, 4240, "tcp", "cilium-health"),
        nft.Port(8472, 8472, "udp", "Cilium VXLAN tunnel"),
        nft.Port(2379, 2380, "tcp", "etcd client and peer (k3s embedded)"),
        nft.Port(10250, 10250, "tcp", "kubelet API"),
    ]
)
VERSIONS = sorted({p.name.split("-")[0] for p in FIXTURES.glob("*.json")})


def load(name, version="debian12"):
    path = FIXTURES / ("%s-%s.json" % (version, name))
    if not path.exists():
        pytest.skip("no %s fixture %s" % (version, path.name))
    return nft.parse_ruleset(path.read_text())


def names(chains):
    return ["%s %s %s" % (c.family, c.table, c.name) for c in chains]


def test_fixtures_of_both_debian_releases_exist():
    assert VERSIONS == ["debian12", "debian13"]


@pytest.mark.parametrize("version", VERSIONS)
def test_parse_reads_version_chains_and_rules_in_order(version):
    ruleset = load("deny", version)
    assert ruleset.version.startswith("1.")
    assert [(c.name, c.hook, c.policy) for c in ruleset.chains] == [
        ("input", "input", "drop"),
        ("forward", "forward", "drop"),
        ("output", "output", "accept"),
    ]
    rules = nft.chain_rules(ruleset, "inet", "filter", "input")
    assert len(rules) == 5
    assert [nft.accept_port(r) for r in rules] == [None, None, None, ("tcp", 22, 22), None]


@pytest.mark.parametrize("version", VERSIONS)
def test_hosts_without_a_default_deny_are_left_alone(version):
    for name in ("empty", "default-conf"):
        result = nft.plan(load(name, version), PORTS)
        assert result.targets == [] and result.script == "" and result.forward_deny == []


@pytest.mark.parametrize("version", VERSIONS)
def test_policy_drop_chain_gets_our_chain_and_one_jump_at_the_top(version):
    result = nft.plan(load("deny", version), PORTS)
    assert names(t.chain for t in result.targets) == ["inet filter input"]
    assert names(result.forward_deny) == ["inet filter forward"]
    assert result.script.splitlines() == [
        "add chain inet filter edgemesh_input",
        "flush chain inet filter edgemesh_input",
        'add rule inet filter edgemesh_input tcp dport 2379-2380 accept comment "etcd client '
        'and peer (k3s embedded)"',
        'add rule inet filter edgemesh_input tcp dport 4240 accept comment "cilium-health"',
        'add rule inet filter edgemesh_input udp dport 8472 accept comment "Cilium VXLAN tunnel"',
        'add rule inet filter edgemesh_input tcp dport 10250 accept comment "kubelet API"',
        'insert rule inet filter input jump edgemesh_input comment "edgemesh.cluster_mesh '
        'node_prep"',
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_applied_rules_read_back_as_wanted(version):
    ruleset = load("deny-applied", version)
    ours = nft.chain_rules(ruleset, "inet", "filter", nft.CHAIN_NAME)
    assert [nft.accept_port(r) + (r.comment,) for r in ours] == [
        (p.proto, p.first, p.last, p.why) for p in PORTS
    ]
    result = nft.plan(ruleset, PORTS)
    assert result.script == ""
    assert [(t.chain_ok, t.jump_ok, len(t.jump_handles)) for t in result.targets] == [
        (True, True, 1)
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_stale_rules_are_rewritten_and_the_jump_kept(version):
    result = nft.plan(load("deny-applied-stale", version), PORTS)
    lines = result.script.splitlines()
    assert lines[:2] == [
        "add chain inet filter edgemesh_input",
        "flush chain inet filter edgemesh_input",
    ]
    assert len(lines) == 6 and not any("jump" in line for line in lines)


def test_other_ports_or_comments_also_count_as_stale():
    ruleset = load("deny-applied")
    moved = [nft.Port(p.first, p.last, p.proto, p.why + " (moved)") for p in PORTS]
    assert "flush chain" in nft.plan(ruleset, moved).script
    assert "flush chain" in nft.plan(ruleset, PORTS[:-1]).script


def test_two_jumps_are_replaced_by_one():
    ruleset = load("deny-two-jumps")
    result = nft.plan(ruleset, PORTS)
    handles = result.targets[0].jump_handles
    assert len(handles) == 2
    lines = result.script.splitlines()
    deletes = ["delete rule inet filter input handle %d" % h for h in handles]
    assert lines[-3:-1] == deletes and lines[-1].startswith("insert rule inet filter input jump")


def test_a_jump_after_a_drop_is_moved():
    ruleset = load("deny-applied")
    jump = [r for r in ruleset.rules if r.chain == "input" and r.comment == nft.JUMP_COMMENT][0]
    others = [r for r in ruleset.rules if r is not jump]
    index = max(i for i, r in enumerate(others) if r.chain == "input")
    rules = others[: index + 1] + [jump] + others[index + 1 :]
    result = nft.plan(ruleset._replace(rules=rules), PORTS)
    assert result.script.splitlines() == [
        "delete rule inet filter input handle %d" % jump.handle,
        nft._jump_line(ruleset.chains[0], nft.CHAIN_NAME),
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_last_rule_reject_and_ip6_policy_drop_both_count(version):
    result = nft.plan(load("reject-last", version), PORTS)
    assert names(t.chain for t in result.targets) == ["ip host in", "ip6 host6 in"]
    assert "inet other in_accept" not in names(t.chain for t in result.targets)
    assert "insert rule ip host in jump edgemesh_input" in result.script
    assert "add rule ip6 host6 edgemesh_input tcp dport 4240 accept" in result.script


@pytest.mark.parametrize("version", VERSIONS)
def test_iptables_chains_are_reported_not_edited(version):
    result = nft.plan(load("iptables-nft-drop", version), PORTS)
    assert names(result.iptables) == ["ip filter INPUT"]
    assert result.targets == [] and result.script == ""


def test_rules_file_creates_chains_and_jumps_once_per_target():
    result = nft.plan(load("reject-last"), PORTS)
    text = nft.rules_file(result, "/etc/nftables.conf")
    lines = text.splitlines()
    assert lines[0].startswith("# Managed by edgemesh.cluster_mesh")
    assert "/etc/nftables.conf" in lines[2]
    assert sum(line.startswith("insert rule") for line in lines) == 2
    assert lines.count("flush chain ip host edgemesh_input") == 1
    assert text.endswith('node_prep"\n')


def test_rules_file_is_the_same_whatever_the_live_state():
    fresh = nft.rules_file(nft.plan(load("deny"), PORTS), "/etc/nftables.conf")
    applied = nft.rules_file(nft.plan(load("deny-applied"), PORTS), "/etc/nftables.conf")
    assert fresh == applied


CONF = "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {\n}\n"


def test_include_is_appended_once():
    path = "/etc/nftables.d/edgemesh-node-prep.nft"
    once = nft.conf_with_include(CONF, "/etc/nftables.conf", path)
    assert once.startswith(CONF)
    assert once.endswith('\ninclude "%s"\n' % path)
    assert nft.conf_with_include(once, "/etc/nftables.conf", path) == once
    assert nft.conf_with_include("flush ruleset", "/etc/nftables.conf", path).startswith(
        "flush ruleset\n\n# "
    )


@pytest.mark.parametrize(
    "line",
    ['include "/etc/nftables.d/*.nft"', '  include "nftables.d/*.nft"', 'include "/etc/*/*"'],
)
def test_an_include_glob_that_loads_the_file_counts(line):
    text = CONF + line + "\n"
    path = "/etc/nftables.d/edgemesh-node-prep.nft"
    assert nft.conf_with_include(text, "/etc/nftables.conf", path) == text


def test_a_commented_include_does_not_count():
    text = CONF + '# include "/etc/nftables.d/*.nft"\n'
    path = "/etc/nftables.d/edgemesh-node-prep.nft"
    assert nft.conf_with_include(text, "/etc/nftables.conf", path) != text


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json", "did not print JSON"),
        ("[]", "no 'nftables' list"),
        ('{"nftables": {}}', "no 'nftables' list"),
    ],
)
def test_bad_nft_output_is_a_clear_error(text, message):
    with pytest.raises(nft.NftError, match=message):
        nft.parse_ruleset(text)


@pytest.mark.parametrize(
    "port, message",
    [
        (nft.Port(0, 0, "tcp", "x"), "not a tcp/udp port"),
        (nft.Port(10, 9, "tcp", "x"), "not a tcp/udp port"),
        (nft.Port(10, 10, "sctp", "x"), "not a tcp/udp port"),
        (nft.Port(10, 10, "tcp", 'say "hi"'), "no quotes"),
        (nft.Port(10, 10, "tcp", "x" * 121), "at most 120 bytes"),
    ],
)
def test_bad_ports_are_refused(port, message):
    with pytest.raises(nft.NftError, match=message):
        nft.plan(load("deny"), [port])


def test_no_ports_is_refused():
    with pytest.raises(nft.NftError, match="no ports"):
        nft.plan(load("deny"), [])


def test_unknown_items_of_the_listing_are_ignored():
    data = json.loads((FIXTURES / "debian12-deny.json").read_text())
    data["nftables"] += [{"set": {"family": "inet", "name": "s"}}, "odd", {"rule": {}}]
    ruleset = nft.parse_ruleset(json.dumps(data))
    assert len(ruleset.chains) == 3


def test_port_text():
    assert nft.Port(10250, 10250, "tcp", "x").port == "10250"
    assert nft.Port(2379, 2380, "tcp", "x").port == "2379-2380"

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a live nftables rule set (`nft -j list ruleset`) and decide how to accept ports.

nftables evaluates every base chain of a hook; a packet accepted in one base chain still
meets the others, and a drop in any of them is final. A table of our own with accept rules
therefore opens nothing on a host whose input chain drops by default: the accept must be
reached from *that* chain. So for every input base chain that drops by default (policy
drop, or a last rule that drops or rejects unconditionally) this module keeps:

* a regular chain ``edgemesh_input`` in the same table holding one accept rule per port,
  rewritten (flushed and refilled) when it differs from the wanted rules;
* one ``jump edgemesh_input`` rule in the default-deny chain, before any rule that drops
  or rejects (inserted at the top).

``plan(ruleset, ports)`` compares the live rule set with that and returns the nft script
that fixes the differences (empty when there are none); ``rules_file(plan)`` is the text
the host's nftables.service loads at boot (see plugins/modules/nft_input.py).

Pure Python: it runs on the managed node inside the nft_input module. The JSON form read
here is nft's libnftables-json(5) schema 1, as nft 1.0.6 (Debian 12) and 1.1.x
(Debian 13) print it (tests/unit/plugins/module_utils/test_nft_ruleset.py holds real
output of both).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import posixpath
from collections import namedtuple

CHAIN_NAME = "edgemesh_input"
JUMP_COMMENT = "edgemesh.cluster_mesh node_prep"
FAMILIES = ("inet", "ip", "ip6")
_DENY_VERDICTS = ("drop", "reject")
# Statements that do not make a rule conditional.
_NEUTRAL = ("counter", "log")

Chain = namedtuple("Chain", "family table name type hook policy")
Rule = namedtuple("Rule", "family table chain handle comment expr")
Ruleset = namedtuple("Ruleset", "version chains rules")
Target = namedtuple("Target", "chain chain_ok jump_handles jump_ok")
Plan = namedtuple("Plan", "targets forward_deny iptables ports script")


class Port(namedtuple("Port", "first last proto why")):
    """Accept ``proto`` destination ports ``first``..``last``, ``why`` as the comment."""

    @property
    def port(self):
        return str(self.first) if self.first == self.last else "%d-%d" % (self.first, self.last)


class NftError(ValueError):
    """The nft output or the wanted ports cannot be used; the message says why."""


def parse_ruleset(text):
    """`nft -j list ruleset` output -> Ruleset (rules in listing order, i.e. chain order)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NftError("nft -j list ruleset did not print JSON: %s" % exc)
    items = data.get("nftables") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise NftError("nft -j list ruleset printed no 'nftables' list")
    version, chains, rules = "", [], []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "metainfo" in item:
            version = str(item["metainfo"].get("version", ""))
        elif "chain" in item:
            c = item["chain"]
            fields = ("family", "table", "name", "type", "hook", "policy")
            chains.append(Chain(*[c.get(f) for f in fields]))
        elif "rule" in item:
            r = item["rule"]
            fields = ("family", "table", "chain", "handle", "comment")
            rules.append(Rule(*([r.get(f) for f in fields] + [r.get("expr") or []])))
    return Ruleset(version, chains, rules)


def chain_rules(ruleset, family, table, chain):
    return [r for r in ruleset.rules if (r.family, r.table, r.chain) == (family, table, chain)]


def _verdict(rule):
    """'accept', 'drop', 'reject', ('jump', target), ... or None (no verdict statement)."""
    for statement in rule.expr:
        if not isinstance(statement, dict):
            continue
        for key in ("accept", "drop", "reject", "return"):
            if key in statement:
                return key
        for key in ("jump", "goto"):
            if key in statement and isinstance(statement[key], dict):
                return (key, statement[key].get("target"))
    return None


def _unconditional(rule):
    return all(isinstance(s, dict) and list(s)[0] in _NEUTRAL + _DENY_VERDICTS for s in rule.expr)


def denies_by_default(ruleset, chain):
    """Policy drop, or a last rule that drops or rejects whatever the packet."""
    if chain.policy == "drop":
        return True
    rules = chain_rules(ruleset, chain.family, chain.table, chain.name)
    return bool(rules) and _verdict(rules[-1]) in _DENY_VERDICTS and _unconditional(rules[-1])


def deny_chains(ruleset, hook):
    """Filter base chains of ``hook`` (inet/ip/ip6) that drop by default, in listing order."""
    return [
        c
        for c in ruleset.chains
        if c.hook == hook
        and c.type == "filter"
        and c.family in FAMILIES
        and denies_by_default(ruleset, c)
    ]


def is_iptables_chain(chain):
    """A chain of iptables (iptables-nft lists its tables through nft): ip/ip6 'filter'
    tables with the upper-case built-in chain names."""
    return chain.family in ("ip", "ip6") and chain.table == "filter" and chain.name.isupper()


def accept_port(rule):
    """(proto, first, last) of a rule '<proto> dport <port|first-last> accept', else None."""
    if len(rule.expr) != 2 or _verdict(rule) != "accept" or "accept" not in rule.expr[1]:
        return None
    match = rule.expr[0].get("match") if isinstance(rule.expr[0], dict) else None
    if not isinstance(match, dict) or match.get("op") != "==":
        return None
    payload = (match.get("left") or {}).get("payload") or {}
    if payload.get("field") != "dport" or payload.get("protocol") not in ("tcp", "udp"):
        return None
    right = match.get("right")
    if isinstance(right, int) and not isinstance(right, bool):
        return (payload["protocol"], right, right)
    bounds = right.get("range") if isinstance(right, dict) else None
    if isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, int) for b in bounds):
        return (payload["protocol"], bounds[0], bounds[1])
    return None


def _wanted(ports):
    wanted = []
    for port in ports:
        if port.proto not in ("tcp", "udp") or not 1 <= port.first <= port.last <= 65535:
            raise NftError("port %r is not a tcp/udp port or range in 1-65535" % (port,))
        if '"' in port.why or "\n" in port.why or len(port.why.encode("utf-8")) > 120:
            raise NftError(
                "port %r: why must be one line of at most 120 bytes, no quotes" % (port,)
            )
        wanted.append(port)
    if not wanted:
        raise NftError("no ports to accept")
    return wanted


def _jump_state(ruleset, chain, name):
    """(handles of the jumps to our chain, whether exactly one comes before any deny)."""
    handles, ok, denied = [], False, False
    for rule in chain_rules(ruleset, chain.family, chain.table, chain.name):
        verdict = _verdict(rule)
        if verdict == ("jump", name):
            handles.append(rule.handle)
            ok = not denied
        elif verdict in _DENY_VERDICTS:
            denied = True
    return handles, ok and len(handles) == 1


def plan(ruleset, ports, name=CHAIN_NAME):
    """What to change so that every default-deny input chain accepts ``ports``."""
    wanted = _wanted(ports)
    expected = [(p.proto, p.first, p.last, p.why) for p in wanted]
    iptables = [c for c in deny_chains(ruleset, "input") if is_iptables_chain(c)]
    targets, lines = [], []
    for chain in deny_chains(ruleset, "input"):
        if chain in iptables or chain.name == name:
            continue
        have = [
            accept_port(r) and accept_port(r) + (r.comment,)
            for r in chain_rules(ruleset, chain.family, chain.table, name)
        ]
        ours = (chain.family, chain.table, name)
        exists = any((c.family, c.table, c.name) == ours for c in ruleset.chains)
        chain_ok = exists and have == expected
        handles, jump_ok = _jump_state(ruleset, chain, name)
        target = Target(chain, chain_ok, handles, jump_ok)
        targets.append(target)
        lines += _fix_lines(target, wanted, name)
    forward = [c for c in deny_chains(ruleset, "forward") if not is_iptables_chain(c)]
    script = "\n".join(lines) + "\n" if lines else ""
    return Plan(targets, forward, iptables, wanted, script)


def _where(chain):
    return "%s %s" % (chain.family, chain.table)


def _chain_lines(chain, ports, name):
    lines = ["add chain %s %s" % (_where(chain), name), "flush chain %s %s" % (_where(chain), name)]
    for port in ports:
        lines.append(
            'add rule %s %s %s dport %s accept comment "%s"'
            % (_where(chain), name, port.proto, port.port, port.why)
        )
    return lines


def _jump_line(chain, name):
    where = _where(chain)
    return 'insert rule %s %s jump %s comment "%s"' % (where, chain.name, name, JUMP_COMMENT)


def _fix_lines(target, ports, name):
    lines = [] if target.chain_ok else _chain_lines(target.chain, ports, name)
    if not target.jump_ok:
        for handle in target.jump_handles:
            lines.append(
                "delete rule %s %s handle %s" % (_where(target.chain), target.chain.name, handle)
            )
        lines.append(_jump_line(target.chain, name))
    return lines


def rules_file(result, config_file, name=CHAIN_NAME):
    """The file nftables.service loads after its own rules (``include`` at the end of
    ``config_file``): after the host's `flush ruleset` and tables, it creates and fills our
    chains and inserts the jumps once."""
    lines = [
        "# Managed by edgemesh.cluster_mesh (role node_prep): the ports Cilium and Kubernetes",
        "# need on this node, accepted from the input chains that drop by default.",
        "# Loaded by the include at the end of %s; see docs/node_prep.md." % config_file,
    ]
    for target in result.targets:
        lines += [""] + _chain_lines(target.chain, result.ports, name)
        lines.append(_jump_line(target.chain, name))
    return "\n".join(lines) + "\n"


def _included(conf_text, conf_path, path):
    """Whether an ``include "pattern"`` line of the configuration already loads ``path``
    (relative patterns are relative to the configuration's directory)."""
    for line in conf_text.splitlines():
        words = line.strip().split(None, 1)
        if len(words) == 2 and words[0] == "include" and words[1].startswith('"'):
            pattern = words[1].strip().strip('"')
            if not pattern.startswith("/"):
                pattern = posixpath.join(posixpath.dirname(conf_path), pattern)
            if fnmatch.fnmatchcase(path, pattern):
                return True
    return False


def conf_with_include(conf_text, conf_path, path):
    """The boot configuration with an include of ``path`` at its end (unchanged when an
    include already loads it): our rules come after the host's tables."""
    if _included(conf_text, conf_path, path):
        return conf_text
    text = conf_text if conf_text.endswith("\n") or not conf_text else conf_text + "\n"
    return text + "\n# %s: the ports Cilium and Kubernetes need\n%s\n" % (
        JUMP_COMMENT,
        'include "%s"' % path,
    )

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The link-failure drill: which nodes to cut off and the nftables rules that do it.

``targets(plan, region)`` (on the control node) picks the clusters of one region and lists
what they must stop reaching: every node address (v4 and v6) of the clusters in the other
regions and their clustermesh LoadBalancer addresses. ``cut_script(peers, devices)`` (on
each cut-off node) is the nft script that drops that traffic in a table of our own:

* table ``inet edgemesh_drill``: chains on the ``output``, ``input`` and ``forward`` hooks
  drop packets to/from the peer addresses. This catches everything the kernel stack sends
  or receives, Cilium's VXLAN/Geneve and WireGuard UDP included (the tunnel devices send
  through the stack);
* table ``netdev edgemesh_drill`` (when the node's devices are given): an ``egress`` chain
  on those devices drops packets to the peers. Cilium's BPF host routing redirects
  native-routed pod traffic straight to the device (bpf_redirect_neigh), past the inet
  hooks; the netdev egress hook (Linux 5.16+, nft 1.0.1+) still sees it.

The script first adds and deletes each table, so applying it twice gives the same rule
set (nft runs a script as one transaction). ``heal_script()`` removes both tables the
same way, whether or not they exist; a transient systemd timer runs it after the drill's
deadline even if the play that started it died.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

TABLE = "edgemesh_drill"
HEAL_UNIT = "edgemesh-drill-heal"
# Before the usual filter chains (priority 0): the drill's drop is seen first.
PRIORITY = -200


class DrillError(ValueError):
    """The plan, the region or the addresses do not allow a drill; the message says why."""


def targets(plan, region):
    """{"region", "cut_clusters", "cut_hosts", "kept_clusters", "peers"} for ``region``."""
    clusters = plan.get("clusters") if isinstance(plan, dict) else None
    if not isinstance(clusters, list) or not clusters:
        raise DrillError("the plan has no clusters (run playbooks/plan.yml)")
    regions = sorted(set(str(c.get("region")) for c in clusters))
    if region not in regions:
        raise DrillError(
            "edgemesh_drill_region %r is not a region of the plan; allowed: %s"
            % (region, ", ".join(regions))
        )
    if len(regions) < 2:
        raise DrillError(
            "the plan has one region (%s): a partition drill needs at least two" % region
        )
    cut = [c for c in clusters if c.get("region") == region]
    kept = [c for c in clusters if c.get("region") != region]
    peers = set()
    for cluster in kept:
        for node in cluster.get("nodes") or []:
            peers.update(a for a in (node.get("ip"), node.get("ip_v6")) if a)
        addresses = ((cluster.get("cilium") or {}).get("clustermesh_addresses")) or {}
        if cluster.get("name") in addresses:
            peers.add(addresses[cluster["name"]])
    return {
        "region": region,
        "cut_clusters": [c["name"] for c in cut],
        "cut_hosts": sorted(n["host"] for c in cut for n in c.get("nodes") or []),
        "kept_clusters": [c["name"] for c in kept],
        "peers": sort_addresses(peers),
    }


def sort_addresses(addresses):
    """The addresses checked and sorted (v4 first), each once."""
    parsed = set()
    for text in addresses:
        try:
            parsed.add(ipaddress.ip_address(str(text)))
        except ValueError:
            raise DrillError("%r is not an IP address" % (text,))
    return [str(a) for a in sorted(parsed, key=lambda a: (a.version, a))]


def _split(peers):
    ordered = sort_addresses(peers)
    v4 = [a for a in ordered if ":" not in a]
    v6 = [a for a in ordered if ":" in a]
    return v4, v6


def _set(name, kind, addresses):
    elements = " elements = { %s }" % ", ".join(addresses) if addresses else ""
    return "  set %s { type %s;%s }" % (name, kind, elements)


def _drops(direction, v4, v6):
    rules = []
    if v4:
        rules.append("    ip %s @peers4 counter drop" % direction)
    if v6:
        rules.append("    ip6 %s @peers6 counter drop" % direction)
    return rules


def _chain(name, hook, direction, v4, v6, devices=None):
    where = " devices = { %s }" % ", ".join(devices) if devices else ""
    head = "  chain %s {\n    type filter hook %s%s priority %d; policy accept;" % (
        name,
        hook,
        where,
        PRIORITY,
    )
    return "\n".join([head] + _drops(direction, v4, v6) + ["  }"])


def _device(name):
    text = str(name)
    if not text or len(text) > 15 or any(c in text for c in " \t/{},;\"'"):
        raise DrillError("%r is not a network device name" % (name,))
    return text


def cut_script(peers, devices=()):
    """The nft script that cuts this node off from ``peers`` (idempotent, one transaction)."""
    v4, v6 = _split(peers)
    if not v4 and not v6:
        raise DrillError("no peer addresses to cut off")
    devices = [_device(d) for d in devices]
    lines = ["add table inet %s" % TABLE, "delete table inet %s" % TABLE]
    body = [_set("peers4", "ipv4_addr", v4), _set("peers6", "ipv6_addr", v6)]
    body += [
        _chain("output", "output", "daddr", v4, v6),
        _chain("forward_out", "forward", "daddr", v4, v6),
        _chain("input", "input", "saddr", v4, v6),
        _chain("forward_in", "forward", "saddr", v4, v6),
    ]
    lines += ["table inet %s {" % TABLE] + body + ["}"]
    lines += ["add table netdev %s" % TABLE, "delete table netdev %s" % TABLE]
    if devices:
        netdev = [_set("peers4", "ipv4_addr", v4), _set("peers6", "ipv6_addr", v6)]
        netdev.append(_chain("egress", "egress", "daddr", v4, v6, devices))
        lines += ["table netdev %s {" % TABLE] + netdev + ["}"]
    return "\n".join(lines) + "\n"


def devices_of(addresses_json, wanted):
    """The devices of ``ip -j address`` output that carry every address of ``wanted``."""
    wanted = sort_addresses(wanted)
    owner = {}
    for link in addresses_json or []:
        for info in link.get("addr_info") or []:
            try:
                local = str(ipaddress.ip_address(info.get("local")))
            except ValueError:
                continue
            owner.setdefault(local, link.get("ifname"))
    missing = [a for a in wanted if a not in owner]
    if missing:
        raise DrillError(
            "no network device of this node carries %s (its addresses: %s)"
            % (", ".join(missing), ", ".join(sorted(owner)) or "none")
        )
    return sorted(set(_device(owner[a]) for a in wanted))


def heal_script():
    """The nft script that removes the drill's tables, present or not (one transaction)."""
    lines = []
    for family in ("inet", "netdev"):
        lines += ["add table %s %s" % (family, TABLE), "delete table %s %s" % (family, TABLE)]
    return "\n".join(lines) + "\n"


def _answered(cell):
    return isinstance(cell, str) and cell.endswith("ms") and cell[:-2].isdigit()


def judge_probe(plan, drill, cells):
    """Failures of the data-plane probe run during the cut (``dataplane_probe.report``'s
    ``cells``): affinity ``local`` must answer in every cluster; a cluster must reach the
    clusters on its side of the cut and must not reach those on the other side."""
    region = dict((c["name"], c.get("region")) for c in plan.get("clusters") or [])
    cut = set(drill["cut_clusters"])
    failures = []
    for source in sorted(cells):
        row = cells[source]
        if not _answered(row.get("local")):
            failures.append(
                "%s: its global service with affinity local did not answer during the cut (%s)"
                % (source, row.get("local"))
            )
        for target, cell in sorted(row.items()):
            if target == "local" or target not in region:
                continue
            same_side = (source in cut) == (target in cut)
            if same_side and not _answered(cell):
                failures.append(
                    "%s -> %s (same side of the cut) failed during the cut: %s"
                    % (source, target, cell)
                )
            if not same_side and _answered(cell):
                failures.append(
                    "%s -> %s crossed the cut (%s): the partition did not hold"
                    % (source, target, cell)
                )
    return failures

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nft_input
short_description: Accept ports in the nftables input chains that drop by default, now and at boot
version_added: "0.2.0"
description:
  - Reads the live rule set (C(nft -j list ruleset)) and finds every filter base chain of
    the input hook (families inet, ip, ip6) that drops by default (policy drop, or a last
    rule that drops or rejects unconditionally).
  - nftables evaluates every base chain and a drop in any of them is final, so an accept in
    a table of its own would open nothing. For each such chain the module keeps a regular
    chain O(chain) in the same table with one accept rule per port, and one jump to it at
    the top of the default-deny chain. Only what differs is changed, in one nft transaction.
  - Persists the same rules in O(rules_file), included at the end of O(config_file) (the
    file C(nftables.service) loads), after checking with C(nft -c) that the result loads.
  - Changes nothing on a host without nft or without a default-deny input chain. Refuses
    default-deny chains of iptables (iptables-nft's C(ip filter INPUT)).
options:
  ports:
    description:
      - The ports to accept, as the P(edgemesh.cluster_mesh.firewall_ports#filter) filter
        returns them. Each item needs C(first) and C(last) (integers, equal for one port),
        C(proto) (C(tcp) or C(udp)) and C(why) (the rule's comment, one line, no quotes, at
        most 120 bytes); other keys are ignored.
    type: list
    elements: dict
    required: true
  chain:
    description: Name of the regular chain holding the accept rules.
    type: str
    default: edgemesh_input
  rules_file:
    description: The persistent rules file.
    type: path
    default: /etc/nftables.d/edgemesh-node-prep.nft
  config_file:
    description:
      - The file C(nftables.service) loads at boot (Debian C(/etc/nftables.conf), RHEL
        C(/etc/sysconfig/nftables.conf)); an C(include) of O(rules_file) is appended unless
        an include already covers it. Empty to apply the rules live only.
    type: path
    default: /etc/nftables.conf
  service:
    description: The unit that loads O(config_file); a warning says when it is not enabled.
    type: str
    default: nftables.service
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the live rule set and the files; reports what would change, changes nothing.
  diff_mode:
    support: full
    details: The rules file and the boot configuration, before and after.
  platform:
    platforms: posix
author:
  - edgemesh maintainers (@edgemesh)
"""

EXAMPLES = r"""
- name: Accept the ports this node needs where nftables drops by default
  edgemesh.cluster_mesh.nft_input:
    ports: "{{ 'agent' | edgemesh.cluster_mesh.firewall_ports(distribution='k3s') }}"
"""

RETURN = r"""
default_deny:
  description: The default-deny input chains handled, as C(family table chain).
  returned: always
  type: list
  elements: str
  sample: [inet filter input]
forward_deny:
  description: Forward chains that drop by default (reported, never changed).
  returned: always
  type: list
  elements: str
script:
  description: The nft commands applied (or, in check mode, that would be); empty when live rules match.
  returned: always
  type: str
persisted:
  description: Whether O(rules_file) is loaded at boot through O(config_file).
  returned: always
  type: bool
nft_version:
  description: Version of nft on the host; empty without nft.
  returned: always
  type: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.nft_ruleset import (
    NftError,
    Port,
    conf_with_include,
    parse_ruleset,
    plan,
    rules_file,
)


def _read(path):
    if not path or not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def _write(module, path, text, mode):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".edgemesh-")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    if not os.path.exists(path):
        os.chmod(tmp, mode)
    module.atomic_move(tmp, path)


def _tmp(directory, text):
    fd, path = tempfile.mkstemp(dir=directory, prefix=".edgemesh-check-")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path


def _check_loads(module, nft, conf_path, conf_text, rules_path, rules_text):
    """nft -c of the boot configuration with the new rules, before anything is written.
    Where an include of the configuration names the rules file, the whole configuration is
    checked (with the new rules in its place); where a glob of the host's includes it, the
    rules are checked on top of the live rule set."""
    directory = os.path.dirname(rules_path)
    tmp_rules = _tmp(directory if os.path.isdir(directory) else "/tmp", rules_text)
    quoted = '"%s"' % rules_path
    tmp_conf = None
    if quoted in conf_text:
        conf = conf_text.replace(quoted, '"%s"' % tmp_rules)
        tmp_conf = _tmp(os.path.dirname(conf_path), conf)
    try:
        rc, out, err = module.run_command([nft, "-c", "-f", tmp_conf or tmp_rules])
    finally:
        for path in (tmp_rules, tmp_conf):
            if path:
                os.unlink(path)
    if rc != 0:
        module.fail_json(
            msg="nft_input: %s would no longer load with the rules of %s (nothing was changed): %s"
            % (conf_path, rules_path, (err or out).strip())
        )


def _service_warning(module, service):
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return
    rc, out, err = module.run_command([systemctl, "is-enabled", service])
    if out.strip() != "enabled":
        module.warn(
            "%s is %s: the rules apply now, but nothing loads them at boot until it is enabled"
            % (service, out.strip() or "unknown")
        )


def _port(index, item):
    try:
        first, last = int(item["first"]), int(item["last"])
        return Port(first, last, str(item["proto"]), str(item["why"]))
    except (KeyError, TypeError, ValueError):
        raise NftError(
            "ports[%d] %r is not allowed; allowed: a mapping with first, last (integers), "
            "proto and why" % (index, item)
        )


def _names(chains):
    return ["%s %s %s" % (c.family, c.table, c.name) for c in chains]


def _live(module, nft, ports, chain):
    """Read the live rule set and plan; refuse iptables' chains, warn about forward chains."""
    rc, out, err = module.run_command([nft, "-j", "list", "ruleset"])
    if rc != 0:
        module.fail_json(msg="nft_input: nft -j list ruleset failed: %s" % (err or out).strip())
    ruleset = parse_ruleset(out)
    result = plan(ruleset, ports, chain)
    if result.iptables:
        wanted = ", ".join("%s/%s" % (p.port, p.proto) for p in result.ports)
        module.fail_json(
            msg="nft_input: %s drops by default and belongs to iptables; this module edits "
            "nftables rule sets only. Open %s with iptables yourself and set "
            "node_prep_firewall: none." % (", ".join(_names(result.iptables)), wanted)
        )
    for name in _names(result.forward_deny):
        module.warn(
            "%s drops forwarded packets by default; nft_input does not change it. Pod "
            "traffic that Cilium hands to the kernel stack (legacy host routing, native "
            "routing without BPF host routing) is forwarded and would be dropped there." % name
        )
    return ruleset, result


def _persistence(module, params, rules_text):
    """(persisted, changed, new config text, diffs) of the boot files."""
    conf_path, rules_path = params["config_file"], params["rules_file"]
    old_rules, old_conf = _read(rules_path), _read(conf_path)
    if not conf_path:
        return False, False, None, []
    if old_conf is None:
        module.warn("%s does not exist: the rules apply now but not at boot" % conf_path)
        return False, False, None, []
    _service_warning(module, params["service"])
    new_conf = conf_with_include(old_conf, conf_path, rules_path)
    diffs = [
        dict(before=old_rules or "", after=rules_text, before_header=rules_path),
        dict(before=old_conf, after=new_conf, before_header=conf_path),
    ]
    for diff in diffs:
        diff["after_header"] = diff["before_header"]
    changed = old_rules != rules_text or old_conf != new_conf
    return True, changed, (new_conf if new_conf != old_conf else None), diffs


def _apply(module, nft, script, writes):
    """The live fix in one nft transaction, then the boot files."""
    if script:
        rc, out, err = module.run_command([nft, "-f", "-"], data=script)
        if rc != 0:
            module.fail_json(msg="nft_input: nft -f failed: %s" % (err or out).strip())
    for path, text, mode in writes:
        _write(module, path, text, mode)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ports=dict(type="list", elements="dict", required=True),
            chain=dict(type="str", default="edgemesh_input"),
            rules_file=dict(type="path", default="/etc/nftables.d/edgemesh-node-prep.nft"),
            config_file=dict(type="path", default="/etc/nftables.conf"),
            service=dict(type="str", default="nftables.service"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    out = dict(changed=False, default_deny=[], forward_deny=[], script="", persisted=False)
    out["nft_version"] = ""
    nft = module.get_bin_path("nft")
    if not nft:
        module.exit_json(msg="nft is not installed: no nftables rule set to change", **out)
    try:
        ports = [_port(index, item) for index, item in enumerate(params["ports"])]
        ruleset, result = _live(module, nft, ports, params["chain"])
        rules_text = rules_file(result, params["config_file"] or "(none)", params["chain"])
    except NftError as exc:
        module.fail_json(msg="nft_input: %s" % exc)
    out.update(nft_version=ruleset.version, forward_deny=_names(result.forward_deny))
    out.update(default_deny=_names([t.chain for t in result.targets]), script=result.script)
    if not result.targets:
        module.exit_json(msg="no input chain drops by default: nothing to change", **out)
    persisted, persist, new_conf, diffs = _persistence(module, params, rules_text)
    out.update(persisted=persisted, changed=bool(result.script) or persist)
    if module._diff:
        out["diff"] = diffs
    if module.check_mode or not out["changed"]:
        module.exit_json(**out)
    conf_path, rules_path, writes = params["config_file"], params["rules_file"], []
    if persist:
        conf_text = new_conf if new_conf is not None else _read(conf_path)
        _check_loads(module, nft, conf_path, conf_text, rules_path, rules_text)
        writes.append((rules_path, rules_text, 0o644))
        if new_conf is not None:
            writes.append((conf_path, new_conf, 0o755))
    _apply(module, nft, result.script, writes)
    module.exit_json(**out)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: partition_drill
short_description: Cut this node off from given peers with nftables, healed by a timer
version_added: "0.3.0"
description:
  - The node side of the link-failure drill (playbooks/drill_partition.yml). With
    O(state=present) it drops every packet to and from O(peers) in nftables tables of its
    own (C(inet edgemesh_drill) on the output, input and forward hooks; C(netdev
    edgemesh_drill) on the egress hook of O(devices), which also sees traffic that Cilium's
    BPF host routing sends past the stack).
  - Before the rules are applied, a transient systemd timer (C(edgemesh-drill-heal)) is
    started that removes both tables after O(heal_after) seconds, so the node heals even
    when the play that cut it off dies.
  - O(state=absent) removes both tables and stops the timer. Both states are idempotent;
    the node's other nftables tables are never touched.
options:
  state:
    description: C(present) cuts the node off, C(absent) heals it.
    type: str
    choices: [present, absent]
    default: present
  peers:
    description: IPv4 and IPv6 addresses to cut off (required with O(state=present)).
    type: list
    elements: str
    default: []
  devices:
    description: Network devices whose egress hook also drops the traffic (e.g. the device of the node address).
    type: list
    elements: str
    default: []
  node_addresses:
    description:
      - The node's own addresses; the devices that carry them (C(ip -j address)) are added
        to O(devices). An address no device carries is an error.
    type: list
    elements: str
    default: []
  heal_after:
    description: Seconds after which the timer removes the rules (required with O(state=present)).
    type: int
  state_dir:
    description: Where the applied and the healing scripts are kept (tmpfs, gone at boot like the rules).
    type: path
    default: /run/edgemesh-drill
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the live tables and the applied script; reports what would change.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - nft (nftables 1.0.1 or later for the egress hook), systemd-run
author:
  - edgemesh maintainers (@edgemesh)
"""

EXAMPLES = r"""
- name: Cut this node off from the other region for at most 10 minutes
  edgemesh.cluster_mesh.partition_drill:
    peers: [192.0.2.21, 2001:db8::21]
    devices: [eth0]
    heal_after: 600

- name: Heal
  edgemesh.cluster_mesh.partition_drill:
    state: absent
"""

RETURN = r"""
cut:
  description: Whether the node is cut off after the task.
  returned: always
  type: bool
peers:
  description: The peer addresses cut off, sorted.
  returned: always
  type: list
  elements: str
devices:
  description: The devices whose egress hook drops the traffic too.
  returned: with O(state=present)
  type: list
  elements: str
heal_unit:
  description: The transient systemd unit that heals the node.
  returned: always
  type: str
  sample: edgemesh-drill-heal
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import partition_drill


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


class Drill(object):
    def __init__(self, module):
        self.module = module
        self.nft = module.get_bin_path("nft", required=True)
        self.dir = module.params["state_dir"]
        self.cut_file = os.path.join(self.dir, "cut.nft")
        self.heal_file = os.path.join(self.dir, "heal.nft")

    def run(self, argv, check=True):
        rc, out, err = self.module.run_command(argv)
        if check and rc != 0:
            self.module.fail_json(msg="%s failed (rc %d): %s" % (" ".join(argv), rc, err.strip()))
        return rc, out

    def devices_of(self, params):
        """The devices carrying the node addresses, from `ip -j address`."""
        ip = self.module.get_bin_path("ip", required=True)
        _rc, out = self.run([ip, "-j", "address"])
        try:
            found = partition_drill.devices_of(json.loads(out), params["node_addresses"])
        except (ValueError, partition_drill.DrillError) as exc:
            self.module.fail_json(msg="partition_drill: %s" % exc)
        return set(found)

    def tables(self):
        """The drill's tables present now."""
        found = []
        for family in ("inet", "netdev"):
            rc, _out = self.run([self.nft, "list", "table", family, partition_drill.TABLE], False)
            if rc == 0:
                found.append(family)
        return found

    def timer_active(self):
        systemctl = self.module.get_bin_path("systemctl", required=True)
        unit = partition_drill.HEAL_UNIT + ".timer"
        return self.run([systemctl, "is-active", "--quiet", unit], False)[0] == 0

    def stop_timer(self):
        systemctl = self.module.get_bin_path("systemctl", required=True)
        for suffix in (".timer", ".service"):
            self.run([systemctl, "stop", partition_drill.HEAL_UNIT + suffix], False)
            self.run([systemctl, "reset-failed", partition_drill.HEAL_UNIT + suffix], False)

    def start_timer(self, seconds):
        systemd_run = self.module.get_bin_path("systemd-run", required=True)
        self.stop_timer()
        self.run(
            [
                systemd_run,
                "--unit=%s" % partition_drill.HEAL_UNIT,
                "--on-active=%ds" % seconds,
                "--timer-property=AccuracySec=1s",
                "--description=edgemesh.cluster_mesh partition drill: heal",
                self.nft,
                "-f",
                self.heal_file,
            ]
        )

    def present(self, script, seconds):
        tables = self.tables()
        wanted = ["inet", "netdev"] if self.module.params["devices"] else ["inet"]
        same = _read(self.cut_file) == script and tables == wanted
        if same and self.timer_active():
            return False
        if self.module.check_mode:
            return True
        if not os.path.isdir(self.dir):
            os.makedirs(self.dir, 0o700)
        _write(self.heal_file, partition_drill.heal_script())
        _write(self.cut_file, script)
        # The timer first: if applying fails half-way or the play dies, the node heals.
        self.start_timer(seconds)
        self.run([self.nft, "-f", self.cut_file])
        return True

    def absent(self):
        changed = bool(self.tables()) or self.timer_active() or os.path.exists(self.cut_file)
        if not changed or self.module.check_mode:
            return changed
        if not os.path.isdir(self.dir):
            os.makedirs(self.dir, 0o700)
        _write(self.heal_file, partition_drill.heal_script())
        self.run([self.nft, "-f", self.heal_file])
        self.stop_timer()
        if os.path.exists(self.cut_file):
            os.remove(self.cut_file)
        return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            peers=dict(type="list", elements="str", default=[]),
            devices=dict(type="list", elements="str", default=[]),
            node_addresses=dict(type="list", elements="str", default=[]),
            heal_after=dict(type="int"),
            state_dir=dict(type="path", default="/run/edgemesh-drill"),
        ),
        required_if=[("state", "present", ("heal_after",))],
        supports_check_mode=True,
    )
    params = module.params
    result = dict(heal_unit=partition_drill.HEAL_UNIT, peers=[])
    try:
        if params["state"] == "present":
            if params["heal_after"] <= 0:
                raise partition_drill.DrillError(
                    "heal_after is %d; allowed: a number of seconds > 0" % params["heal_after"]
                )
            result["peers"] = partition_drill.sort_addresses(params["peers"])
            script = partition_drill.cut_script(params["peers"], params["devices"])
    except partition_drill.DrillError as exc:
        module.fail_json(msg="partition_drill: %s" % exc, **result)
    drill = Drill(module)
    if params["state"] == "present":
        if params["node_addresses"]:
            params["devices"] = sorted(set(params["devices"]) | drill.devices_of(params))
            script = partition_drill.cut_script(params["peers"], params["devices"])
        result["devices"] = params["devices"]
        changed = drill.present(script, params["heal_after"])
    else:
        changed = drill.absent()
    module.exit_json(changed=changed, cut=params["state"] == "present", **result)


if __name__ == "__main__":
    main()

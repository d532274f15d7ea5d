#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_probe
short_description: Tell reachable from cut-off addresses with one TCP connection attempt each
version_added: "0.3.0"
description:
  - Opens one TCP connection from the managed node to O(port) of every address of
    O(addresses), all at once, and says for each whether it C(connected), was C(refused)
    (a reset or an ICMP error came back, so the address is reachable but nothing listens)
    or C(timeout) (nothing came back within O(timeout), so it was dropped on the way).
  - The link-failure drill (playbooks/drill_partition.yml) uses it to prove that a cut
    really drops traffic and that healing brings it back. Read-only; never changes
    anything.
options:
  addresses:
    description: IPv4 or IPv6 addresses to probe.
    type: list
    elements: str
    required: true
  port:
    description: The TCP port (e.g. the kubelet's 10250, which every node listens on).
    type: int
    default: 10250
  timeout:
    description: Seconds to wait for an answer.
    type: float
    default: 3
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Probing changes nothing, so it runs in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - edgemesh maintainers (@edgemesh)
"""

EXAMPLES = r"""
- name: Which peers answer
  edgemesh.cluster_mesh.tcp_probe:
    addresses: [192.0.2.21, 2001:db8::21]
    port: 10250
"""

RETURN = r"""
answers:
  description: Address to C(connected), C(refused) or C(timeout).
  returned: always
  type: dict
  sample: {"192.0.2.21": "timeout"}
reachable:
  description: The addresses that connected or refused, sorted.
  returned: always
  type: list
  elements: str
cut:
  description: The addresses that timed out, sorted.
  returned: always
  type: list
  elements: str
"""

import socket
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule


def probe(address, port, timeout):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
        return "connected"
    except socket.timeout:
        return "timeout"
    except OSError:
        return "refused"
    finally:
        sock.close()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            addresses=dict(type="list", elements="str", required=True),
            port=dict(type="int", default=10250),
            timeout=dict(type="float", default=3),
        ),
        supports_check_mode=True,
    )
    addresses = sorted(set(module.params["addresses"]))
    port, timeout = module.params["port"], module.params["timeout"]
    for address in addresses:
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in address else socket.AF_INET, address)
        except OSError:
            module.fail_json(msg="tcp_probe: %r is not an IP address" % address)
    with ThreadPoolExecutor(max_workers=min(32, len(addresses) or 1)) as pool:
        answers = list(pool.map(lambda a: probe(a, port, timeout), addresses))
    results = dict(zip(addresses, answers))
    module.exit_json(
        changed=False,
        answers=results,
        reachable=[a for a in addresses if results[a] != "timeout"],
        cut=[a for a in addresses if results[a] == "timeout"],
    )


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: firewall_backend
short_description: Which host firewall to configure
version_added: "0.2.0"
description:
  - The requested firewall, or for C(auto) C(firewalld) when its service runs, else C(ufw)
    when C(ufw status) reports the firewall active, else C(nftables) (the
    M(edgemesh.cluster_mesh.nft_input) module then changes nothing unless an input chain
    drops by default).
options:
  _input:
    description: The requested firewall.
    type: str
    choices: [auto, firewalld, ufw, nftables, none]
    required: true
  firewalld_state:
    description: The C(state) of C(firewalld.service) in C(ansible_facts.services) (empty when absent).
    type: str
    default: ""
  ufw_status:
    description: The output of C(ufw status) (empty when ufw is not installed).
    type: str
    default: ""
author:
  - edgemesh maintainers
"""

EXAMPLES = r"""
- name: Pick the firewall
  ansible.builtin.debug:
    msg: "{{ 'auto' | edgemesh.cluster_mesh.firewall_backend(firewalld_state='running') }}"
"""

RETURN = r"""
_value:
  description: One of C(firewalld), C(ufw), C(nftables), C(none).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.firewall_ports import (
    FirewallPortsError,
    choose_backend,
)


def firewall_backend(requested, firewalld_state="", ufw_status=""):
    for name, value in (("firewalld_state", firewalld_state), ("ufw_status", ufw_status)):
        if value is not None and not isinstance(value, str):
            raise AnsibleFilterError("firewall_backend: %s %r is not a string" % (name, value))
    try:
        return choose_backend(requested, firewalld_state or "", ufw_status or "")
    except FirewallPortsError as exc:
        raise AnsibleFilterError("firewall_backend: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"firewall_backend": firewall_backend}

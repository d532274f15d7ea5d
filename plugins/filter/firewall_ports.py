# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: firewall_ports
short_description: The ports a mesh node's host firewall must accept
version_added: "0.2.0"
description:
  - Every node gets 10250/tcp (kubelet), 4240/tcp (cilium-health), 4244/tcp (Hubble server,
    when Hubble is on), the tunnel port (8472/udp VXLAN or 6081/udp Geneve, in tunnel
    routing mode), 51871/udp (WireGuard encryption) and the cluster's clustermesh NodePort.
  - Servers add the API port (6443/tcp, also the k3s supervisor) and 2379-2380/tcp (etcd).
  - The decision lives in C(plugins/module_utils/firewall_ports.py); docs/node_prep.md cites
    where each port comes from.
options:
  _input:
    description: The node's role.
    type: str
    choices: [server, agent]
    required: true
  distribution:
    description: The cluster's distribution.
    type: str
    choices: [k3s, kubeadm]
    required: true
  cilium_options:
    description:
      - Cilium options as the values engine names them (C(cilium_) prefix optional); only
        routing_mode, tunnel_protocol, encryption, encryption_type and hubble change the
        ports. Absent options take the engine's defaults.
    type: dict
    default: {}
  clustermesh_nodeport:
    description: The cluster's clustermesh-apiserver NodePort (the plan's C(clustermesh_nodeport)); 0 for none.
    type: int
    default: 0
  nodeports:
    description: Also accept the whole NodePort range, TCP and UDP.
    type: bool
    default: false
  api_port:
    description: The servers' API port.
    type: int
    default: 6443
  extra_ports:
    description: More ports, as C(PORT/PROTO), C(FIRST-LAST/PROTO) or mappings with port, proto and why.
    type: list
    elements: raw
    default: []
author:
  - edgemesh maintainers
"""

EXAMPLES = r"""
- name: Show what a k3s server with Geneve needs
  ansible.builtin.debug:
    msg: "{{ 'server' | edgemesh.cluster_mesh.firewall_ports(distribution='k3s',
             cilium_options={'tunnel_protocol': 'geneve'}, clustermesh_nodeport=32379) }}"
"""

RETURN = r"""
_value:
  description: The ports, sorted by first port, last port and protocol.
  type: list
  elements: dict
  contains:
    port:
      description: The port or range as text (C(10250), C(2379-2380)).
      type: str
    first:
      description: First port.
      type: int
    last:
      description: Last port.
      type: int
    proto:
      description: C(tcp) or C(udp).
      type: str
    why:
      description: What listens there.
      type: str
    firewalld:
      description: The port in firewalld's form (C(2379-2380/tcp)).
      type: str
    ufw:
      description: The port in ufw's form (C(2379:2380)).
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.firewall_ports import (
    FirewallPortsError,
    options_ports,
)


def _int(name, value):
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnsibleFilterError("firewall_ports: %s %r is not an integer" % (name, value))
    return value


def firewall_ports(
    role,
    distribution=None,
    cilium_options=None,
    clustermesh_nodeport=0,
    nodeports=False,
    api_port=6443,
    extra_ports=None,
):
    if not isinstance(nodeports, bool):
        raise AnsibleFilterError("firewall_ports: nodeports %r is not a boolean" % (nodeports,))
    if extra_ports is not None and not isinstance(extra_ports, list):
        raise AnsibleFilterError("firewall_ports: extra_ports %r is not a list" % (extra_ports,))
    try:
        rules = options_ports(
            role,
            distribution,
            cilium_options,
            clustermesh_nodeport=_int("clustermesh_nodeport", clustermesh_nodeport),
            nodeports=nodeports,
            api_port=_int("api_port", api_port),
            extra_ports=extra_ports or [],
        )
    except FirewallPortsError as exc:
        raise AnsibleFilterError("firewall_ports: %s" % exc)
    return [rule.as_dict() for rule in rules]


class FilterModule(object):
    def filters(self):
        return {"firewall_ports": firewall_ports}

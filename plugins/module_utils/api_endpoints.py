# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API server address every node's Cilium agent uses: one that survives the loss of any
one server (issue 15 #1).

With kube-proxy replacement, Cilium cannot reach the API through the ``kubernetes``
Service (it implements that Service), so ``k8sServiceHost``/``k8sServicePort`` name a
real address. Pointing every agent at one server makes that server a single point of
failure for the whole cluster's networking. Instead each node talks to the API through
its own loopback:

* **k3s**: every k3s node (server and agent) runs k3s's client-side API load balancer on
  ``127.0.0.1:6444``, which follows the list of servers as it changes (k3s agent
  loadbalancer; the Cilium and k3s user reports cited in docs/cilium.md use exactly this).
* **kubeadm**: control-plane nodes reach their own kube-apiserver on ``127.0.0.1:6443``;
  worker nodes run a node-local TCP proxy on ``127.0.0.1:6443`` that balances over every
  control plane with health checks - what kubespray calls localhost load balancing
  (docs/ha-mode.md), here with the distribution's HAProxy package
  (``proxy_config``). The API server certificate carries 127.0.0.1 and localhost
  (``LOOPBACK_SANS``).
* A cluster the collection did not bootstrap (the inventory gives ``edgemesh_kubeconfig``)
  keeps the API endpoint the inventory gives: its nodes have no proxy of ours.

Pure Python: the values engine, the kubeadm renderers and the unit tests share it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import plan_types

LOOPBACK = "127.0.0.1"
# (host, port) per distribution, see the module docstring.
NODE_LOCAL = {"k3s": (LOOPBACK, 6444), "kubeadm": (LOOPBACK, 6443)}
LOOPBACK_SANS = ("127.0.0.1", "localhost")
PROXY_CONFIG_PATH = "/etc/edgemesh/apiserver-proxy.cfg"
PROXY_UNIT = "edgemesh-apiserver-proxy.service"


def agent_endpoint(cluster):
    """The :class:`plan_types.Endpoint` the Cilium agents of ``cluster`` use."""
    if cluster.kubeconfig or cluster.distribution not in NODE_LOCAL:
        return cluster.api_endpoint
    host, port = NODE_LOCAL[cluster.distribution]
    return plan_types.Endpoint(host, port)


def needs_proxy(cluster, host):
    """True for a kubeadm worker of a cluster the collection bootstraps."""
    if cluster.kubeconfig or cluster.distribution != "kubeadm":
        return False
    node = cluster.node(host)
    return node is not None and node.role != "server"


def _backend(ip, port):
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)


def proxy_config(cluster, port=plan_types.DEFAULT_API_PORT):
    """HAProxy configuration of a kubeadm worker's node-local API proxy.

    TCP pass-through (TLS ends at the API servers), each server checked with an HTTPS
    ``GET /readyz`` (anonymous access to /readyz is the kube-apiserver default), a server
    that fails three checks is taken out until it passes two.
    """
    if not cluster.servers:
        raise plan_types.PlanShapeError("cluster %s has no control plane" % cluster.name)
    listen_host, listen_port = NODE_LOCAL["kubeadm"]
    lines = [
        "# Node-local API proxy of edgemesh.cluster_mesh (cluster %s): Cilium and the"
        % cluster.name,
        "# kubelet reach every control plane through %s:%d." % (listen_host, listen_port),
        "global",
        "    log stdout format raw local0 notice",
        "    maxconn 4000",
        "",
        "defaults",
        "    mode tcp",
        "    log global",
        "    option tcplog",
        "    option dontlognull",
        "    timeout connect 5s",
        "    timeout client 4h",
        "    timeout server 4h",
        "    timeout check 5s",
        "",
        "frontend kube_apiserver",
        "    bind %s:%d" % (listen_host, listen_port),
        "    default_backend kube_apiservers",
        "",
        "backend kube_apiservers",
        "    option httpchk",
        "    http-check send meth GET uri /readyz",
        "    http-check expect status 200",
        "    default-server inter 5s fall 3 rise 2 check check-ssl verify none",
    ]
    for index, ip in enumerate(cluster.servers):
        lines.append("    server cp%d %s" % (index + 1, _backend(ip, port)))
    return "\n".join(lines) + "\n"

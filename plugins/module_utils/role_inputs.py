# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan + cluster + host -> the variables of the k3s and kubeadm roles.

The one mapping from the plan (docs/contracts.md) to the role inputs, used by the action
plugin ``edgemesh.cluster_mesh.role_inputs`` on every node and by the previews of
``bootstrap_files.preview_files``:

* ``k3s_inputs(plan_cluster, host, hostvars_of_host, initialised_servers)`` and
  ``kubeadm_inputs(...)`` -> ``{role variable: value}``;
* ``choose_init_host(cluster, pinned, initialised_servers)`` - the server that initialises
  (or initialised) the cluster: the pin ``edgemesh_k3s_init_server``, else the first server
  by name that already holds cluster data, else the plan's ``init_host`` (the first planned
  server). A server added later never starts a second cluster.

``initialised_servers`` are the servers that already hold cluster data: k3s embedded etcd
data or a kubeadm kubelet kubeconfig (``CLUSTER_DATA``, stat-ed on the nodes first).
Pure Python, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from dataclasses import asdict, dataclass

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import api_endpoints, plan_types
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_rules import DISTRIBUTIONS

# A server holding this path already belongs to a running cluster (k3s: embedded etcd data
# under _k3s_data_dir; kubeadm: the kubelet kubeconfig _kubeadm_kubelet_conf of the role;
# tests/unit/plugins/module_utils/test_role_inputs.py checks both against the roles' vars).
CLUSTER_DATA = {
    "k3s": "/var/lib/rancher/k3s/server/db/etcd",
    "kubeadm": "/etc/kubernetes/kubelet.conf",
}
DEFAULT_OUTPUT_DIR = "build"
PIN_VAR = "edgemesh_k3s_init_server"


class RoleInputError(ValueError):
    """The plan, the host or an inventory variable does not give the role its inputs."""


@dataclass(frozen=True)
class K3sInputs:
    """The variables of the k3s role that come from the plan (roles/k3s/defaults/main.yml)."""

    k3s_cluster_name: str
    k3s_node_role: str
    k3s_node_ip: str
    k3s_cluster_init: bool
    k3s_server_addresses: list
    k3s_registration_address: str
    k3s_registration_port: int
    k3s_pod_cidrs: list
    k3s_service_cidrs: list
    k3s_cluster_dns: str
    k3s_tls_sans: list
    k3s_token_file: str
    k3s_agent_token_file: str
    k3s_init_host: str
    k3s_output_dir: str


@dataclass(frozen=True)
class KubeadmInputs:
    """The variables of the kubeadm role that come from the plan (roles/kubeadm/defaults)."""

    kubeadm_cluster_name: str
    kubeadm_node_role: str
    kubeadm_node_ip: str
    kubeadm_pod_cidrs: list
    kubeadm_service_cidrs: list
    kubeadm_cluster_dns: str
    kubeadm_control_plane_hosts: list
    kubeadm_cluster_hosts: list
    kubeadm_control_plane_endpoint: str
    kubeadm_control_plane_port: int
    kubeadm_cert_sans: list
    kubeadm_output_dir: str
    kubeadm_apiserver_proxy: bool
    kubeadm_apiserver_proxy_config: str


@dataclass(frozen=True)
class HostPlace:
    """Where a host sits in the plan: its cluster and node (None when in no cluster)."""

    cluster: object
    node: object

    @property
    def distribution(self):
        return self.cluster.distribution if self.cluster else ""

    @property
    def role(self):
        return self.node.role if self.node else ""

    def data_path(self):
        """The path that shows a server already holds cluster data ("" for agents)."""
        return CLUSTER_DATA.get(self.distribution, "") if self.role == "server" else ""


def read_cluster(plan_cluster):
    """The typed plan cluster, or RoleInputError naming the missing or mistyped field."""
    if isinstance(plan_cluster, plan_types.ClusterPlan):
        return plan_cluster
    try:
        return plan_types.ClusterPlan.from_dict(plan_cluster)
    except plan_types.PlanShapeError as exc:
        raise RoleInputError(str(exc))


def locate(plan, host):
    """HostPlace of ``host``: the plan cluster whose nodes list it (cluster None if none)."""
    if not isinstance(plan, dict) or not isinstance(plan.get("clusters"), list):
        raise RoleInputError(
            "the plan is not a mapping with 'clusters' (the fact edgemesh_plan on localhost, "
            "set by playbooks/plan.yml or tasks/load_plan.yml)"
        )
    for raw in plan["clusters"]:
        names = [n.get("host") for n in raw.get("nodes") or [] if isinstance(n, dict)]
        if host in names:
            cluster = read_cluster(raw)
            return HostPlace(cluster, cluster.node(host))
    return HostPlace(None, None)


def choose_init_host(cluster, pinned="", initialised_servers=()):
    """The server that initialises ``cluster``: pin, else first initialised server, else plan."""
    cluster = read_cluster(cluster)
    servers = sorted(cluster.server_hosts)
    if pinned:
        if pinned not in servers:
            raise RoleInputError(
                "cluster %s: %s %r is not a server of the cluster; allowed: %s"
                % (cluster.name, PIN_VAR, pinned, ", ".join(servers) or "none")
            )
        return pinned
    running = sorted(h for h in initialised_servers if h in servers)
    if running:
        return running[0]
    if cluster.init_host not in servers:
        raise RoleInputError(
            "cluster %s: the plan's init_host %r is not one of its servers %s (run "
            "playbooks/plan.yml again)" % (cluster.name, cluster.init_host, ", ".join(servers))
        )
    return cluster.init_host


def _unique(items):
    seen = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen


def _node_ips(node):
    return ",".join(ip for ip in (node.ip, node.ip_v6) if ip)


def _endpoint(cluster, init_host):
    """(host, port) of the API: the plan's, moved to the running init server's address when
    the plan derived it from a planned init server that does not initialise after all."""
    api = cluster.api_endpoint
    planned = cluster.node(cluster.init_host)
    if init_host != cluster.init_host and planned is not None and api.host == planned.ip:
        return cluster.node(init_host).ip, api.port
    return api.host, api.port


def _output_dir(hostvars_of_host):
    return os.path.realpath(hostvars_of_host.get("edgemesh_output_dir") or DEFAULT_OUTPUT_DIR)


class _Context(object):
    """The facts every mapping needs: cluster, node, init host, endpoint, output dir."""

    def __init__(self, plan_cluster, host, hostvars_of_host, initialised_servers, distribution):
        self.cluster = read_cluster(plan_cluster)
        if self.cluster.distribution != distribution:
            raise RoleInputError(
                "host %s: cluster %s is a %s cluster, not %s; allowed: %s"
                % (
                    host,
                    self.cluster.name,
                    self.cluster.distribution,
                    distribution,
                    ", ".join(DISTRIBUTIONS),
                )
            )
        self.node = self.cluster.node(host)
        if self.node is None:
            raise RoleInputError(
                "host %s is not a node of cluster %s in the plan; allowed: %s (run "
                "playbooks/plan.yml again after changing the inventory)"
                % (host, self.cluster.name, ", ".join(n.host for n in self.cluster.nodes))
            )
        hostvars_of_host = hostvars_of_host or {}
        pinned = hostvars_of_host.get(PIN_VAR) or ""
        self.init_host = choose_init_host(self.cluster, pinned, initialised_servers or ())
        self.api_host, self.api_port = _endpoint(self.cluster, self.init_host)
        self.output_dir = _output_dir(hostvars_of_host)


def k3s_inputs(plan_cluster, host, hostvars_of_host=None, initialised_servers=()):
    """The k3s role variables of ``host`` as a dict (see K3sInputs)."""
    ctx = _Context(plan_cluster, host, hostvars_of_host, initialised_servers, "k3s")
    cl = ctx.cluster
    sans = cl.servers + [cl.control_plane_endpoint, ctx.api_host] + cl.extra_cert_sans
    return asdict(
        K3sInputs(
            k3s_cluster_name=cl.name,
            k3s_node_role=ctx.node.role,
            k3s_node_ip=_node_ips(ctx.node),
            k3s_cluster_init=host == ctx.init_host,
            k3s_server_addresses=list(cl.servers),
            k3s_registration_address=ctx.api_host,
            k3s_registration_port=ctx.api_port,
            k3s_pod_cidrs=list(cl.pod_cidrs),
            k3s_service_cidrs=list(cl.service_cidrs),
            k3s_cluster_dns=cl.cluster_dns,
            k3s_tls_sans=_unique(sans),
            k3s_token_file=os.path.join(ctx.output_dir, cl.paths.token),
            k3s_agent_token_file=os.path.join(ctx.output_dir, cl.paths.agent_token),
            k3s_init_host=ctx.init_host,
            k3s_output_dir=ctx.output_dir,
        )
    )


def kubeadm_inputs(plan_cluster, host, hostvars_of_host=None, initialised_servers=()):
    """The kubeadm role variables of ``host`` as a dict (see KubeadmInputs).

    ``kubeadm_control_plane_hosts`` starts with the init host (the role runs ``kubeadm
    init``, makes the join secrets and runs ``kubeadm upgrade apply`` there)."""
    ctx = _Context(plan_cluster, host, hostvars_of_host, initialised_servers, "kubeadm")
    cl = ctx.cluster
    others = sorted(h for h in cl.server_hosts if h != ctx.init_host)
    proxy = api_endpoints.needs_proxy(cl, host)
    return asdict(
        KubeadmInputs(
            kubeadm_cluster_name=cl.name,
            kubeadm_node_role=ctx.node.role,
            kubeadm_node_ip=_node_ips(ctx.node),
            kubeadm_pod_cidrs=list(cl.pod_cidrs),
            kubeadm_service_cidrs=list(cl.service_cidrs),
            kubeadm_cluster_dns=cl.cluster_dns,
            kubeadm_control_plane_hosts=[ctx.init_host] + others,
            kubeadm_cluster_hosts=sorted(n.host for n in cl.nodes),
            kubeadm_control_plane_endpoint=ctx.api_host,
            kubeadm_control_plane_port=ctx.api_port,
            kubeadm_cert_sans=_unique(
                cl.servers
                + [cl.control_plane_endpoint]
                + cl.extra_cert_sans
                + list(api_endpoints.LOOPBACK_SANS)
            ),
            kubeadm_output_dir=ctx.output_dir,
            # Workers reach every control plane through 127.0.0.1:6443 (api_endpoints).
            kubeadm_apiserver_proxy=proxy,
            kubeadm_apiserver_proxy_config=api_endpoints.proxy_config(cl) if proxy else "",
        )
    )


INPUTS = {"k3s": k3s_inputs, "kubeadm": kubeadm_inputs}


def bootstrap_step(host, inputs):
    """The join step of ``host``: ``init``, ``server`` (joins one at a time) or ``agent``."""
    first = (inputs.get("kubeadm_control_plane_hosts") or [None])[0]
    if inputs.get("k3s_cluster_init") or first == host:
        return "init"
    role = inputs.get("k3s_node_role") or inputs.get("kubeadm_node_role")
    return "server" if role == "server" else "agent"


def role_inputs(distribution, plan_cluster, host, hostvars_of_host=None, initialised_servers=()):
    """The role variables for ``distribution`` (k3s or kubeadm)."""
    if distribution not in INPUTS:
        raise RoleInputError(
            "distribution %r is not supported; allowed: %s" % (distribution, ", ".join(INPUTS))
        )
    return INPUTS[distribution](plan_cluster, host, hostvars_of_host, initialised_servers)

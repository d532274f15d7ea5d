# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan's data types: what the planner produces and every role reads.

The plan crosses Ansible as JSON (``plan.json``, the fact ``edgemesh_plan``); these
dataclasses are its typed form in Python. ``Plan.from_dict(data)`` checks the shape once
(a missing or mistyped field is a ``PlanShapeError`` naming it), ``Plan.to_dict()`` gives
the JSON form back. docs/contracts.md describes every field.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from dataclasses import dataclass, field, fields

DEFAULT_API_PORT = 6443


class PlanShapeError(ValueError):
    """The data is not a plan of this collection (a field is missing or mistyped)."""


def _get(data, key, kind, where, default=None, required=True):
    if key not in data or data[key] is None:
        if required:
            raise PlanShapeError("%s: the plan has no %r (run playbooks/plan.yml)" % (where, key))
        return default
    value = data[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise PlanShapeError(
            "%s: %r is %r; allowed: a %s"
            % (where, key, value, getattr(kind, "__name__", "value of another type"))
        )
    return value


@dataclass
class Node:
    host: str
    ip: str
    role: str
    ip_v6: str = ""

    @classmethod
    def from_dict(cls, data, where):
        if not isinstance(data, dict):
            raise PlanShapeError("%s: node %r is not a mapping" % (where, data))
        where = "%s: node %s" % (where, data.get("host"))
        return cls(
            host=_get(data, "host", str, where),
            ip=_get(data, "ip", str, where),
            role=_get(data, "role", str, where),
            ip_v6=_get(data, "ip_v6", str, where, "", required=False),
        )


@dataclass
class Endpoint:
    host: str
    port: int = DEFAULT_API_PORT

    def url(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "https://%s:%d" % (host, self.port)


@dataclass
class ClusterPaths:
    """Files of one cluster, relative to the output directory."""

    kubeconfig: str
    token: str
    agent_token: str

    @classmethod
    def for_cluster(cls, name):
        return cls("%s/kubeconfig" % name, "%s/k3s-token" % name, "%s/k3s-agent-token" % name)


@dataclass
class ClusterPlan:
    name: str
    group: str
    id: int
    region: str
    distribution: str
    pod_cidrs: list
    service_cidrs: list
    cluster_dns: str
    clustermesh_nodeport: int
    servers: list
    agents: list
    nodes: list
    api_endpoint: Endpoint
    init_host: str
    server_hosts: list
    agent_hosts: list
    paths: ClusterPaths
    control_plane_endpoint: str = ""
    extra_cert_sans: list = field(default_factory=list)
    kubeconfig: str = ""
    kube_context: str = ""
    cilium: dict = field(default_factory=dict)
    peers: list = None  # None: every other cluster of the plan

    _REQUIRED = (
        ("name", str),
        ("group", str),
        ("id", int),
        ("region", str),
        ("distribution", str),
        ("pod_cidrs", list),
        ("service_cidrs", list),
        ("cluster_dns", str),
        ("clustermesh_nodeport", int),
        ("servers", list),
        ("agents", list),
        ("init_host", str),
        ("server_hosts", list),
        ("agent_hosts", list),
    )
    _OPTIONAL = (
        ("control_plane_endpoint", str, ""),
        ("extra_cert_sans", list, ()),
        ("kubeconfig", str, ""),
        ("kube_context", str, ""),
        ("cilium", dict, None),
        ("peers", list, None),
    )

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict):
            raise PlanShapeError("plan.clusters: %r is not a mapping" % (data,))
        where = "plan cluster %s" % data.get("name")
        endpoint = _get(data, "api_endpoint", dict, where)
        paths = _get(data, "paths", dict, where)
        try:
            api = Endpoint(str(endpoint["host"]), int(endpoint.get("port") or DEFAULT_API_PORT))
            files = ClusterPaths(paths["kubeconfig"], paths["token"], paths["agent_token"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanShapeError("%s: api_endpoint or paths lack %s" % (where, exc))
        args = dict((key, _get(data, key, kind, where)) for key, kind in cls._REQUIRED)
        for key, kind, default in cls._OPTIONAL:
            value = _get(data, key, kind, where, default, required=False)
            args[key] = kind(value) if value is not None else (None if key == "peers" else kind())
        nodes = [Node.from_dict(n, where) for n in _get(data, "nodes", list, where)]
        return cls(api_endpoint=api, paths=files, nodes=nodes, **args)

    def node(self, host):
        for node in self.nodes:
            if node.host == host:
                return node
        return None

    def kubeconfig_path(self, output_dir):
        """The kubeconfig to use: the inventory's edgemesh_kubeconfig, else the written one."""
        return self.kubeconfig or os.path.join(output_dir, self.paths.kubeconfig)


@dataclass
class Plan:
    mesh: dict
    clusters: list

    @classmethod
    def from_dict(cls, data):
        if isinstance(data, Plan):
            return data
        if not isinstance(data, dict) or not isinstance(data.get("clusters"), list):
            raise PlanShapeError(
                "the plan is not a mapping with 'mesh' and 'clusters' (run playbooks/plan.yml)"
            )
        mesh = _get(data, "mesh", dict, "plan")
        return cls(mesh=mesh, clusters=[ClusterPlan.from_dict(c) for c in data["clusters"]])

    def cluster(self, name):
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise PlanShapeError(
            "cluster %r is not in the plan; allowed: %s"
            % (name, ", ".join(c.name for c in self.clusters) or "none")
        )

    def cluster_of_host(self, host):
        for cluster in self.clusters:
            if cluster.node(host) is not None:
                return cluster
        return None


def _plain(value):
    if hasattr(value, "__dataclass_fields__"):
        return dict((f.name, _plain(getattr(value, f.name))) for f in fields(value))
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return dict((k, _plain(v)) for k, v in value.items())
    return value


def to_dict(value):
    """The JSON form of a plan, a cluster or a node (plain dicts and lists)."""
    return _plain(value)


def cluster_access(plan, name, output_dir):
    """The plan of cluster ``name`` with its files resolved under ``output_dir``.

    Converts only that cluster (a role asking for one cluster of a 511-cluster plan pays
    for one), and adds ``kubeconfig_path``, ``token_path``, ``agent_token_path``, ``api_url``.
    """
    for data in plan.get("clusters") or []:
        if isinstance(data, dict) and data.get("name") == name:
            cluster = ClusterPlan.from_dict(data)
            result = to_dict(cluster)
            result.update(
                kubeconfig_path=cluster.kubeconfig_path(output_dir),
                token_path=os.path.join(output_dir, cluster.paths.token),
                agent_token_path=os.path.join(output_dir, cluster.paths.agent_token),
                api_url=cluster.api_endpoint.url(),
            )
            return result
    raise PlanShapeError(
        "cluster %r is not in the plan; allowed: %s (run playbooks/plan.yml)"
        % (name, ", ".join(str(c.get("name")) for c in plan.get("clusters") or []) or "none")
    )


def kubeconfig_paths(plan, output_dir):
    """{cluster: its kubeconfig path under ``output_dir``} for every cluster of ``plan``."""
    clusters = plan.get("clusters")
    if not isinstance(clusters, list):
        raise PlanShapeError("the plan has no list of clusters (run playbooks/plan.yml)")
    return dict(
        (cluster.name, cluster.kubeconfig_path(output_dir))
        for cluster in (ClusterPlan.from_dict(data) for data in clusters)
    )

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cross-cluster policies the global_services role wants on one cluster.

Pure Python, no Ansible import (the filter ``edgemesh.cluster_mesh.mesh_policies`` is a
thin wrapper). ``wanted_policies(clusters, cluster_name, flows, options)`` returns
``{"Kind/namespace/name": manifest}`` (namespace empty for the cluster-wide policy), sorted
by key:

* ``CiliumClusterwideNetworkPolicy//edgemesh-region-isolation`` when
  ``options["region_isolation"]``: pods outside the exempt namespaces accept ingress only
  from endpoints of the clusters of their own region and from the listed entities (the
  selector is ``NotIn`` the exempt namespaces and ``Exists`` on the namespace label: NotIn
  alone also selects endpoints that have no namespace label);
* ``CiliumNetworkPolicy/<to_namespace>/edgemesh-allow-<flow>`` for each allowed flow that
  targets this cluster (``to_clusters`` / ``to_regions``; every cluster when both are empty).

With ``options["policies"]`` false (optional, default true) nothing is wanted, so the role
deletes every policy it applied before (``global_services.cleanup``).

Peers are always named by the cluster label ``io.cilium.k8s.policy.cluster``, never
implicitly: from Cilium 1.19 a selector without a cluster label matches only the local
cluster (``policyDefaultLocalCluster``), in 1.18 every cluster; these policies mean the
same on both. Every flow is checked first (``parse_flows``); a bad one is a ``PolicyError``
naming the flow, the key, the value and what is allowed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
from dataclasses import dataclass
from typing import Optional, Tuple

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules

MANAGED_LABELS = {"app.kubernetes.io/managed-by": "edgemesh-global-services"}
CLUSTER_LABEL = "io.cilium.k8s.policy.cluster"
NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace"
ISOLATION_NAME = "edgemesh-region-isolation"
FLOW_PREFIX = "edgemesh-allow-"
API_VERSION = "cilium.io/v2"

FLOW_KEYS = (
    "name",
    "to_namespace",
    "to_labels",
    "ports",
    "from_clusters",
    "from_regions",
    "from_namespace",
    "from_labels",
    "to_clusters",
    "to_regions",
)
PORT_KEYS = ("port", "protocol")
OPTION_KEYS = ("region_isolation", "isolation_exempt_namespaces", "isolation_entities")
# Optional: policies false = the role manages no policy on this cluster (it wants none, so
# those it applied before are deleted); the flows are not read then.
OPTIONAL_KEYS = ("policies",)
DNS_LABEL_ALLOWED = "a DNS label (RFC 1123, at most %d characters)" % mesh_rules.DNS_LABEL_MAX


class PolicyError(ValueError):
    """Flows, options or clusters the policies cannot be built from; says what is allowed."""


def _did_you_mean(value, allowed):
    close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.6)
    return "did you mean %r? " % close[0] if close else ""


def _unknown_keys(data, allowed, where):
    for key in sorted(set(data) - set(allowed), key=str):
        raise PolicyError(
            "%s: unknown key %r; %sallowed: %s"
            % (where, key, _did_you_mean(key, allowed), ", ".join(allowed))
        )


@dataclass(frozen=True)
class Cluster:
    name: str
    region: str


def parse_clusters(clusters):
    """The plan's clusters (mappings with name and region) -> tuple of Cluster."""
    if not isinstance(clusters, list) or not clusters:
        raise PolicyError("the plan has no clusters (%r); run playbooks/plan.yml" % (clusters,))
    parsed = []
    for entry in clusters:
        name = entry.get("name") if isinstance(entry, dict) else None
        region = entry.get("region") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not isinstance(region, str):
            raise PolicyError(
                "plan cluster %r has no name and region; run playbooks/plan.yml" % (entry,)
            )
        parsed.append(Cluster(name, region))
    return tuple(parsed)


@dataclass(frozen=True)
class PolicyOptions:
    region_isolation: bool
    isolation_exempt_namespaces: Tuple[str, ...]
    isolation_entities: Tuple[str, ...]

    @classmethod
    def from_dict(cls, options):
        if not isinstance(options, dict):
            raise PolicyError("options are %r; allowed: a mapping of %s" % (options, OPTION_KEYS))
        _unknown_keys(options, OPTION_KEYS + OPTIONAL_KEYS, "options")
        missing = [k for k in OPTION_KEYS if k not in options]
        if missing:
            raise PolicyError("options: %s is missing" % missing[0])
        if not isinstance(options["region_isolation"], bool):
            raise PolicyError(
                "options: region_isolation is %r; allowed: true or false"
                % (options["region_isolation"],)
            )
        namespaces = options["isolation_exempt_namespaces"]
        entities = options["isolation_entities"]
        if namespaces == []:
            raise PolicyError(
                "options: isolation_exempt_namespaces is empty; allowed: at least one namespace"
                " (kube-system holds the mesh's own control plane)"
            )
        _names(
            namespaces,
            "options: isolation_exempt_namespaces",
            mesh_rules.is_dns_label,
            DNS_LABEL_ALLOWED,
        )
        _names(
            entities,
            "options: isolation_entities",
            lambda e: e in mesh_rules.POLICY_ENTITIES,
            "Cilium entities (%s)" % ", ".join(mesh_rules.POLICY_ENTITIES),
        )
        return cls(options["region_isolation"], tuple(namespaces), tuple(entities))


def _names(values, where, valid, allowed):
    if not isinstance(values, list):
        raise PolicyError("%s is %r; allowed: a list of %s" % (where, values, allowed))
    for value in values:
        if not isinstance(value, str) or not valid(value):
            raise PolicyError("%s: %r is not allowed; allowed: %s" % (where, value, allowed))


@dataclass(frozen=True)
class FlowPort:
    port: int
    protocol: str

    def to_dict(self):
        return {"port": str(self.port), "protocol": self.protocol}


@dataclass(frozen=True)
class Flow:
    """One entry of global_services_allowed_flows, checked."""

    name: str
    to_namespace: str
    to_labels: dict
    ports: Tuple[FlowPort, ...]
    from_clusters: Tuple[str, ...] = ()
    from_regions: Tuple[str, ...] = ()
    from_namespace: Optional[str] = None
    from_labels: Optional[dict] = None
    to_clusters: Tuple[str, ...] = ()
    to_regions: Tuple[str, ...] = ()

    def sources(self, clusters):
        """Cluster names the flow comes from, sorted."""
        names = set(self.from_clusters)
        names.update(c.name for c in clusters if c.region in self.from_regions)
        return sorted(names)

    def applies_to(self, cluster, clusters):
        targets = set(self.to_clusters)
        targets.update(c.name for c in clusters if c.region in self.to_regions)
        return not targets or cluster.name in targets


def _dns_label(value, where):
    if not isinstance(value, str) or not mesh_rules.is_dns_label(value):
        raise PolicyError("%s: %r is not allowed; allowed: %s" % (where, value, DNS_LABEL_ALLOWED))
    return value


def _labels(value, where):
    allowed = "a non-empty mapping of label to value, both strings (quote numbers and booleans)"
    if not isinstance(value, dict) or not value:
        raise PolicyError("%s: %r is not allowed; allowed: %s" % (where, value, allowed))
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise PolicyError(
                "%s: %r: %r is not allowed; allowed: %s" % (where, key, item, allowed)
            )
    return dict(value)


def _port(data, where):
    if not isinstance(data, dict):
        raise PolicyError("%s: %r is not a mapping; allowed keys: port, protocol" % (where, data))
    _unknown_keys(data, PORT_KEYS, where)
    port = data.get("port")
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if not mesh_rules.is_policy_port(port):
        raise PolicyError(
            "%s: port %r is not allowed; allowed: a port number %d-%d"
            % ((where, data.get("port")) + mesh_rules.POLICY_PORT_RANGE)
        )
    protocol = data.get("protocol", "TCP")
    if not isinstance(protocol, str) or protocol.upper() not in mesh_rules.POLICY_PORT_PROTOCOLS:
        raise PolicyError(
            "%s: protocol %r is not allowed; allowed: %s"
            % (where, protocol, ", ".join(mesh_rules.POLICY_PORT_PROTOCOLS))
        )
    return FlowPort(port, protocol.upper())


def _ports(value, where):
    if not isinstance(value, list) or not value:
        raise PolicyError(
            "%s: ports: %r is not allowed; allowed: a non-empty list" % (where, value)
        )
    return tuple(_port(p, "%s: ports[%d]" % (where, i)) for i, p in enumerate(value))


def _members(value, where, kind, known):
    """A list of cluster or region names of the plan."""
    if not isinstance(value, list):
        raise PolicyError(
            "%s: %r is not allowed; allowed: a list of %s names" % (where, value, kind)
        )
    for item in value:
        if kind == "cluster" and not mesh_rules.is_cluster_name(item):
            raise PolicyError("%s: %s" % (where, mesh_rules.cluster_name_problem(item)))
        if item not in known:
            raise PolicyError(
                "%s: %r is not a %s of the plan; %sallowed %ss: %s"
                % (where, item, kind, _did_you_mean(item, known), kind, ", ".join(known))
            )
    return tuple(value)


def _flow_where(data, index):
    name = data.get("name") if isinstance(data, dict) else None
    return "allowed flow %s is invalid" % (
        name if isinstance(name, str) and name else "#%d" % (index + 1)
    )


def parse_flow(data, index, clusters):
    """One entry of the allowed flows (index counts from 0) -> Flow, or PolicyError."""
    where = _flow_where(data, index)
    if not isinstance(data, dict):
        raise PolicyError("%s: %r is not a mapping of %s" % (where, data, ", ".join(FLOW_KEYS)))
    _unknown_keys(data, FLOW_KEYS, where)
    for key in ("name", "to_namespace", "to_labels", "ports"):
        if key not in data:
            raise PolicyError("%s: %s is missing" % (where, key))
    names = sorted(c.name for c in clusters)
    regions = sorted(set(c.region for c in clusters))
    flow = Flow(
        name=_dns_label(data["name"], where + ": name"),
        to_namespace=_dns_label(data["to_namespace"], where + ": to_namespace"),
        to_labels=_labels(data["to_labels"], where + ": to_labels"),
        ports=_ports(data["ports"], where),
        from_clusters=_members(
            data.get("from_clusters", []), where + ": from_clusters", "cluster", names
        ),
        from_regions=_members(
            data.get("from_regions", []), where + ": from_regions", "region", regions
        ),
        from_namespace=(
            _dns_label(data["from_namespace"], where + ": from_namespace")
            if "from_namespace" in data
            else None
        ),
        from_labels=(
            _labels(data["from_labels"], where + ": from_labels") if "from_labels" in data else None
        ),
        to_clusters=_members(
            data.get("to_clusters", []), where + ": to_clusters", "cluster", names
        ),
        to_regions=_members(data.get("to_regions", []), where + ": to_regions", "region", regions),
    )
    if not flow.from_clusters and not flow.from_regions:
        raise PolicyError(
            "%s: from_clusters and from_regions are both empty; allowed: at least one source"
            % where
        )
    return flow


def parse_flows(flows, clusters):
    """global_services_allowed_flows -> tuple of Flow; every flow checked, names unique."""
    if not isinstance(flows, list):
        raise PolicyError("allowed flows are %r; allowed: a list of flows" % (flows,))
    parsed = tuple(parse_flow(data, i, clusters) for i, data in enumerate(flows))
    seen = {}
    for index, flow in enumerate(parsed):
        if flow.name in seen:
            raise PolicyError(
                "allowed flow %s is invalid: name used by flows %d and %d; allowed: one flow per name"
                % (flow.name, seen[flow.name] + 1, index + 1)
            )
        seen[flow.name] = index
    return parsed


def isolation_policy(cluster, clusters, options):
    """The CiliumClusterwideNetworkPolicy of default-deny between regions."""
    own_region = sorted(c.name for c in clusters if c.region == cluster.region)
    return {
        "apiVersion": API_VERSION,
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": {"name": ISOLATION_NAME, "labels": dict(MANAGED_LABELS)},
        "spec": {
            "description": "edgemesh: default-deny between regions; region %s accepts only its"
            " own clusters and the allowed flows" % cluster.region,
            "endpointSelector": {
                "matchExpressions": [
                    {
                        "key": NAMESPACE_LABEL,
                        "operator": "NotIn",
                        "values": sorted(options.isolation_exempt_namespaces),
                    },
                    # NotIn alone also matches endpoints without the label (hosts, world).
                    {"key": NAMESPACE_LABEL, "operator": "Exists"},
                ]
            },
            "ingress": [
                {
                    "fromEndpoints": [
                        {
                            "matchExpressions": [
                                {"key": CLUSTER_LABEL, "operator": "In", "values": own_region}
                            ]
                        }
                    ]
                },
                {"fromEntities": sorted(options.isolation_entities)},
            ],
        },
    }


def flow_policy(flow, clusters):
    """The CiliumNetworkPolicy of one allowed flow."""
    sources = flow.sources(clusters)
    expressions = [{"key": CLUSTER_LABEL, "operator": "In", "values": sources}]
    if flow.from_namespace is None:
        expressions.append({"key": NAMESPACE_LABEL, "operator": "Exists"})
    else:
        expressions.append(
            {"key": NAMESPACE_LABEL, "operator": "In", "values": [flow.from_namespace]}
        )
    selector = {"matchExpressions": expressions}
    if flow.from_labels is not None:
        selector["matchLabels"] = dict(flow.from_labels)
    return {
        "apiVersion": API_VERSION,
        "kind": "CiliumNetworkPolicy",
        "metadata": {
            "name": FLOW_PREFIX + flow.name,
            "namespace": flow.to_namespace,
            "labels": dict(MANAGED_LABELS),
        },
        "spec": {
            "description": "edgemesh: allowed flow %s from %s" % (flow.name, ",".join(sources)),
            "endpointSelector": {"matchLabels": dict(flow.to_labels)},
            "ingress": [
                {
                    "fromEndpoints": [selector],
                    "toPorts": [{"ports": [port.to_dict() for port in flow.ports]}],
                }
            ],
        },
    }


def wanted_policies(clusters, cluster_name, flows, options):
    """{"Kind/namespace/name": manifest} of the policies wanted on ``cluster_name``."""
    plan = parse_clusters(clusters)
    names = [c.name for c in plan]
    me = next((c for c in plan if c.name == cluster_name), None)
    if me is None:
        raise PolicyError(
            "cluster %r is not in the plan; %sallowed: %s"
            % (cluster_name, _did_you_mean(cluster_name, names), ", ".join(names))
        )
    if isinstance(options, dict) and options.get("policies", True) is False:
        return {}
    if isinstance(options, dict) and not isinstance(options.get("policies", True), bool):
        raise PolicyError(
            "options: policies is %r; allowed: true or false" % (options["policies"],)
        )
    settings = PolicyOptions.from_dict(options)
    wanted = {}
    if settings.region_isolation:
        wanted["CiliumClusterwideNetworkPolicy//" + ISOLATION_NAME] = isolation_policy(
            me, plan, settings
        )
    for flow in parse_flows(flows, plan):
        if flow.applies_to(me, plan):
            key = "CiliumNetworkPolicy/%s/%s%s" % (flow.to_namespace, FLOW_PREFIX, flow.name)
            wanted[key] = flow_policy(flow, plan)
    return dict(sorted(wanted.items()))

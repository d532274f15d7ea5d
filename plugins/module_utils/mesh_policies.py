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
* ``CiliumClusterwideNetworkPolicy//edgemesh-baseline`` when ``options["baseline"]``
  (optional, default false): the same object on every cluster; pods outside the exempt
  namespaces accept ingress from the local cluster (entity ``cluster``: its pods, hosts,
  nodes) and the health and kube-apiserver entities, so everything cross-cluster that no
  other policy allows is denied (``baseline_policy``);
* ``CiliumNetworkPolicy/<to_namespace>/edgemesh-allow-<flow>`` for each allowed flow that
  targets this cluster (``to_clusters`` / ``to_regions``; every cluster when both are empty).

``exported_namespaces`` says which namespaces carry ``clustermesh.cilium.io/global`` when
the namespace export is ``listed`` (Cilium 1.20+), ``namespace_export`` what the role
patches and releases, ``policy_report`` what the policies would enforce (audit mode).

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
PORT_KEYS = ("port", "protocol", "end_port")
OPTION_KEYS = ("region_isolation", "isolation_exempt_namespaces", "isolation_entities")
# Optional: policies false = the role manages no policy on this cluster (it wants none, so
# those it applied before are deleted); the flows are not read then.
OPTIONAL_KEYS = ("policies", "baseline")
BASELINE_NAME = "edgemesh-baseline"
# The baseline admits the local cluster and these entities (Cilium docs, policy language,
# entities: "cluster" is every endpoint of the local cluster with its hosts and all nodes,
# remote nodes of the mesh included).
BASELINE_ENTITIES = ("cluster", "health", "host", "kube-apiserver", "remote-node")
NAMESPACE_EXPORT_MODES = ("all", "listed")
NAMESPACE_EXPORT_LABELS = {"global-services.edgemesh.io/exported": "true"}
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
    end_port: Optional[int] = None

    def to_dict(self):
        data = {"port": str(self.port), "protocol": self.protocol}
        if self.end_port is not None:
            data["endPort"] = self.end_port
        return data

    def text(self):
        ports = str(self.port) if self.end_port is None else "%d-%d" % (self.port, self.end_port)
        return "%s/%s" % (ports, self.protocol)


@dataclass(frozen=True)
class Flow:
    """One entry of global_services_allowed_flows, checked."""

    name: str
    to_namespace: str
    to_labels: dict
    ports: Tuple[FlowPort, ...]
    from_clusters: Tuple[str, ...] = ()
    from_regions: Tuple[str, ...] = ()
    from_namespace: Optional[Tuple[str, ...]] = None
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
    return FlowPort(port, protocol.upper(), _end_port(data, port, where))


def _end_port(data, port, where):
    """Optional end of a port range (CiliumNetworkPolicy endPort): above port, a port number."""
    if "end_port" not in data:
        return None
    end = data["end_port"]
    if isinstance(end, str) and end.isdigit():
        end = int(end)
    if not mesh_rules.is_policy_port(end) or end <= port:
        raise PolicyError(
            "%s: end_port %r is not allowed; allowed: a port number above port %d, at most %d"
            % (where, data["end_port"], port, mesh_rules.POLICY_PORT_RANGE[1])
        )
    return end


def _ports(value, where):
    if not isinstance(value, list) or not value:
        raise PolicyError(
            "%s: ports: %r is not allowed; allowed: a non-empty list" % (where, value)
        )
    return tuple(_port(p, "%s: ports[%d]" % (where, i)) for i, p in enumerate(value))


def _namespaces(value, where):
    """from_namespace: one namespace or a non-empty list of them -> sorted tuple."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise PolicyError(
            "%s: %r is not allowed; allowed: a namespace or a non-empty list of namespaces (%s)"
            % (where, value, DNS_LABEL_ALLOWED)
        )
    return tuple(sorted(set(_dns_label(v, where) for v in values)))


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
            _namespaces(data["from_namespace"], where + ": from_namespace")
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
            "endpointSelector": _exempt_selector(options),
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
            {"key": NAMESPACE_LABEL, "operator": "In", "values": list(flow.from_namespace)}
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


def _exempt_selector(options):
    """Pods outside the exempt namespaces (NotIn alone also matches hosts and world)."""
    return {
        "matchExpressions": [
            {
                "key": NAMESPACE_LABEL,
                "operator": "NotIn",
                "values": sorted(options.isolation_exempt_namespaces),
            },
            {"key": NAMESPACE_LABEL, "operator": "Exists"},
        ]
    }


def baseline_policy(options):
    """The CiliumClusterwideNetworkPolicy of default-deny for cross-cluster traffic only.

    The same object on every cluster: the entity ``cluster`` means the local cluster
    wherever the policy is applied, so no cluster name is written into it.
    """
    return {
        "apiVersion": API_VERSION,
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": {"name": BASELINE_NAME, "labels": dict(MANAGED_LABELS)},
        "spec": {
            "description": "edgemesh: baseline; intra-cluster, node, health and API server"
            " traffic stays allowed, cross-cluster traffic only by an allowed flow",
            "endpointSelector": _exempt_selector(options),
            "ingress": [{"fromEntities": list(BASELINE_ENTITIES)}],
        },
    }


def _policy_switch(options, key):
    value = options.get(key, key == "policies") if isinstance(options, dict) else True
    if not isinstance(value, bool):
        raise PolicyError("options: %s is %r; allowed: true or false" % (key, value))
    return value


def _target(plan, cluster_name):
    names = [c.name for c in plan]
    me = next((c for c in plan if c.name == cluster_name), None)
    if me is None:
        raise PolicyError(
            "cluster %r is not in the plan; %sallowed: %s"
            % (cluster_name, _did_you_mean(cluster_name, names), ", ".join(names))
        )
    return me


def wanted_policies(clusters, cluster_name, flows, options):
    """{"Kind/namespace/name": manifest} of the policies wanted on ``cluster_name``."""
    plan = parse_clusters(clusters)
    me = _target(plan, cluster_name)
    if not _policy_switch(options, "policies"):
        return {}
    settings = PolicyOptions.from_dict(options)
    wanted = {}
    if _policy_switch(options, "baseline"):
        wanted["CiliumClusterwideNetworkPolicy//" + BASELINE_NAME] = baseline_policy(settings)
    if settings.region_isolation:
        wanted["CiliumClusterwideNetworkPolicy//" + ISOLATION_NAME] = isolation_policy(
            me, plan, settings
        )
    for flow in parse_flows(flows, plan):
        if flow.applies_to(me, plan):
            key = "CiliumNetworkPolicy/%s/%s%s" % (flow.to_namespace, FLOW_PREFIX, flow.name)
            wanted[key] = flow_policy(flow, plan)
    return dict(sorted(wanted.items()))


def _export_minor(cilium_version):
    try:
        return mesh_rules.cilium_minor(cilium_version)
    except mesh_rules.RuleError as exc:
        raise PolicyError("namespace export: %s" % exc)


def exported_namespaces(clusters, cilium_version, mode, flows, services):
    """The namespaces that must carry clustermesh.cilium.io/global: "true", sorted.

    ``mode`` ``all`` (every namespace is global, the chart default): none. ``listed``
    (``clustermesh.defaultGlobalNamespace: false``, Cilium 1.20+ only): the namespaces of
    the global services and both ends of every allowed flow - the same on every cluster. A
    flow without ``from_namespace`` is refused then: its sources could be in any namespace,
    and pods of a namespace that is not global are not shared with the other clusters.
    """
    if mode not in NAMESPACE_EXPORT_MODES:
        raise PolicyError(
            "namespace export is %r; %sallowed: %s"
            % (mode, _did_you_mean(mode, NAMESPACE_EXPORT_MODES), ", ".join(NAMESPACE_EXPORT_MODES))
        )
    if mode == "all":
        return []
    minor = _export_minor(cilium_version)
    if minor not in mesh_rules.GLOBAL_NAMESPACE_MINORS:
        raise PolicyError(
            "namespace export listed needs Cilium %s (clustermesh.defaultGlobalNamespace and the"
            " namespace annotation %s); the plan's Cilium is %s (minor %s); allowed here: all"
            % (
                " or ".join(mesh_rules.GLOBAL_NAMESPACE_MINORS),
                mesh_rules.GLOBAL_NAMESPACE_ANNOTATION,
                cilium_version,
                minor,
            )
        )
    # global_services imports this module: import it here, not at the top.
    from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import global_services

    plan = parse_clusters(clusters)
    namespaces = set()
    for flow in parse_flows(flows, plan):
        if flow.from_namespace is None:
            raise PolicyError(
                "allowed flow %s is invalid: from_namespace is missing; allowed with namespace"
                " export listed: the source namespaces (only global namespaces are shared)"
                % flow.name
            )
        namespaces.update(flow.from_namespace)
        namespaces.add(flow.to_namespace)
    try:
        listed = global_services.parse_services(services, sorted(c.name for c in plan))
    except global_services.ServiceError as exc:
        raise PolicyError(str(exc))
    namespaces.update(s.namespace for s in listed)
    return sorted(namespaces)


def namespace_patch(namespace, export):
    """Merge patch of one Namespace: mark it global (export) or take the mark off."""
    value = "true" if export else None
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": namespace,
            "labels": {key: value for key in NAMESPACE_EXPORT_LABELS},
            "annotations": {mesh_rules.GLOBAL_NAMESPACE_ANNOTATION: value},
        },
    }


def _labelled_namespaces(found):
    """k8s_info of the Namespaces carrying NAMESPACE_EXPORT_LABELS -> their names."""
    resources = found.get("resources") if isinstance(found, dict) else None
    if not isinstance(resources, list):
        raise PolicyError(
            "found namespaces are %r; allowed: the registered k8s_info of Namespaces" % (found,)
        )
    names = []
    for resource in resources:
        metadata = resource.get("metadata") if isinstance(resource, dict) else None
        labels = (metadata or {}).get("labels") or {}
        if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
            raise PolicyError("found namespace %r has no metadata.name" % (resource,))
        if all(labels.get(k) == v for k, v in NAMESPACE_EXPORT_LABELS.items()):
            names.append(metadata["name"])
    return names


def namespace_export(clusters, cilium_version, mode, flows, services, found=None):
    """{"apply": [patch], "release": [patch]}: Namespaces to mark global, and those the role
    marked before that are no longer listed (``found``: k8s_info of the labelled ones)."""
    wanted = exported_namespaces(clusters, cilium_version, mode, flows, services)
    before = _labelled_namespaces(found) if found is not None else []
    return {
        "apply": [namespace_patch(ns, True) for ns in wanted],
        "release": [namespace_patch(ns, False) for ns in sorted(set(before) - set(wanted))],
    }


def _selector_text(selector):
    parts = ["%s=%s" % item for item in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        values = ",".join(expr.get("values") or [])
        parts.append(
            "%s %s%s" % (expr["key"], expr["operator"], " [%s]" % values if values else "")
        )
    return " and ".join(parts) or "every endpoint"


def _rule_text(rule):
    sources = ["entities %s" % ",".join(rule["fromEntities"])] if "fromEntities" in rule else []
    sources += ["(%s)" % _selector_text(s) for s in rule.get("fromEndpoints") or []]
    ports = [
        "%s%s/%s" % (p["port"], "-%d" % p["endPort"] if "endPort" in p else "", p["protocol"])
        for entry in rule.get("toPorts") or []
        for p in entry.get("ports") or []
    ]
    return " or ".join(sources) + (" on " + ", ".join(ports) if ports else " on every port")


def policy_report(wanted, cleanup=None):
    """Lines saying what the wanted policies would enforce and what would be deleted.

    For the audit mode (the role applies and deletes nothing): every selected endpoint
    accepts ingress only from what one of its policies allows.
    """
    if not isinstance(wanted, dict):
        raise PolicyError(
            "wanted policies are %r; allowed: what wanted_policies returns" % (wanted,)
        )
    lines = []
    for key, manifest in sorted(wanted.items()):
        spec = manifest.get("spec") or {}
        lines.append(
            "would apply %s: endpoints (%s) accept ingress from %s"
            % (
                key,
                _selector_text(spec.get("endpointSelector") or {}),
                "; or from ".join(_rule_text(r) for r in spec.get("ingress") or []),
            )
        )
    for item in (cleanup or {}).get("delete", []):
        lines.append(
            "would delete %s/%s/%s (no longer wanted)"
            % (item["kind"], item["namespace"], item["name"])
        )
    return lines or ["no policy wanted and none to delete"]

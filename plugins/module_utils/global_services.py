# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the global_services role puts on, and takes off, the Services of one cluster.

Pure Python, no Ansible import (filters ``edgemesh.cluster_mesh.global_services`` and
``edgemesh.cluster_mesh.managed_cleanup`` are thin wrappers).

``wanted_services(services, cluster_name, clusters)`` checks every entry of
``global_services_services`` and returns ``{"Service/<namespace>/<name>": patch}`` for the
Services this cluster serves: the three Cluster Mesh annotations and the label
``SERVICE_LABEL`` that marks the Service as annotated by this role. The Service belongs to
its owner (often Helm, which holds ``app.kubernetes.io/managed-by``), so the role marks it
with a label of its own instead.

``cleanup(found, wanted)`` decides what happens to what the role manages but no longer
wants (``found``: the objects listed by ``MANAGED_LOOKUPS``): a policy the role created is
deleted; a Service keeps existing and loses the annotations and the label (a merge patch
with null values). An object that does not carry the role's label is never touched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
from dataclasses import dataclass
from typing import Tuple

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_policies import (
    API_VERSION as POLICY_API_VERSION,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_policies import (
    MANAGED_LABELS as POLICY_LABELS,
)

ANNOTATION_GLOBAL = "service.cilium.io/global"
ANNOTATION_SHARED = "service.cilium.io/shared"
ANNOTATION_AFFINITY = "service.cilium.io/affinity"
ANNOTATIONS = (ANNOTATION_GLOBAL, ANNOTATION_SHARED, ANNOTATION_AFFINITY)
SERVICE_LABEL = {"global-services.edgemesh.io/managed": "true"}
SERVICE_KEYS = ("name", "namespace", "shared", "affinity", "clusters")


def _selector(labels):
    return ",".join("%s=%s" % item for item in sorted(labels.items()))


# What the role lists to find the objects it manages (k8s_info, every namespace).
MANAGED_LOOKUPS = (
    {"api_version": "v1", "kind": "Service", "label_selector": _selector(SERVICE_LABEL)},
    {
        "api_version": POLICY_API_VERSION,
        "kind": "CiliumNetworkPolicy",
        "label_selector": _selector(POLICY_LABELS),
    },
    {
        "api_version": POLICY_API_VERSION,
        "kind": "CiliumClusterwideNetworkPolicy",
        "label_selector": _selector(POLICY_LABELS),
    },
)
_OWN_LABELS = {"Service": SERVICE_LABEL}


class ServiceError(ValueError):
    """A global service entry or a listed object that is not what the role expects."""


@dataclass(frozen=True)
class GlobalService:
    name: str
    namespace: str
    shared: bool
    affinity: str
    clusters: Tuple[str, ...]

    @property
    def key(self):
        return "Service/%s/%s" % (self.namespace, self.name)

    def serves(self, cluster_name):
        return not self.clusters or cluster_name in self.clusters

    def patch(self):
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": dict(SERVICE_LABEL),
                "annotations": {
                    ANNOTATION_GLOBAL: "true",
                    ANNOTATION_SHARED: "true" if self.shared else "false",
                    ANNOTATION_AFFINITY: self.affinity,
                },
            },
        }


def _where(data, index):
    if isinstance(data, dict) and isinstance(data.get("name"), str):
        return "global service %s/%s" % (data.get("namespace", "default"), data["name"])
    return "global service #%d" % (index + 1)


def _dns_label(data, key, default, where):
    value = data.get(key, default)
    if not isinstance(value, str) or not mesh_rules.is_dns_label(value):
        raise ServiceError(
            "%s: %s %r is not allowed; allowed: a DNS label (RFC 1123, at most %d characters)"
            % (where, key, value, mesh_rules.DNS_LABEL_MAX)
        )
    return value


def _clusters(value, names, where):
    if not isinstance(value, list):
        raise ServiceError(
            "%s: clusters %r is not allowed; allowed: a list of cluster names" % (where, value)
        )
    for item in value:
        if item not in names:
            close = difflib.get_close_matches(str(item), names, n=1, cutoff=0.6)
            hint = "did you mean %r? " % close[0] if close else ""
            raise ServiceError(
                "%s: cluster %r is not in the plan; %sallowed: %s"
                % (where, item, hint, ", ".join(names))
            )
    return tuple(value)


def parse_service(data, index, names):
    """One entry of global_services_services (index counts from 0) -> GlobalService."""
    where = _where(data, index)
    if not isinstance(data, dict):
        raise ServiceError("%s: %r is not a mapping of %s" % (where, data, ", ".join(SERVICE_KEYS)))
    for key in sorted(set(data) - set(SERVICE_KEYS), key=str):
        raise ServiceError(
            "%s: unknown key %r; allowed: %s" % (where, key, ", ".join(SERVICE_KEYS))
        )
    if "name" not in data:
        raise ServiceError("%s: name is missing" % where)
    affinity = data.get("affinity", "none")
    if affinity not in mesh_rules.GLOBAL_SERVICE_AFFINITIES:
        raise ServiceError(
            "%s: affinity %r is not allowed; allowed: %s"
            % (where, affinity, ", ".join(mesh_rules.GLOBAL_SERVICE_AFFINITIES))
        )
    shared = data.get("shared", True)
    if not isinstance(shared, bool):
        raise ServiceError("%s: shared %r is not allowed; allowed: true or false" % (where, shared))
    return GlobalService(
        name=_dns_label(data, "name", None, where),
        namespace=_dns_label(data, "namespace", "default", where),
        shared=shared,
        affinity=affinity,
        clusters=_clusters(data.get("clusters", []), names, where),
    )


def parse_services(services, names):
    """global_services_services -> tuple of GlobalService; each Service listed once."""
    if not isinstance(services, list):
        raise ServiceError("global services are %r; allowed: a list of services" % (services,))
    parsed = tuple(parse_service(data, i, names) for i, data in enumerate(services))
    seen = set()
    for service in parsed:
        if service.key in seen:
            raise ServiceError(
                "global service %s/%s is listed twice; allowed: one entry per Service"
                % (service.namespace, service.name)
            )
        seen.add(service.key)
    return parsed


def _plan_names(clusters):
    names = [c.get("name") for c in clusters] if isinstance(clusters, list) else []
    if not names or not all(isinstance(n, str) for n in names):
        raise ServiceError("the plan has no clusters (%r); run playbooks/plan.yml" % (clusters,))
    return sorted(names)


def wanted_services(services, cluster_name, clusters):
    """{"Service/<namespace>/<name>": merge patch} of the Services ``cluster_name`` serves."""
    names = _plan_names(clusters)
    if cluster_name not in names:
        raise ServiceError(
            "cluster %r is not in the plan; allowed: %s" % (cluster_name, ", ".join(names))
        )
    wanted = {s.key: s.patch() for s in parse_services(services, names) if s.serves(cluster_name)}
    return dict(sorted(wanted.items()))


def resource_key(resource, where):
    """A listed object -> ("Kind/<namespace>/<name>", kind, namespace, name)."""
    metadata = resource.get("metadata") if isinstance(resource, dict) else None
    kind = resource.get("kind") if isinstance(resource, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(kind, str) or not isinstance(name, str):
        raise ServiceError("%s: %r has no kind and metadata.name" % (where, resource))
    namespace = metadata.get("namespace") or ""
    return "%s/%s/%s" % (kind, namespace, name), kind, namespace, name


def _carries(resource, labels):
    have = (resource.get("metadata") or {}).get("labels") or {}
    return all(have.get(key) == value for key, value in labels.items())


def _found_resources(found):
    """The registered loop of k8s_info over MANAGED_LOOKUPS -> [(where, resource)]."""
    results = found.get("results") if isinstance(found, dict) else None
    if not isinstance(results, list):
        raise ServiceError(
            "found objects are %r; allowed: the registered loop of k8s_info over the lookups"
            % (found,)
        )
    listed = []
    for index, result in enumerate(results):
        resources = result.get("resources", []) if isinstance(result, dict) else None
        if not isinstance(resources, list):
            raise ServiceError("lookup %d: resources %r is not a list" % (index, resources))
        listed.extend(("lookup %d" % index, resource) for resource in resources)
    return listed


def _release_patch(kind, namespace, name):
    """Merge patch that takes the role's annotations and label off a Service."""
    return {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {key: None for key in SERVICE_LABEL},
            "annotations": {key: None for key in ANNOTATIONS},
        },
    }


def cleanup(found, wanted):
    """What to do with the managed objects no longer wanted.

    Returns ``{"delete": [{api_version, kind, namespace, name}], "release": [patch]}``,
    each sorted by key; objects in ``wanted`` (keys as wanted_services/wanted_policies
    return them) or without the role's label are left alone.
    """
    if not isinstance(wanted, dict):
        raise ServiceError("wanted objects are %r; allowed: a mapping of keys" % (wanted,))
    delete, release = {}, {}
    for where, resource in _found_resources(found):
        key, kind, namespace, name = resource_key(resource, where)
        labels = _OWN_LABELS.get(kind, POLICY_LABELS)
        if key in wanted or not _carries(resource, labels):
            continue
        if kind == "Service":
            release[key] = _release_patch(kind, namespace, name)
        else:
            api_version = resource.get("apiVersion") or POLICY_API_VERSION
            delete[key] = {
                "api_version": api_version,
                "kind": kind,
                "namespace": namespace,
                "name": name,
            }
    return {
        "delete": [delete[k] for k in sorted(delete)],
        "release": [release[k] for k in sorted(release)],
    }

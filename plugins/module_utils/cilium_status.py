# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the verify role reads a cluster: ``cilium-dbg status`` and the registered API answers.

Pure Python, no Ansible import (the filter ``edgemesh.cluster_mesh.verify_checks`` is a thin
wrapper; ``verify_report`` prints the clusters x checks table of ``playbooks/verify.yml``).

``parse_status(text)`` reads the three lines of ``cilium-dbg status`` the checks need into an
``AgentStatus``. The agent prints them with ``FormatStatusResponse`` in Cilium's
``pkg/client/client.go`` (fields separated by tabs, aligned by a tabwriter):

* ``ClusterMesh:\\t<ready>/<total> remote clusters ready, <n> global-services`` up to 1.18,
  ``ClusterMesh:\\t<ready>/<total> remote clusters ready`` from 1.19 (the line is absent
  when the Cluster Mesh is off; before 1.16 it said ``clusters ready`` - not supported);
* ``Encryption:\\t<Disabled|IPsec|Wireguard|Ztunnel>\\t[...]``;
* ``KubeProxyReplacement:\\t<True|False>\\t[devices]``.

``checks_from_registered(registered, expectations)`` turns what ``roles/verify/tasks/
service.yml`` registered into ``{check: {"ok": bool, "detail": str}}`` for the checks in
``CHECKS``; it never raises for a broken cluster (a failed call is a failed cell), only
``StatusInputError`` for input that is not what those tasks register.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from dataclasses import dataclass
from typing import Optional, Tuple

# The checks, in the order of the verify table's columns.
CHECKS = (
    "agents",
    "operator",
    "clustermesh-apiserver",
    "clustermesh",
    "encryption",
    "kube-proxy-replacement",
    "local-affinity",
)
API_FAILED = "API call failed (unreachable or forbidden)"

_CLUSTERMESH = re.compile(r"^[ \t]*ClusterMesh:[ \t]+(\d+)/(\d+) remote clusters ready", re.M)
_ENCRYPTION = re.compile(r"^[ \t]*Encryption:[ \t]+(\S+)", re.M)
_KUBE_PROXY_REPLACEMENT = re.compile(r"^[ \t]*KubeProxyReplacement:[ \t]+(\S+)", re.M)


class StatusInputError(ValueError):
    """The registered results are not of the shape roles/verify/tasks/service.yml registers."""


@dataclass(frozen=True)
class AgentStatus:
    """What one ``cilium-dbg status`` says about the mesh; empty fields: line absent."""

    remote_clusters_ready: Optional[int] = None
    remote_clusters_total: Optional[int] = None
    encryption: str = ""
    kube_proxy_replacement: str = ""

    @property
    def has_clustermesh(self):
        return self.remote_clusters_total is not None


def parse_status(text):
    """``cilium-dbg status`` output (str) -> AgentStatus."""
    if not isinstance(text, str):
        raise StatusInputError("cilium-dbg status output is %r; allowed: text" % (text,))
    mesh = _CLUSTERMESH.search(text)
    encryption = _ENCRYPTION.search(text)
    kpr = _KUBE_PROXY_REPLACEMENT.search(text)
    return AgentStatus(
        remote_clusters_ready=int(mesh.group(1)) if mesh else None,
        remote_clusters_total=int(mesh.group(2)) if mesh else None,
        encryption=encryption.group(1) if encryption else "",
        kube_proxy_replacement=kpr.group(1) if kpr else "",
    )


@dataclass(frozen=True)
class Lookup:
    """One registered ``k8s_info`` answer (tasks run with ``failed_when: false``)."""

    answered: bool  # the API answered (the result carries api_found)
    resources: Tuple[dict, ...] = ()

    @property
    def first(self):
        return self.resources[0] if self.resources else {}

    @classmethod
    def from_result(cls, result, where):
        if result is None:
            return cls(False)
        if not isinstance(result, dict):
            raise StatusInputError("%s: %r is not a registered k8s_info result" % (where, result))
        resources = result.get("resources") or []
        if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
            raise StatusInputError(
                "%s: resources is %r; allowed: a list of objects" % (where, resources)
            )
        return cls("api_found" in result, tuple(resources))


@dataclass(frozen=True)
class LocalService:
    """A global service with affinity local and its EndpointSlices."""

    namespace: str
    name: str
    slices: Lookup

    def has_ready_endpoint(self):
        for piece in self.slices.resources:
            for endpoint in piece.get("endpoints") or []:
                conditions = endpoint.get("conditions") if isinstance(endpoint, dict) else None
                if isinstance(conditions, dict) and conditions.get("ready"):
                    return True
        return False


@dataclass(frozen=True)
class Expectations:
    remote_clusters: int
    encryption: bool = True
    kube_proxy_replacement: bool = True


@dataclass(frozen=True)
class Registered:
    """What roles/verify/tasks/service.yml registered, typed."""

    daemonset: Lookup
    operator: Lookup
    clustermesh_apiserver: Lookup
    agents: Lookup
    status_text: str
    local_services: Tuple[LocalService, ...]

    @property
    def agent_name(self):
        return str((self.agents.first.get("metadata") or {}).get("name", "?"))

    @classmethod
    def from_dict(cls, registered):
        if not isinstance(registered, dict):
            raise StatusInputError("registered results are %r; allowed: a mapping" % (registered,))
        unknown = sorted(set(registered) - {"workloads", "agents", "status", "local_services"})
        if unknown:
            raise StatusInputError(
                "unknown key %s; allowed: workloads, agents, status, local_services" % unknown[0]
            )
        workloads = _loop_results(registered.get("workloads"), "workloads")
        status = registered.get("status") or {}
        if not isinstance(status, dict):
            raise StatusInputError("status: %r is not a registered k8s_exec result" % (status,))
        return cls(
            daemonset=Lookup.from_result(_nth(workloads, 0), "workloads[0] (DaemonSet cilium)"),
            operator=Lookup.from_result(_nth(workloads, 1), "workloads[1] (cilium-operator)"),
            clustermesh_apiserver=Lookup.from_result(
                _nth(workloads, 2), "workloads[2] (clustermesh-apiserver)"
            ),
            agents=Lookup.from_result(registered.get("agents"), "agents"),
            status_text=str(status.get("stdout") or ""),
            local_services=tuple(
                _local_service(result, i)
                for i, result in enumerate(
                    _loop_results(registered.get("local_services"), "local_services")
                )
            ),
        )


def _loop_results(value, where):
    if value is None:
        return []
    results = value.get("results", []) if isinstance(value, dict) else None
    if not isinstance(results, list):
        raise StatusInputError(
            "%s: %r is not the registered result of a looped task (a mapping with results)"
            % (where, value)
        )
    return results


def _nth(items, index):
    return items[index] if index < len(items) else None


def _local_service(result, index):
    where = "local_services[%d]" % index
    item = result.get("item") if isinstance(result, dict) else None
    if not isinstance(item, dict):
        raise StatusInputError("%s: %r carries no item (the service looped over)" % (where, result))
    return LocalService(
        namespace=str(item.get("namespace", "default")),
        name=str(item.get("name", "?")),
        slices=Lookup.from_result(result, where),
    )


def _count(value, default):
    return default if value is None else value


def _daemonset_check(lookup):
    ds = lookup.first
    status = ds.get("status") or {}
    desired = _count(status.get("desiredNumberScheduled"), 0)
    ready = _count(status.get("numberReady"), 0)
    if not ds:
        return _cell(False, "DaemonSet cilium not found" if lookup.answered else API_FAILED)
    return _cell(desired > 0 and ready == desired, "%s/%s ready" % (ready, desired))


def _deployment_check(lookup):
    deployment = lookup.first
    want = _count((deployment.get("spec") or {}).get("replicas"), 1)
    have = _count((deployment.get("status") or {}).get("readyReplicas"), 0)
    if not deployment:
        return _cell(False, "Deployment not found" if lookup.answered else API_FAILED)
    return _cell(have == want, "%s/%s ready" % (have, want))


def _no_status_detail(registered):
    if registered.agents.resources:
        why = "exec in %s failed" % registered.agent_name
    else:
        why = "no running agent" if registered.agents.answered else "API call failed"
    return "no cilium-dbg status: " + why


def _status_checks(registered, expect):
    """The three cells read from cilium-dbg status."""
    status = parse_status(registered.status_text)
    missing = _no_status_detail(registered) if not registered.status_text else None
    want = expect.remote_clusters
    if status.has_clustermesh:
        ready, total = status.remote_clusters_ready, status.remote_clusters_total
        mesh = _cell(
            ready == want and total == want,
            "%d/%d remote ready, want %d/%d" % (ready, total, want, want),
        )
    else:
        mesh = _cell(False, missing or "no ClusterMesh line")
    encryption = _cell(
        status.encryption.lower() == "wireguard" if expect.encryption else True,
        status.encryption or missing or "no Encryption line",
    )
    kpr = _cell(
        status.kube_proxy_replacement == "True" if expect.kube_proxy_replacement else True,
        status.kube_proxy_replacement or missing or "no KubeProxyReplacement line",
    )
    return {"clustermesh": mesh, "encryption": encryption, "kube-proxy-replacement": kpr}


def _local_affinity_check(services):
    bad = ["%s/%s" % (s.namespace, s.name) for s in services if not s.has_ready_endpoint()]
    if bad:
        return _cell(False, "no ready local endpoints: " + ", ".join(bad))
    return _cell(True, "%d services with local endpoints" % len(services))


def _cell(ok, detail):
    return {"ok": bool(ok), "detail": detail}


def evaluate(registered, expect):
    """Registered + Expectations -> {check: {"ok", "detail"}} in the order of CHECKS."""
    checks = {
        "agents": _daemonset_check(registered.daemonset),
        "operator": _deployment_check(registered.operator),
        "clustermesh-apiserver": _deployment_check(registered.clustermesh_apiserver),
    }
    checks.update(_status_checks(registered, expect))
    checks["local-affinity"] = _local_affinity_check(registered.local_services)
    return checks


def checks_from_registered(registered, expectations):
    """The mapping the verify role registers (see Registered.from_dict) -> the checks."""
    return evaluate(Registered.from_dict(registered), expectations)


def report(names, checks_per_cluster):
    """The verify table (lines) and failures of clusters x CHECKS.

    ``checks_per_cluster[i]`` are the checks of ``names[i]`` (missing or empty: the cluster
    was not checked). Returns ``{"table": [line, ...], "failures": ["name: check: detail"]}``.
    """
    width = max([len("cluster")] + [len(name) for name in names])
    table = ["cluster".ljust(width) + " | " + " | ".join(CHECKS)]
    failures = []
    for index, name in enumerate(names):
        checks = checks_per_cluster[index] if index < len(checks_per_cluster) else {}
        checks = checks or {}
        cells = []
        for check in CHECKS:
            cell = ("ok" if checks[check]["ok"] else "FAIL") if check in checks else "-"
            cells.append(" %s |" % cell.ljust(len(check)))
        table.append(name.ljust(width) + " |" + "".join(cells))
        if not checks:
            failures.append("%s: not checked (see the errors above)" % name)
        failures.extend(
            "%s: %s: %s" % (name, check, checks[check]["detail"])
            for check in CHECKS
            if check in checks and not checks[check]["ok"]
        )
    return {"table": table, "failures": failures}

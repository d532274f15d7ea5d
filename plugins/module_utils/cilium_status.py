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
# One remote cluster under the ClusterMesh line (FormatStatusResponseRemoteClusters):
# "   <name>: ready|not ready, <n> nodes, ..." then "   └  <kvstore status>" lines.
_REMOTE = re.compile(r"^[ \t]+([^\s:]+): (ready|not ready), \d+ nodes,")
_REMOTE_DETAIL = re.compile(r"^[ \t]+\u2514[ \t]+(.*\S)")
DETAIL_MAX = 160


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
class RemoteCluster:
    """One remote cluster as an agent lists it (all of them with ``--all-clusters``)."""

    name: str
    ready: bool
    detail: str = ""  # the first line under it: the state of the connection to its kvstore


def parse_remotes(text):
    """``cilium-dbg status [--all-clusters]`` output -> tuple of RemoteCluster, in order."""
    if not isinstance(text, str):
        raise StatusInputError("cilium-dbg status output is %r; allowed: text" % (text,))
    lines = text.splitlines()
    remotes = []
    for index, line in enumerate(lines):
        match = _REMOTE.match(line)
        if not match:
            continue
        following = _REMOTE_DETAIL.match(lines[index + 1]) if index + 1 < len(lines) else None
        detail = following.group(1)[:DETAIL_MAX] if following else ""
        remotes.append(RemoteCluster(match.group(1), match.group(2) == "ready", detail))
    return tuple(remotes)


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
    peers: Tuple[str, ...] = ()  # the plan's peers: names what is missing or not ready
    waited: int = 0  # seconds the role waited (verify_wait_timeout); said in failed cells


@dataclass(frozen=True)
class AgentAnswer:
    """One agent's ``cilium-dbg status`` (text empty: the exec failed)."""

    agent: str
    text: str


@dataclass(frozen=True)
class Registered:
    """What roles/verify/tasks/service.yml registered, typed."""

    daemonset: Lookup
    operator: Lookup
    clustermesh_apiserver: Lookup
    agents: Lookup
    statuses: Tuple[AgentAnswer, ...]
    local_services: Tuple[LocalService, ...]

    @property
    def status_text(self):
        return self.statuses[0].text if self.statuses else ""

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
        agents = Lookup.from_result(registered.get("agents"), "agents")
        return cls(
            daemonset=Lookup.from_result(_nth(workloads, 0), "workloads[0] (DaemonSet cilium)"),
            operator=Lookup.from_result(_nth(workloads, 1), "workloads[1] (cilium-operator)"),
            clustermesh_apiserver=Lookup.from_result(
                _nth(workloads, 2), "workloads[2] (clustermesh-apiserver)"
            ),
            agents=agents,
            statuses=_answers(registered.get("status"), agents),
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


def _answers(status, agents):
    """One k8s_exec result, or the loop of them over the agents -> AgentAnswers."""
    status = status or {}
    if not isinstance(status, dict):
        raise StatusInputError("status: %r is not a registered k8s_exec result" % (status,))
    first = str((agents.first.get("metadata") or {}).get("name", "?"))
    if "results" not in status:
        return (AgentAnswer(first, str(status.get("stdout") or "")),)
    answers = []
    for index, result in enumerate(_loop_results(status, "status")):
        if not isinstance(result, dict):
            raise StatusInputError(
                "status[%d]: %r is not a registered k8s_exec result" % (index, result)
            )
        agent = result.get("item", first)
        agent = agent.get("metadata", {}).get("name", "?") if isinstance(agent, dict) else agent
        answers.append(AgentAnswer(str(agent), str(result.get("stdout") or "")))
    return tuple(answers)


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


def _no_status_detail(registered, agent):
    if registered.agents.resources:
        why = "exec in %s failed" % agent
    else:
        why = "no running agent" if registered.agents.answered else "API call failed"
    return "no cilium-dbg status: " + why


def remote_problems(remotes, total, peers):
    """What is wrong with the listed remote clusters, one phrase each.

    Not-ready remotes are named with their kvstore line; when the agent listed every remote
    (``--all-clusters``: as many as its total) and ``peers`` is given, peers it does not
    list are missing and listed clusters that are not peers are not in the plan.
    """
    problems = [
        "%s not ready%s" % (r.name, " (%s)" % r.detail if r.detail else "")
        for r in remotes
        if not r.ready
    ]
    if peers and remotes and len(remotes) == total:
        listed = set(r.name for r in remotes)
        problems.extend("%s not connected" % name for name in sorted(set(peers) - listed))
        problems.extend("%s not in the plan" % name for name in sorted(listed - set(peers)))
    return problems


def _mesh_cell(text, expect, missing):
    status = parse_status(text)
    if not status.has_clustermesh:
        return _cell(False, missing or "no ClusterMesh line")
    ready, total = status.remote_clusters_ready, status.remote_clusters_total
    want = expect.remote_clusters
    problems = remote_problems(parse_remotes(text), total, expect.peers)
    detail = "; ".join(["%d/%d remote ready, want %d/%d" % (ready, total, want, want)] + problems)
    return _cell(ready == want and total == want and not problems, detail)


def agent_checks(answer, expect, missing=None):
    """The three cells one agent's cilium-dbg status gives (missing: why there is none)."""
    status = parse_status(answer.text)
    missing = (missing or "no cilium-dbg status") if not answer.text else None
    encryption = _cell(
        status.encryption.lower() == "wireguard" if expect.encryption else True,
        status.encryption or missing or "no Encryption line",
    )
    kpr = _cell(
        status.kube_proxy_replacement == "True" if expect.kube_proxy_replacement else True,
        status.kube_proxy_replacement or missing or "no KubeProxyReplacement line",
    )
    return {
        "clustermesh": _mesh_cell(answer.text, expect, missing),
        "encryption": encryption,
        "kube-proxy-replacement": kpr,
    }


def _merge(cells, agents):
    """One cell over every agent: one agent's detail, or each failing agent named."""
    if len(cells) == 1:
        return cells[0]
    bad = ["%s: %s" % (a, c["detail"]) for a, c in zip(agents, cells) if not c["ok"]]
    if not bad:
        return _cell(True, "%s (all %d agents)" % (cells[0]["detail"], len(cells)))
    shown = bad[:3] + (["and %d more agents" % (len(bad) - 3)] if len(bad) > 3 else [])
    return _cell(False, "%d/%d agents: %s" % (len(bad), len(cells), "; ".join(shown)))


def _status_checks(registered, expect):
    """The three cells read from cilium-dbg status, over every agent asked."""
    answers = registered.statuses or (AgentAnswer(registered.agent_name, ""),)
    per_agent = [
        agent_checks(answer, expect, _no_status_detail(registered, answer.agent))
        for answer in answers
    ]
    agents = [answer.agent for answer in answers]
    return {
        check: _merge([cells[check] for cells in per_agent], agents)
        for check in ("clustermesh", "encryption", "kube-proxy-replacement")
    }


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
    if expect.waited:
        for cell in checks.values():
            if not cell["ok"]:
                cell["detail"] += " (still so after waiting %d s)" % expect.waited
    return checks


WAITS = ("workload", "agents", "status", "endpoints")


def ready(what, result, expect):
    """Whether one answer a wait task registered shows what it waits for (``until``).

    ``what``: ``workload`` (k8s_info of the DaemonSet or a Deployment, read by the object's
    ``kind``), ``agents`` (k8s_info of the running agent pods), ``status`` (k8s_exec of
    ``cilium-dbg status`` in one agent) or ``endpoints`` (k8s_info of a service's
    EndpointSlices). A failed call is not ready; the wait tries again.
    """
    if what not in WAITS:
        raise StatusInputError("wait %r is unknown; allowed: %s" % (what, ", ".join(WAITS)))
    if not isinstance(result, dict):
        raise StatusInputError("%s: %r is not a registered result" % (what, result))
    if what == "status":
        cells = agent_checks(AgentAnswer("?", str(result.get("stdout") or "")), expect)
        return all(cell["ok"] for cell in cells.values())
    lookup = Lookup.from_result(result, what)
    if what == "agents":
        return bool(lookup.resources)
    if what == "endpoints":
        return LocalService("", "", lookup).has_ready_endpoint()
    if not lookup.resources:
        return False
    kind = lookup.first.get("kind")
    if kind not in ("DaemonSet", "Deployment"):
        raise StatusInputError("workload: kind %r; allowed: DaemonSet, Deployment" % (kind,))
    check = _daemonset_check if kind == "DaemonSet" else _deployment_check
    return check(lookup)["ok"]


def retries_left(started, now, timeout, delay):
    """Retries an ``until`` task may still make so that the whole wait ends by
    ``started + timeout`` (seconds; 0 = one try, no wait)."""
    for name, value in (("started", started), ("now", now), ("timeout", timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise StatusInputError("%s is %r; allowed: seconds, 0 or more" % (name, value))
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay <= 0:
        raise StatusInputError("delay is %r; allowed: seconds, more than 0" % (delay,))
    return max(0, int((started + timeout - now) // delay))


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

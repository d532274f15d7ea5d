# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data-plane probe of verify.yml: traffic, not status (issue 16 #1).

``objects(plan, cluster, options)`` builds every object the probe applies to one cluster,
the same shape in every cluster (only the echo Deployment's cluster label and the client
Job differ):

* a Namespace ``edgemesh-probe`` annotated ``clustermesh.cilium.io/global: "true"``, so it
  stays global when Cilium 1.20's ``clustermesh.defaultGlobalNamespace`` is false (the
  annotation and its meaning: the 1.20.0 chart's values.yaml);
* an echo Deployment ``echo-<cluster>`` (agnhost ``netexec``: ``/hostname`` answers the pod
  name, which starts with ``echo-<cluster>-``);
* a global Service ``echo-global`` (``service.cilium.io/global: "true"``, affinity
  ``local``): every cluster must be answered by its own echo pod;
* per cluster Y a global Service ``echo-only-<Y>`` whose selector also asks for the label
  ``edgemesh.io/probe-cluster: Y``: only Y's pod matches, so in every other cluster the
  Service has remote backends only - a call to it must cross the mesh to Y;
* a client Job ``probe-<cluster>`` that calls ``echo-global`` and each ``echo-only-<Y>``
  (in parallel; curl retries errors 5 times, 2 s apart, while the mesh syncs the new
  backends) and prints one line per call:
  ``edgemesh-probe service=<svc> answer=<hostname or -> seconds=<t> code=<curl exit>``.

``parse_log`` reads those lines back; ``report(plan, logs)`` makes the cluster x cluster
table and the failures (which pair, via which service, what answered instead).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

NAMESPACE = "edgemesh-probe"
MANAGED_LABELS = {"app.kubernetes.io/managed-by": "edgemesh-verify"}
APP_LABEL = {"app.kubernetes.io/name": "edgemesh-echo"}
CLUSTER_LABEL = "edgemesh.io/probe-cluster"
GLOBAL_SERVICE = "echo-global"
ONLY_PREFIX = "echo-only-"
PORT = 8080
LINE_PREFIX = "edgemesh-probe"
DEFAULT_OPTIONS = {
    "echo_image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
    "client_image": "docker.io/curlimages/curl:8.17.0",
    "timeout": 5,  # seconds per call
    "deadline": 300,  # seconds the client Job may run
    "namespace": NAMESPACE,
}
_LINE_RE = re.compile(
    r"^%s service=(\S+) answer=(\S+) seconds=([0-9.]+) code=(\d+)$" % re.escape(LINE_PREFIX)
)


class ProbeError(ValueError):
    """Bad plan, options or log; the message names what."""


def options(given=None):
    """DEFAULT_OPTIONS updated with ``given`` (unknown keys refused)."""
    result = dict(DEFAULT_OPTIONS)
    for key, value in (given or {}).items():
        if key not in DEFAULT_OPTIONS:
            raise ProbeError(
                "probe option %r is unknown; allowed: %s" % (key, ", ".join(sorted(result)))
            )
        result[key] = value
    for key in ("timeout", "deadline"):
        if not isinstance(result[key], int) or isinstance(result[key], bool) or result[key] < 1:
            raise ProbeError("probe option %s is %r; allowed: seconds >= 1" % (key, result[key]))
    return result


def cluster_names(plan):
    clusters = plan.get("clusters") if isinstance(plan, dict) else None
    if not isinstance(clusters, list) or not clusters:
        raise ProbeError("the plan has no clusters (run playbooks/plan.yml)")
    return [str(c.get("name")) for c in clusters]


def _meta(name, namespace=None, labels=None, annotations=None):
    meta = {"name": name, "labels": dict(MANAGED_LABELS, **(labels or {}))}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = annotations
    return meta


def _namespace(opts):
    annotations = {"clustermesh.cilium.io/global": "true"}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _meta(opts["namespace"], annotations=annotations),
    }


_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _echo(cluster, opts):
    labels = dict(APP_LABEL, **{CLUSTER_LABEL: cluster})
    container = {
        "name": "echo",
        "image": opts["echo_image"],
        "args": ["netexec", "--http-port=%d" % PORT],
        "ports": [{"name": "http", "containerPort": PORT}],
        "readinessProbe": {"httpGet": {"path": "/hostname", "port": PORT}, "periodSeconds": 2},
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
        "securityContext": _SECURITY,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("echo-" + cluster, opts["namespace"], labels),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def _service(name, selector, opts, affinity=None):
    annotations = {"service.cilium.io/global": "true"}
    if affinity:
        annotations["service.cilium.io/affinity"] = affinity
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, opts["namespace"], annotations=annotations),
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": PORT, "targetPort": PORT, "protocol": "TCP"}],
        },
    }


def _client_script(services, opts):
    calls = [
        "( out=$(curl -s -m %d --retry 5 --retry-delay 2 --retry-all-errors "
        "-w ' %%{time_total}' http://%s:%d/hostname); "
        'code=$?; set -- $out; echo "%s service=%s answer=${1:--} seconds=${2:-0} '
        'code=$code" ) &' % (opts["timeout"], svc, PORT, LINE_PREFIX, svc)
        for svc in services
    ]
    return "\n".join(calls + ["wait"])


def _client(cluster, services, opts):
    container = {
        "name": "probe",
        "image": opts["client_image"],
        "command": ["/bin/sh", "-c", _client_script(services, opts)],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
        "securityContext": _SECURITY,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta("probe-" + cluster, opts["namespace"]),
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": opts["deadline"],
            "ttlSecondsAfterFinished": 600,
            "template": {
                "metadata": {"labels": dict(MANAGED_LABELS)},
                "spec": {"restartPolicy": "Never", "containers": [container]},
            },
        },
    }


def services(plan):
    """The Services every client calls: echo-global, then echo-only-<Y> for each cluster."""
    return [GLOBAL_SERVICE] + [ONLY_PREFIX + name for name in cluster_names(plan)]


def objects(plan, cluster, given=None):
    """Every object the probe applies to ``cluster``, in apply order."""
    names = cluster_names(plan)
    if cluster not in names:
        raise ProbeError("cluster %r is not in the plan; allowed: %s" % (cluster, ", ".join(names)))
    opts = options(given)
    result = [_namespace(opts), _echo(cluster, opts)]
    result.append(_service(GLOBAL_SERVICE, dict(APP_LABEL), opts, affinity="local"))
    for name in names:
        result.append(_service(ONLY_PREFIX + name, dict(APP_LABEL, **{CLUSTER_LABEL: name}), opts))
    result.append(_client(cluster, services(plan), opts))
    return result


def answered_by(hostname, names):
    """The cluster whose echo pod answered (pod names start with echo-<cluster>-)."""
    for name in sorted(names, key=len, reverse=True):
        if hostname.startswith("echo-%s-" % name):
            return name
    return None


def parse_log(text):
    """{service: {"answer", "seconds", "code"}} from a client's log; other lines ignored."""
    result = {}
    for line in (text or "").splitlines():
        match = _LINE_RE.match(line.strip())
        if match:
            service, answer, seconds, code = match.groups()
            result[service] = {"answer": answer, "seconds": float(seconds), "code": int(code)}
    return result


def _expected(service, source):
    if service == GLOBAL_SERVICE:
        return source
    return service[len(ONLY_PREFIX) :]


def report(plan, logs):
    """{"table": text, "failures": [text], "cells": {source: {target: cell}}}.

    ``logs`` maps each cluster to its client Job's log (None: no log could be read).
    A cell is ``<ms>ms`` when the expected cluster answered, else what happened.
    """
    names = cluster_names(plan)
    cells, failures = {}, []
    for source in names:
        calls = parse_log(logs.get(source)) if logs.get(source) is not None else None
        cells[source] = {}
        for service in services(plan):
            target = _expected(service, source)
            column = "local" if service == GLOBAL_SERVICE else target
            cell, problem = _cell(calls, service, target, names)
            cells[source][column] = cell
            if problem:
                failures.append("%s -> %s via %s: %s" % (source, target, service, problem))
    return {"table": _table(names, cells), "failures": failures, "cells": cells}


def _cell(calls, service, target, names):
    if calls is None:
        return "no log", "the probe Job gave no log"
    call = calls.get(service)
    if call is None:
        return "missing", "no answer line in the probe's log"
    if call["code"] != 0:
        return "curl %d" % call["code"], "curl exit code %d (28: timed out)" % call["code"]
    who = answered_by(call["answer"], names)
    if who != target:
        return "wrong: %s" % (who or call["answer"]), "answered by %s" % (who or call["answer"])
    return "%dms" % round(call["seconds"] * 1000), None


def _table(names, cells):
    columns = ["local"] + names
    rows = [["from \\ to"] + columns]
    for source in names:
        rows.append([source] + [cells[source].get(c, "") for c in columns])
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns) + 1)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    )

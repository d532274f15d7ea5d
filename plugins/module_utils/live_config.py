# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a running cluster's ``kube-system/cilium-config`` ConfigMap says, and which planned
changes to it need a reinstall.

``read_live(data, where)`` turns the ConfigMap's ``data`` into a :class:`LiveConfig`
(cluster name and ID, IPAM mode, cluster-pool CIDRs); ``reinstall_changes(name, values,
live)`` compares it with the Helm values the cilium role is about to apply and lists every
change that Cilium cannot make on a running cluster; ``pins(live)`` gives the inventory
pins that keep a live cluster's identity and pod CIDRs in the plan.

What needs a reinstall (Cilium documentation, "Cluster Mesh" / "Cluster Scope IPAM"):

* ``cluster-id`` and ``cluster-name`` of a meshed cluster (cluster-id not 0): part of
  every security identity and of the kvstore prefix of the mesh; changing them on a
  running cluster breaks policy and the mesh until every pod restarted. A cluster still
  on the chart's defaults (``default``, 0) may take its planned name and ID;
* ``ipam``: the IPAM mode cannot change on a running cluster;
* ``cluster-pool-ipv4-cidr`` / ``cluster-pool-ipv6-cidr``: existing entries cannot be
  changed or removed ("it is not possible to change or remove elements" of
  clusterPoolIPv4PodCIDRList); new entries may only be appended.

Pure Python, no Ansible import: the cilium role's preflight (filter ``live_changes``) and
the unit tests share it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from collections import namedtuple

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules

LiveConfig = namedtuple("LiveConfig", "cluster_name cluster_id ipam pod_v4 pod_v6")

# ConfigMap keys read here, as the Cilium chart writes them (templates/cilium-configmap.yaml
# of the 1.18, 1.19 and 1.20 charts).
KEYS = (
    "cluster-name",
    "cluster-id",
    "ipam",
    "cluster-pool-ipv4-cidr",
    "cluster-pool-ipv6-cidr",
)
# The chart's value for ipam.mode "cluster-pool" is written as "cluster-pool".
_CHART_IPAM = {"cluster-pool": "cluster-pool"}


class LiveConfigError(ValueError):
    """The live ConfigMap cannot be read, or a planned change needs a reinstall."""


def read_live(data, where="cilium-config"):
    """:class:`LiveConfig` of a ConfigMap's ``data`` (a dict of strings), or None if empty."""
    if data is None or data == {}:
        return None
    if not isinstance(data, dict):
        raise LiveConfigError("%s: data is not a mapping: %r" % (where, data))
    raw_id = str(data.get("cluster-id", "0")).strip() or "0"
    try:
        cluster_id = int(raw_id)
    except ValueError:
        raise LiveConfigError("%s: cluster-id %r is not a number" % (where, raw_id))
    return LiveConfig(
        cluster_name=str(data.get("cluster-name", "")).strip(),
        cluster_id=cluster_id,
        ipam=str(data.get("ipam", "")).strip(),
        pod_v4=_cidrs(data.get("cluster-pool-ipv4-cidr")),
        pod_v6=_cidrs(data.get("cluster-pool-ipv6-cidr")),
    )


def _cidrs(text):
    return [item for item in str(text or "").replace(",", " ").split() if item]


def from_values(values):
    """:class:`LiveConfig` of a cluster's Helm values (what a release or a plan says)."""
    return _planned(values or {})


def _planned(values):
    ipam = values.get("ipam") or {}
    operator = ipam.get("operator") or {}
    cluster = values.get("cluster") or {}
    return LiveConfig(
        cluster_name=str(cluster.get("name", "")),
        cluster_id=int(cluster.get("id", 0) or 0),
        ipam=_CHART_IPAM.get(ipam.get("mode"), str(ipam.get("mode", ""))),
        pod_v4=[str(c) for c in operator.get("clusterPoolIPv4PodCIDRList") or []],
        pod_v6=[str(c) for c in operator.get("clusterPoolIPv6PodCIDRList") or []],
    )


def reinstall_changes(name, values, live):
    """Every planned change to ``live`` that needs a reinstall, one message each.

    A cluster with no Cilium yet (``live`` None) or a fresh agent-less config (cluster-id 0,
    no name: the chart's defaults) has nothing to protect.
    """
    if live is None:
        return []
    planned = _planned(values)
    problems = []

    def refuse(key, live_value, planned_value, allowed):
        problems.append(
            "cluster %s: cilium-config %s is %r on the running cluster, the plan wants %r; "
            "%s" % (name, key, live_value, planned_value, allowed)
        )

    keep = "changing it needs a reinstall of Cilium: pin the live value in the inventory"
    # A cluster still on the chart's identity (cluster-id 0, not meshed) may take its name
    # and ID; a meshed one (cluster-id set) keeps both.
    meshed = live.cluster_id != 0
    if meshed and live.cluster_name != planned.cluster_name:
        refuse("cluster-name", live.cluster_name, planned.cluster_name, keep)
    if meshed and live.cluster_id != planned.cluster_id:
        refuse(
            "cluster-id",
            live.cluster_id,
            planned.cluster_id,
            keep + " (edgemesh_cluster_id: %d)" % live.cluster_id,
        )
    if live.ipam and live.ipam != planned.ipam:
        refuse("ipam", live.ipam, planned.ipam, "the IPAM mode of a running cluster is fixed")
    for key, was, wants, pin in (
        ("cluster-pool-ipv4-cidr", live.pod_v4, planned.pod_v4, "edgemesh_pod_cidr"),
        ("cluster-pool-ipv6-cidr", live.pod_v6, planned.pod_v6, "edgemesh_pod_cidr_v6"),
    ):
        if was and wants[: len(was)] != was:
            refuse(
                key,
                " ".join(was),
                " ".join(wants),
                "existing pool CIDRs can only be kept, new ones appended (%s: %s)" % (pin, was[0]),
            )
    return problems


def pins(live):
    """Inventory pins that keep a live cluster's ID and first pool CIDRs in the plan."""
    if live is None:
        return {}
    result = {}
    if live.cluster_id:
        result["edgemesh_cluster_id"] = live.cluster_id
    if live.pod_v4:
        result["edgemesh_pod_cidr"] = live.pod_v4[0]
    if live.pod_v6:
        result["edgemesh_pod_cidr_v6"] = live.pod_v6[0]
    if live.cluster_id and live.cluster_name:
        problem = mesh_rules.cluster_name_problem(live.cluster_name)
        if problem:
            raise LiveConfigError(
                "live cluster-name %r cannot be planned: %s" % (live.cluster_name, problem)
            )
    return result


# ------------------------------------------------------------- adoption (adopt_live.yml)

# The live files: <output_dir>/live/<cluster>.json, written by playbooks/adopt_live.yml and
# read by the planner (mesh_planner.plan_mesh(live=...)).
LIVE_DIR = "live"
LIVE_FORMAT = 1
_SOURCE = "kube-system/cilium-config"


def live_record(cluster, data):
    """What adopt_live.yml writes for ``cluster``: the ConfigMap's KEYS, or ``data: None``
    when the cluster has no cilium-config (no Cilium yet: the planner knows it looked)."""
    if data is not None and not isinstance(data, dict):
        raise LiveConfigError("cluster %s: %s data is not a mapping: %r" % (cluster, _SOURCE, data))
    kept = None
    if data is not None:
        kept = dict((key, str(data[key])) for key in KEYS if data.get(key) is not None)
    return {"format": LIVE_FORMAT, "cluster": cluster, "source": _SOURCE, "data": kept}


def live_file_text(cluster, data):
    """The exact text of live/<cluster>.json (sorted keys, 2 spaces, final newline)."""
    return json.dumps(live_record(cluster, data), sort_keys=True, indent=2) + "\n"


def parse_live_file(text, where):
    """(cluster, data) of a live file's text; ``data`` is None for a cluster without Cilium.

    ``where`` names the file in every message.
    """
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise LiveConfigError(
            "%s is not JSON (%s); allowed: a file adopt_live.yml wrote" % (where, exc)
        )
    if not isinstance(record, dict) or record.get("format") != LIVE_FORMAT:
        raise LiveConfigError(
            "%s: format is %r; allowed: %d (re-run playbooks/adopt_live.yml)"
            % (where, record.get("format") if isinstance(record, dict) else record, LIVE_FORMAT)
        )
    cluster, data = record.get("cluster"), record.get("data")
    if not isinstance(cluster, str) or not cluster:
        raise LiveConfigError("%s: cluster %r is not a cluster name" % (where, cluster))
    if data is not None:
        read_live(data, where)  # refuses what cannot be read, naming the file
    return cluster, data


def live_targets(hosts):
    """Existing clusters to read: [{cluster, kubeconfig, context}] sorted by cluster.

    ``hosts`` maps each host of the clusters to its variables (edgemesh_cluster_name,
    edgemesh_kubeconfig, edgemesh_kube_context); a cluster without edgemesh_kubeconfig is
    one the collection builds, not an existing one. Two hosts of a cluster that disagree
    on its kubeconfig or context are refused, naming both.
    """
    found = {}
    for host in sorted(hosts):
        hv = hosts[host] or {}
        name, kubeconfig = hv.get("edgemesh_cluster_name"), hv.get("edgemesh_kubeconfig")
        if not name or not kubeconfig:
            continue
        target = {
            "cluster": str(name),
            "kubeconfig": str(kubeconfig),
            "context": str(hv.get("edgemesh_kube_context") or ""),
        }
        seen = found.setdefault(target["cluster"], (host, target))
        if seen[1] != target:
            raise LiveConfigError(
                "cluster %s: hosts %s and %s disagree on its kubeconfig/context (%s vs %s); "
                "allowed: set edgemesh_kubeconfig and edgemesh_kube_context once, on the "
                "cluster's group" % (name, seen[0], host, seen[1], target)
            )
    return [found[name][1] for name in sorted(found)]


def live_files(results):
    """{live/<cluster>.json: {content, mode 0644}} from the k8s_info results of adopt_live.yml
    (each result holds ``item`` = a live_targets entry and ``resources``)."""
    files = {}
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("item"), dict):
            raise LiveConfigError("a k8s_info result without its item: %r" % (result,))
        cluster = result["item"].get("cluster")
        resources = result.get("resources") or []
        if len(resources) > 1:
            raise LiveConfigError(
                "cluster %s: %d cilium-config ConfigMaps" % (cluster, len(resources))
            )
        data = (resources[0].get("data") or {}) if resources else None
        path = "%s/%s.json" % (LIVE_DIR, cluster)
        files[path] = {"content": live_file_text(cluster, data), "mode": "0644"}
    return files

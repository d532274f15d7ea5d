# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of playbooks/upgrade_cilium.yml (docs/upgrade_cilium.md).

* ``upgrade_plan``: which clusters move from which live version to the target, in plan
  order, one at a time; refused (``UpgradeError``) when a cluster would skip a minor or
  downgrade, when the mesh would ever hold versions more than one minor apart, or when a
  cluster's live version is unknown.
* ``preflight_values``: the values of the ``cilium-preflight`` release (Cilium's upgrade
  guide: the chart with ``preflight.enabled=true``, ``agent=false``,
  ``operator.enabled=false`` pre-pulls the new images on every node).
* ``policies_changing_meaning``: the CiliumNetworkPolicies / CiliumClusterwideNetworkPolicies
  whose peer selectors carry no cluster label and so select only the local cluster once
  ``clustermesh.policyDefaultLocalCluster`` turns on (the 1.19 default).
* ``remote_users_problem``: the 1.19 ``clustermesh-remote-users`` requirement.
* ``record_version``: the state text with one cluster's new version (mesh_state_schema).

Versions, minors and the chart differences come from ``mesh_rules`` only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from dataclasses import asdict, dataclass

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    cilium_status,
    cilium_values,
    dataplane_probe,
    mesh_rules,
    mesh_state_schema,
)

PREFLIGHT_RELEASE = "cilium-preflight"
# The DaemonSet the chart's preflight templates create (all supported minors).
PREFLIGHT_DAEMONSET = "cilium-pre-flight-check"
CLUSTER_LABEL = "io.cilium.k8s.policy.cluster"
POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")
_PEER_FIELDS = (
    ("ingress", "fromEndpoints"),
    ("ingressDeny", "fromEndpoints"),
    ("egress", "toEndpoints"),
    ("egressDeny", "toEndpoints"),
)


class UpgradeError(ValueError):
    """The upgrade cannot go ahead; the message names the clusters, versions and next step."""


@dataclass(frozen=True)
class UpgradeStep:
    """One cluster's hop: ``current`` -> ``target``, leaving minor ``upgrade_compatibility``."""

    cluster: str
    current: str
    target: str
    upgrade_compatibility: str
    policy_check: bool


def _minor(version):
    parsed = mesh_rules.parse_version(version)
    return (parsed.major, parsed.minor)


def _minor_text(version):
    return "%d.%d" % _minor(version)


def _live_versions(plan, live):
    """{cluster: normalized version} for every planned cluster, or UpgradeError."""
    names = [c["name"] for c in plan["clusters"]]
    missing = [n for n in names if not live.get(n)]
    if missing:
        raise UpgradeError(
            "no Cilium release found on cluster(s) %s (helm list shows no release); install "
            "Cilium with playbooks/cilium.yml first" % ", ".join(missing)
        )
    out = {}
    for name in names:
        try:
            out[name] = mesh_rules.normalize_cilium_version(live[name])
        except mesh_rules.RuleError as exc:
            raise UpgradeError("cluster %s runs Cilium %s: %s" % (name, live[name], exc))
    return out


def _hop_problems(versions, target):
    problems = []
    for name, current in versions.items():
        problem = mesh_rules.cilium_upgrade_problem(current, target)
        if problem is None and mesh_rules.parse_version(target) < mesh_rules.parse_version(current):
            problem = "%s would downgrade %s (a patch downgrade); allowed: %s or later" % (
                target,
                current,
                current,
            )
        if problem:
            problems.append("cluster %s runs %s: %s" % (name, current, problem))
    return problems


def _skew_problem(versions, order, target):
    """The first step at which the mesh would span more than one minor, or None."""
    now = dict(versions)
    for step in [None] + list(order):
        if step is not None:
            now[step] = target
        minors = sorted(set(_minor(v) for v in now.values()))
        if minors[-1][1] - minors[0][1] > 1 or minors[-1][0] != minors[0][0]:
            spread = ", ".join("%s %s" % (n, now[n]) for n in sorted(now))
            when = "now" if step is None else "after %s" % step
            return "the mesh would span more than one minor %s (%s)" % (when, spread)
    return None


def _next_step_hint(versions, target):
    lowest = min(_minor(v) for v in versions.values())
    following = "%d.%d" % (lowest[0], lowest[1] + 1)
    if (
        _minor(target) > (lowest[0], lowest[1] + 1)
        and following in mesh_rules.SUPPORTED_CILIUM_MINORS
    ):
        rules = mesh_rules.minor_rules(following)
        return "; upgrade every cluster to %s first (-e edgemesh_cilium_upgrade_version=%s)" % (
            following + ".x",
            rules.chart_tested,
        )
    return ""


def _check_target(target):
    try:
        version = mesh_rules.normalize_cilium_version(target)
    except mesh_rules.RuleError as exc:
        raise UpgradeError("edgemesh_cilium_upgrade_version: %s" % exc)
    problem = mesh_rules.known_cilium_patch_problem(version)
    if problem:
        raise UpgradeError("edgemesh_cilium_upgrade_version %s" % problem)
    return version


def _changes_policy_default(plan_cluster, current, target):
    """True when clustermesh.policyDefaultLocalCluster differs between the two versions."""
    before = mesh_rules.minor_rules(current).policy_default_local_cluster
    pinned = (plan_cluster.get("cilium") or {}).get("policy_default_local_cluster")
    after = mesh_rules.minor_rules(target).policy_default_local_cluster
    if pinned is not None and pinned != "":
        after = cilium_values.normalize_options({"policy_default_local_cluster": pinned})[
            "policy_default_local_cluster"
        ]
    return before != after


def upgrade_plan(plan, live, target):
    """{target, steps: [UpgradeStep as dict], skipped: [cluster]} in plan order.

    ``live``: {cluster: the Cilium version running there (helm list), or None}.
    """
    target = _check_target(target)
    versions = _live_versions(plan, live)
    problems = _hop_problems(versions, target)
    if problems:
        raise UpgradeError(
            "upgrade to %s refused: %s%s"
            % (target, "; ".join(problems), _next_step_hint(versions, target))
        )
    order = [c["name"] for c in plan["clusters"] if versions[c["name"]] != target]
    skew = _skew_problem(versions, order, target)
    if skew:
        raise UpgradeError(
            "upgrade to %s refused: %s%s" % (target, skew, _next_step_hint(versions, target))
        )
    by_name = dict((c["name"], c) for c in plan["clusters"])
    steps = [
        UpgradeStep(
            name,
            versions[name],
            target,
            _minor_text(versions[name]),
            _changes_policy_default(by_name[name], versions[name], target),
        )
        for name in order
    ]
    skipped = [n for n in versions if n not in order]
    return {"target": target, "steps": [asdict(s) for s in steps], "skipped": skipped}


def step_plan(plan, step):
    """The plan the cilium role installs for one step: the target version, and
    ``upgradeCompatibility`` set to the minor being left (cilium_values extra_values)."""
    out = copy.deepcopy(plan)
    out["mesh"]["cilium_version"] = step["target"]
    out["mesh"]["cilium_minor"] = _minor_text(step["target"])
    for cluster in out["clusters"]:
        if cluster["name"] == step["cluster"]:
            options = cluster.setdefault("cilium", {}) or {}
            extra = copy.deepcopy(options.get("extra_values") or {})
            extra["upgradeCompatibility"] = step["upgrade_compatibility"]
            options["extra_values"] = extra
            cluster["cilium"] = options
    return out


def preflight_values(plan, step):
    """Values of the cilium-preflight release: only the pre-flight DaemonSet, which pulls
    the target images on every node; the API server address as the agents reach it."""
    values = cilium_values.cluster_values(step_plan(plan, step), step["cluster"])
    out = {"preflight": {"enabled": True}, "agent": False, "operator": {"enabled": False}}
    for key in ("k8sServiceHost", "k8sServicePort"):
        if key in values:
            out[key] = values[key]
    return out


def live_version(helm_status):
    """The Cilium version of a release from kubernetes.core.helm_info's ``status`` (chart
    ``cilium-X.Y.Z``, else app_version), or None when there is no release."""
    if not helm_status:
        return None
    chart = str(helm_status.get("chart") or "")
    if chart.startswith("cilium-"):
        return chart[len("cilium-") :]
    return helm_status.get("app_version") or None


def _selector_has_cluster(selector):
    labels = selector.get("matchLabels") or {}
    keys = [k.split(":", 1)[-1] for k in labels]
    keys += [
        str(e.get("key", "")).split(":", 1)[-1] for e in selector.get("matchExpressions") or []
    ]
    return CLUSTER_LABEL in keys


def _rules(obj):
    """[(path, rule)] of a policy object: its ``spec`` and each of its ``specs``."""
    out = [("spec", obj["spec"])] if isinstance(obj.get("spec"), dict) else []
    specs = obj.get("specs") or []
    return out + [("specs[%d]" % i, r) for i, r in enumerate(specs) if isinstance(r, dict)]


def policy_findings(obj):
    """['specs[0].ingress[1].fromEndpoints[0]', ...]: the peer selectors of one policy
    object without a cluster label (they match only the local cluster once
    policyDefaultLocalCluster is on)."""
    found = []
    for path, rule in _rules(obj):
        for direction, field in _PEER_FIELDS:
            for d_index, section in enumerate(rule.get(direction) or []):
                for s_index, selector in enumerate((section or {}).get(field) or []):
                    if not _selector_has_cluster(selector or {}):
                        found.append(
                            "%s.%s[%d].%s[%d]" % (path, direction, d_index, field, s_index)
                        )
    return found


def policies_changing_meaning(objects):
    """[{kind, namespace, name, selectors}] of the policies whose meaning changes, sorted."""
    out = []
    for obj in objects or []:
        if not isinstance(obj, dict) or obj.get("kind") not in POLICY_KINDS:
            continue
        selectors = policy_findings(obj)
        if selectors:
            meta = obj.get("metadata") or {}
            out.append(
                {
                    "kind": obj["kind"],
                    "namespace": meta.get("namespace", ""),
                    "name": meta.get("name", ""),
                    "selectors": selectors,
                }
            )
    return sorted(out, key=lambda p: (p["kind"], p["namespace"], p["name"]))


def policy_change_problem(cluster, step, objects, accept):
    """None when the step may go ahead, else the refusal naming every affected policy."""
    if not step["policy_check"]:
        return None
    found = policies_changing_meaning(objects)
    if not found or accept:
        return None
    listed = ", ".join(
        "%s %s%s (%s)"
        % (
            p["kind"],
            p["namespace"] + "/" if p["namespace"] else "",
            p["name"],
            ", ".join(p["selectors"]),
        )
        for p in found
    )
    return (
        "cluster %s: %s -> %s changes clustermesh.policyDefaultLocalCluster, so %d policy "
        "object(s) with peer selectors without %s would select only the local cluster: %s; "
        "add the cluster label to cross-cluster selectors, or keep the old meaning with "
        "cilium_policy_default_local_cluster: false, or accept with "
        "edgemesh_cilium_upgrade_accept_policy_change: true"
        % (cluster, step["current"], step["target"], len(found), CLUSTER_LABEL, listed)
    )


def remote_users_problem(values, target):
    """None when the target's clustermesh-apiserver gets its clustermesh-remote-users
    ConfigMap, else what to do (Cilium 1.19 upgrade notes: with authMode other than
    legacy, useAPIServer and clustermesh.config.enabled false, create the ConfigMap or
    set clustermesh.apiserver.tls.authMode=legacy)."""
    mesh = values.get("clustermesh") or {}
    tls = (mesh.get("apiserver") or {}).get("tls") or {}
    mode = tls.get("authMode") or mesh_rules.clustermesh_auth_mode_default(target)
    if not mesh.get("useAPIServer") or mode == "legacy":
        return None
    if (mesh.get("config") or {}).get("enabled"):
        return None
    return (
        "Cilium %s with clustermesh.apiserver.tls.authMode %s and clustermesh.config.enabled "
        "false needs the clustermesh-remote-users ConfigMap in kube-system; create it, or "
        "set clustermesh.apiserver.tls.authMode: legacy (cilium_extra_values)" % (target, mode)
    )


def record_version(state_text, cluster, version):
    """The state file's text with ``cluster``'s cilium_version set to ``version``."""
    state = mesh_state_schema.parse_state(state_text)
    data = state.to_dict()
    if cluster not in data["clusters"]:
        raise UpgradeError(
            "the state file has no entry for cluster %s (known: %s); run playbooks/plan.yml"
            % (cluster, ", ".join(sorted(data["clusters"])) or "none")
        )
    data["clusters"][cluster]["cilium_version"] = mesh_rules.normalize_cilium_version(version)
    return mesh_state_schema.dump_state(data)


def verify_failures(plan, cluster, checks, probe_log):
    """What failed in the verify of one upgraded cluster: its status checks (all must be
    ok; none run is a failure) and the probe calls made from it (None: no probe ran)."""
    failures = list(cilium_status.report([cluster], [checks or {}])["failures"])
    if probe_log is not None:
        probe = dataplane_probe.report(plan, {cluster: probe_log})
        failures += [f for f in probe["failures"] if f.startswith(cluster + " -> ")]
    return failures

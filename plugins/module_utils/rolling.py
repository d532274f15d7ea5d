# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Order of a rolling Kubernetes upgrade (k3s or kubeadm).

Pure Python, no Ansible import. ``rolling_order(nodes, target)`` takes the nodes with the
version each one runs now and returns the ones to upgrade, in the order to upgrade them:
servers (control planes) first, then agents (workers), one at a time; within a role by
cluster name, then host name. Nodes already at the target are skipped; nodes without an
installed version are not part of a running cluster and are skipped too (the bootstrap
playbook installs them). A downgrade, or a jump of more than one minor version, is refused,
as Kubernetes supports neither.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_rules import (
    RuleError,
    parse_kubernetes_version,
)

ROLES = ("server", "agent")


class RollingError(Exception):
    """A node list or version that cannot be upgraded."""


def parse_version(text):
    """``v1.33.5+k3s1`` -> ``(1, 33, 5, 1)``; ``v1.33.5`` -> ``(1, 33, 5, 0)``."""
    try:
        return parse_kubernetes_version(text)
    except RuleError as exc:
        raise RollingError("version %s" % exc)


def check_step(host, current, target):
    """Refuse a downgrade and a jump over a minor version for one node."""
    cur, tgt = parse_version(current), parse_version(target)
    if cur > tgt:
        raise RollingError(
            "host %s runs %s, newer than the target %s: downgrades are not supported"
            % (host, current, target)
        )
    if cur[0] != tgt[0] or tgt[1] - cur[1] > 1:
        raise RollingError(
            "host %s runs %s; %s skips a minor version (upgrade one minor at a time)"
            % (host, current, target)
        )


def rolling_order(nodes, target, versions=None, cluster=None, first_hosts=None):
    """Return ``[{"host", "cluster", "role", "from", "to"}, ...]`` in upgrade order.

    ``nodes`` is a list of mappings with ``host``, ``role`` (``server`` or ``agent``),
    ``version`` (installed version, or empty/None when nothing is installed) and an
    optional ``cluster``. ``versions`` (host -> installed version) overrides the nodes'
    ``version`` (so the plan's node list can be used as is); ``cluster`` names the cluster
    of nodes that carry none. ``first_hosts`` (cluster -> host) puts that host first among
    its cluster's servers (kubeadm runs ``kubeadm upgrade apply`` there).
    """
    parse_version(target)
    if not isinstance(nodes, (list, tuple)):
        raise RollingError("nodes must be a list, got %s" % type(nodes).__name__)
    if versions is not None and not isinstance(versions, dict):
        raise RollingError(
            "versions must be a mapping of host to version, got %s" % type(versions).__name__
        )
    versions = versions or {}
    seen = set()
    todo = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not node.get("host"):
            raise RollingError("node #%d has no host: %r" % (index, node))
        host = str(node["host"])
        if host in seen:
            raise RollingError("host %s is listed twice" % host)
        seen.add(host)
        role = node.get("role", "agent")
        if role not in ROLES:
            raise RollingError("host %s has role %r; allowed: %s" % (host, role, ", ".join(ROLES)))
        current = versions.get(host, node.get("version"))
        if not current:
            continue
        if parse_version(current) == parse_version(target):
            continue
        check_step(host, current, target)
        todo.append(
            {
                "host": host,
                "cluster": str(node.get("cluster") or cluster or ""),
                "role": role,
                "from": str(current),
                "to": str(target),
            }
        )
    first = first_hosts or {}
    todo.sort(
        key=lambda n: (
            ROLES.index(n["role"]),
            n["cluster"],
            n["host"] != first.get(n["cluster"]),
            n["host"],
        )
    )
    return todo


def installed_version(output):
    """The release in the output of ``k3s --version`` / ``kubelet --version`` ("" if none)."""
    for token in str(output or "").split():
        try:
            parse_kubernetes_version(token)
        except RuleError:
            continue
        return token
    return ""


def _var(hostvars, host, name):
    """``hostvars[host][name]``, or None when the host or the variable is not there."""
    if not name or host not in hostvars:
        return None
    values = hostvars[host]
    return values.get(name) if isinstance(values, Mapping) else None


def _cluster_target(cluster, hostvars, target_var):
    """The one target version of a cluster's answering nodes ("" when none is set)."""
    targets = {}
    for node in cluster["nodes"]:
        target = _var(hostvars, node["host"], target_var)
        if target:
            targets[node["host"]] = str(target)
    if len(set(targets.values())) > 1:
        raise RollingError(
            "cluster %s: %s differs between its nodes (%s); allowed: one version per cluster"
            % (
                cluster["name"],
                target_var,
                ", ".join("%s=%s" % item for item in sorted(targets.items())),
            )
        )
    return next(iter(targets.values()), "")


def upgrade_queue(plan, distribution, hostvars, result_var, target_var, order_var=None):
    """The nodes to upgrade, in order, for every ``distribution`` cluster of the plan.

    ``hostvars[host][result_var]`` is the registered ``--version`` command of a node (a
    node without it did not answer or is outside ``--limit``: left out);
    ``hostvars[host][target_var]`` the version to upgrade to; ``order_var`` (kubeadm:
    ``kubeadm_control_plane_hosts``) names the list whose first host goes first.
    """
    if not isinstance(plan, Mapping) or not isinstance(plan.get("clusters"), list):
        raise RollingError("the plan is not a mapping with 'clusters' (run playbooks/plan.yml)")
    queue = []
    for cluster in plan["clusters"]:
        if cluster.get("distribution") != distribution:
            continue
        target = _cluster_target(cluster, hostvars, target_var)
        versions, first = {}, {}
        for node in cluster["nodes"]:
            result = _var(hostvars, node["host"], result_var)
            if isinstance(result, Mapping) and result.get("rc") == 0:
                versions[node["host"]] = installed_version(result.get("stdout"))
            order = _var(hostvars, node["host"], order_var)
            if order and not first:
                first[cluster["name"]] = order[0]
        nodes = [n for n in cluster["nodes"] if versions.get(n["host"])]
        if nodes and not target:
            raise RollingError(
                "cluster %s: set the target %s (inventory or -e %s=...) to upgrade"
                % (cluster["name"], target_var, target_var)
            )
        if nodes:
            queue += rolling_order(nodes, target, versions, cluster["name"], first)
    # Servers of every cluster before any agent; the order inside a cluster stays.
    queue.sort(key=lambda n: (ROLES.index(n["role"]), n["cluster"]))
    return queue


def _host_list(requested):
    if isinstance(requested, str):
        requested = requested.split(",")
    if not isinstance(requested, (list, tuple)):
        raise RollingError(
            "edgemesh_remove_nodes is %r; allowed: host names, as a list or comma-separated"
            % (requested,)
        )
    hosts = []
    for host in requested:
        host = str(host).strip()
        if host and host not in hosts:
            hosts.append(host)
    return hosts


def _check_removal(cluster, removed, hostvars):
    """Refuse to take a cluster's last server, or the server its API address points at."""
    where = "cluster %s (%s) cannot lose %s" % (
        cluster["name"],
        cluster.get("distribution"),
        ", ".join(removed),
    )
    servers = [n["host"] for n in cluster["nodes"] if n["role"] == "server"]
    if cluster.get("distribution") != "k3s" or not set(servers) - set(removed):
        raise RollingError(
            "%s: remove_node.yml handles k3s clusters that keep at least one server (use "
            "reset.yml to remove a whole cluster)" % where
        )
    for host in removed:
        address = _var(hostvars, host, "k3s_registration_address")
        node_ip = _var(hostvars, host, "k3s_node_ip")
        if not address or not node_ip:
            raise RollingError(
                "%s: %s has no k3s role inputs (playbooks/tasks/role_inputs.yml did not run "
                "there; is it outside --limit?)" % (where, host)
            )
        if address == str(node_ip).split(",", 1)[0]:
            raise RollingError(
                "%s: %s is the registration address of the cluster; set "
                "edgemesh_control_plane_endpoint (a VIP) or pin edgemesh_k3s_init_server to "
                "another server, re-run playbooks/k3s.yml, then remove this node" % (where, host)
            )


def removal_queue(plan, requested, inventory_hosts, hostvars):
    """The hosts to take out of their k3s clusters, sorted, after every refusal was checked.

    ``requested``: ``edgemesh_remove_nodes`` (a list or ``a,b``); ``inventory_hosts``: the
    hosts of the group edgemesh_clusters; ``hostvars``: their variables, with the k3s role
    inputs set (``k3s_registration_address``, ``k3s_node_ip``).
    """
    hosts = _host_list(requested)
    if not hosts:
        raise RollingError(
            "remove_node.yml needs -e edgemesh_remove_nodes=<host[,host]> (hosts of "
            "edgemesh_clusters) and -e edgemesh_reset_confirm=yes"
        )
    unknown = [h for h in hosts if h not in inventory_hosts]
    if unknown:
        raise RollingError(
            "edgemesh_remove_nodes names %s, not hosts of edgemesh_clusters; allowed: %s"
            % (", ".join(unknown), ", ".join(sorted(inventory_hosts)) or "none")
        )
    by_cluster = {}
    for host in hosts:
        found = [c for c in plan["clusters"] if host in [n["host"] for n in c["nodes"]]]
        if not found:
            raise RollingError(
                "host %s is in no cluster of the plan; run playbooks/plan.yml first" % host
            )
        by_cluster.setdefault(found[0]["name"], (found[0], []))[1].append(host)
    for name in sorted(by_cluster):
        cluster, removed = by_cluster[name]
        _check_removal(cluster, sorted(removed), hostvars)
    return sorted(hosts)

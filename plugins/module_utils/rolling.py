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

Node removal (``playbooks/remove_node.yml``): ``removal_steps`` / ``removal_queue`` check a
request against the plan before anything is removed; ``removal_check`` reads the Node list
right before one node goes (etcd quorum); ``etcd_member_ids`` finds a node's etcd members.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections.abc import Mapping

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_rules import (
    RuleError,
    etcd_quorum,
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


# The role inputs that tell, per distribution, where a node is and where the API points.
_REMOVAL_INPUTS = {
    "k3s": ("k3s_node_ip", "k3s_registration_address"),
    "kubeadm": ("kubeadm_node_ip", "kubeadm_control_plane_endpoint"),
}


def _first_ip(value):
    return str(value or "").split(",", 1)[0].strip()


def _check_removal(cluster, removed, hostvars):
    """Refuse to take a cluster's last server, or the server its API address points at."""
    distribution = cluster.get("distribution")
    where = "cluster %s (%s) cannot lose %s" % (cluster["name"], distribution, ", ".join(removed))
    servers = [n["host"] for n in cluster["nodes"] if n["role"] == "server"]
    if distribution not in _REMOVAL_INPUTS or not set(servers) - set(removed):
        raise RollingError(
            "%s: remove_node.yml handles k3s and kubeadm clusters that keep at least one "
            "server (use reset.yml to remove a whole cluster)" % where
        )
    ip_var, api_var = _REMOVAL_INPUTS[distribution]
    for host in removed:
        address, node_ip = _var(hostvars, host, api_var), _var(hostvars, host, ip_var)
        if not address or not node_ip:
            raise RollingError(
                "%s: %s has no %s role inputs (playbooks/tasks/role_inputs.yml did not run "
                "there; is it outside --limit?)" % (where, host, distribution)
            )
        if address == _first_ip(node_ip):
            raise RollingError(
                "%s: %s is the registration address of the cluster; set "
                "edgemesh_control_plane_endpoint (a VIP) or pin edgemesh_k3s_init_server to "
                "another server, re-run playbooks/%s.yml, then remove this node"
                % (where, host, distribution)
            )


def _peer(cluster, removed, hostvars):
    """The server that stays and runs kubectl/etcdctl for the removal: the one the API
    address points at when it is a node, else the first remaining server by name."""
    staying = sorted(
        n["host"] for n in cluster["nodes"] if n["role"] == "server" and n["host"] not in removed
    )
    ip_var, api_var = _REMOVAL_INPUTS[cluster["distribution"]]
    for host in staying:
        if _var(hostvars, host, api_var) == _first_ip(_var(hostvars, host, ip_var)):
            return host
    return staying[0]


def _by_cluster(plan, hosts):
    by_cluster = {}
    for host in hosts:
        found = [c for c in plan["clusters"] if host in [n["host"] for n in c["nodes"]]]
        if not found:
            raise RollingError(
                "host %s is in no cluster of the plan; run playbooks/plan.yml first" % host
            )
        by_cluster.setdefault(found[0]["name"], (found[0], []))[1].append(host)
    return by_cluster


def removal_steps(plan, requested, inventory_hosts, hostvars):
    """``[{"host", "cluster", "distribution", "role", "peer"}, ...]``: the hosts to take out
    of their clusters, agents first, then by cluster and host, after every refusal was
    checked. ``peer`` is the server of the same cluster that stays (see ``_peer``)."""
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
    steps = []
    for name, (cluster, removed) in sorted(_by_cluster(plan, hosts).items()):
        _check_removal(cluster, sorted(removed), hostvars)
        peer = _peer(cluster, removed, hostvars)
        roles = dict((n["host"], n["role"]) for n in cluster["nodes"])
        for host in sorted(removed):
            steps.append(
                {
                    "host": host,
                    "cluster": name,
                    "distribution": cluster["distribution"],
                    "role": roles[host],
                    "peer": peer,
                }
            )
    steps.sort(key=lambda s: (s["role"] != "agent", s["cluster"], s["host"]))
    return steps


def removal_queue(plan, requested, inventory_hosts, hostvars):
    """The hosts to take out of their k3s or kubeadm clusters, sorted, after every refusal
    was checked (see ``removal_steps``).

    ``requested``: ``edgemesh_remove_nodes`` (a list or ``a,b``); ``inventory_hosts``: the
    hosts of the group edgemesh_clusters; ``hostvars``: their variables, with the role
    inputs set (k3s: ``k3s_registration_address``, ``k3s_node_ip``; kubeadm:
    ``kubeadm_control_plane_endpoint``, ``kubeadm_node_ip``).
    """
    return sorted(s["host"] for s in removal_steps(plan, requested, inventory_hosts, hostvars))


# The label each distribution puts on the Nodes that hold an etcd member (k3s: servers
# with embedded etcd; kubeadm: control planes with stacked etcd).
ETCD_NODE_LABELS = {
    "k3s": "node-role.kubernetes.io/etcd",
    "kubeadm": "node-role.kubernetes.io/control-plane",
}
# k3s's etcd member controller: the Node annotations naming the member, and the member it
# removed once asked with etcd.k3s.cattle.io/remove=true (k3s pkg/etcd/member_controller.go).
K3S_MEMBER_ANNOTATION = "etcd.k3s.cattle.io/node-name"
K3S_REMOVED_ANNOTATION = "etcd.k3s.cattle.io/removed-node-name"


def _ready(node):
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def removal_check(nodes, node_name, distribution):
    """Read ``kubectl get nodes -o json`` (``nodes``) before ``node_name`` is removed.

    Returns ``{"present", "server", "etcd_member", "member_removed"}``. Refuses when the
    node holds an etcd member and the other Ready members would be fewer than the quorum
    of the members left after it (a member down elsewhere, or a removal already running).
    """
    if distribution not in ETCD_NODE_LABELS:
        raise RollingError(
            "distribution %r; allowed: %s" % (distribution, ", ".join(ETCD_NODE_LABELS))
        )
    if not isinstance(nodes, Mapping) or not isinstance(nodes.get("items"), list):
        raise RollingError("the node list is not `kubectl get nodes -o json` output")
    label = ETCD_NODE_LABELS[distribution]
    members = [
        n for n in nodes["items"] if label in ((n.get("metadata") or {}).get("labels") or {})
    ]
    this = [n for n in nodes["items"] if (n.get("metadata") or {}).get("name") == node_name]
    annotations = (this[0].get("metadata") or {}).get("annotations") or {} if this else {}
    result = {
        "present": bool(this),
        "server": bool(this) and this[0] in members,
        "etcd_member": str(annotations.get(K3S_MEMBER_ANNOTATION, "")),
        "member_removed": str(annotations.get(K3S_REMOVED_ANNOTATION, "")),
    }
    if result["server"] and not result["member_removed"]:
        others = [n["metadata"]["name"] for n in members if n is not this[0]]
        ready = [n["metadata"]["name"] for n in members if n is not this[0] and _ready(n)]
        if len(ready) < etcd_quorum(len(others)):
            raise RollingError(
                "removing %s would break the etcd quorum: %d of the %d members left "
                "(%s) are Ready, %d needed; bring them back first"
                % (
                    node_name,
                    len(ready),
                    len(others),
                    ", ".join(sorted(others)) or "none",
                    etcd_quorum(len(others)),
                )
            )
    return result


def etcd_member_ids(listing, node_name, node_ips=()):
    """The hex IDs of the members of ``etcdctl member list -w json`` (``listing``) that
    belong to ``node_name``: named after it (kubeadm: the node name; k3s: ``<node>-<hex>``)
    or with a peer URL on one of ``node_ips``."""
    if not isinstance(listing, Mapping) or not isinstance(listing.get("members", []), list):
        raise RollingError("the member list is not `etcdctl member list -w json` output")
    ips = set(_first_ip(ip) for ip in node_ips if ip)
    ids = []
    for index, member in enumerate(listing.get("members", [])):
        if not isinstance(member, Mapping) or not str(member.get("ID", "")).isdigit():
            raise RollingError("member #%d has no numeric ID: %r" % (index, member))
        name = str(member.get("name", ""))
        hosts = set(
            str(url).split("//", 1)[-1].rsplit(":", 1)[0].strip("[]")
            for url in member.get("peerURLs") or []
        )
        k3s_name = re.match(re.escape(node_name) + "-[0-9a-f]{8}$", name)
        if name == node_name or k3s_name or hosts & ips:
            ids.append("%x" % int(member["ID"]))
    return sorted(ids)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: complete a hand-written plan with the fields the planner derives.

Tests that build small plans by hand (to aim at one rule of the values engine) write only
the fields they care about; ``complete_plan`` adds the rest the way the planner does
(api_endpoint = the first server and 6443, init_host = the first server, paths, node lists),
so the plan passes ``plan_types.Plan.from_dict``. Plans for end-to-end checks come from
the real planner instead: ``inventory_cluster`` writes one cluster the way the play's
inventory reader hands it to ``plan_mesh``.
"""

import copy


def complete_cluster(cluster):
    cluster = copy.deepcopy(cluster)
    name = cluster["name"]
    servers = list(cluster.get("servers") or [])
    agents = list(cluster.get("agents") or [])
    cluster.setdefault("group", "cluster_" + name.replace("-", "_"))
    cluster.setdefault("region", "region")
    cluster.setdefault("distribution", "k3s")
    cluster.setdefault("service_cidrs", ["172.16.0.0/20"])
    cluster.setdefault("cluster_dns", "172.16.0.10")
    cluster.setdefault("servers", servers)
    cluster.setdefault("agents", agents)
    cluster.setdefault(
        "nodes",
        [{"host": "%s-s%d" % (name, i), "ip": ip, "role": "server"} for i, ip in enumerate(servers)]
        + [
            {"host": "%s-a%d" % (name, i), "ip": ip, "role": "agent"} for i, ip in enumerate(agents)
        ],
    )
    server_nodes = [n for n in cluster["nodes"] if n["role"] == "server"]
    cluster.setdefault("peers", [])
    cluster.setdefault("init_host", server_nodes[0]["host"] if server_nodes else "")
    cluster.setdefault("server_hosts", [n["host"] for n in server_nodes])
    cluster.setdefault("agent_hosts", [n["host"] for n in cluster["nodes"] if n["role"] == "agent"])
    cluster.setdefault("api_endpoint", {"host": servers[0] if servers else "", "port": 6443})
    cluster.setdefault(
        "paths",
        {
            "kubeconfig": "%s/kubeconfig" % name,
            "token": "%s/k3s-token" % name,
            "agent_token": "%s/k3s-agent-token" % name,
        },
    )
    return cluster


def complete_plan(plan):
    plan = copy.deepcopy(plan)
    plan["clusters"] = [complete_cluster(c) for c in plan["clusters"]]
    return plan


def inventory_cluster(name, distribution, nodes, region="eu-west", **cluster_vars):
    """One cluster as the inventory reader hands it to ``plan_mesh``.

    ``nodes``: (host, ip, role) or (host, ip, role, ip_v6) tuples; ``cluster_vars``: more
    ``edgemesh_*``/``cilium_*`` variables of the cluster's group.
    """
    cvars = {
        "edgemesh_cluster_name": name,
        "edgemesh_region": region,
        "edgemesh_distribution": distribution,
    }
    cvars.update(cluster_vars)
    return {
        "group": "cluster_" + name.replace("-", "_"),
        "vars": cvars,
        "nodes": [
            dict(host=n[0], ip=n[1], role=n[2], **({"ip_v6": n[3]} if len(n) > 3 else {}))
            for n in nodes
        ],
    }

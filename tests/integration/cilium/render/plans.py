# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plans the chart render tests use, made by the real planner (mesh_planner.plan_mesh).

Each scenario is planner input in the form of docs/contracts.md (clusters as
``clusters_from_inventory`` gives them, mesh-wide ``edgemesh_*`` settings); the example mesh
is read from inventories/example with ``ansible-inventory --list``. ``render`` names the
clusters to render (all, except in the 511-cluster mesh).
"""

import json
import os
import pathlib
import subprocess
import sys

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (
    clusters_from_inventory,
    plan_mesh,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]


def _node(host, ip, role, ip_v6=""):
    return {"host": host, "ip": ip, "ip_v6": ip_v6, "role": role}


def _cluster(name, nodes, distribution="k3s", cilium=None, region="r1"):
    entry = {
        "group": "cluster_" + name.replace("-", "_"),
        "vars": {
            "edgemesh_cluster_name": name,
            "edgemesh_region": region,
            "edgemesh_distribution": distribution,
        },
        "nodes": nodes,
    }
    if cilium:
        entry["cilium"] = cilium
    return entry


def example_mesh():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    out = subprocess.run(
        [exe, "-i", str(ROOT / "inventories" / "example"), "--list"],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    clusters = clusters_from_inventory(json.loads(out))
    # the mesh-wide settings (group_vars/all) as every cluster's hosts see them; the test
    # sets the Cilium version as an extra var would, for the whole mesh
    settings = dict(clusters[0].get("settings") or {})
    for cluster in clusters:
        cluster.pop("settings", None)
    return clusters, settings


def single_node():
    """Edge boxes: one node each (a k3s server; a kubeadm control plane, tainted)."""
    return [
        _cluster("edge-a", [_node("edge-a-1", "192.0.2.11", "server")]),
        _cluster("edge-b", [_node("edge-b-1", "192.0.2.21", "server")], "kubeadm"),
    ], {}


def dual_stack():
    def nodes(n, i):
        return [
            _node("%s-1" % n, "192.0.2.%d1" % i, "server", "2001:db8:%d::1" % i),
            _node("%s-2" % n, "192.0.2.%d2" % i, "agent", "2001:db8:%d::2" % i),
        ]

    settings = {
        "edgemesh_pod_cidr_pool_v6": ["fd10::/48"],
        "edgemesh_service_cidr_pool_v6": ["fd20::/108"],
    }
    return [_cluster("ds-a", nodes("ds-a", 1)), _cluster("ds-b", nodes("ds-b", 2))], settings


def native_routing():
    opts = {"routing_mode": "native", "auto_direct_node_routes": True}

    def nodes(n, i):
        return [
            _node("%s-1" % n, "192.0.2.%d1" % i, "server"),
            _node("%s-2" % n, "192.0.2.%d2" % i, "agent"),
        ]

    return [
        _cluster("nr-a", nodes("nr-a", 1), cilium=opts),
        _cluster("nr-b", nodes("nr-b", 2), "kubeadm", cilium=opts),
    ], {}


LB_ADDRESSES = {"lb-a": "198.51.100.10", "lb-b": "198.51.100.20"}


def loadbalancer():
    opts = {"clustermesh_addresses": dict(LB_ADDRESSES)}

    def nodes(n, i):
        return [
            _node("%s-%d" % (n, k), "192.0.2.%d%d" % (i, k), ("server" if k == 1 else "agent"))
            for k in (1, 2, 3)
        ]

    return [
        _cluster("lb-a", nodes("lb-a", 1), cilium=opts),
        _cluster("lb-b", nodes("lb-b", 2), cilium=opts),
    ], {}


def clusters_511():
    clusters = [
        _cluster(
            "m%03d" % i,
            [_node("m%03d-1" % i, "10.255.%d.%d" % (i // 200, i % 200 + 1), "server")],
        )
        for i in range(1, 512)
    ]
    settings = {
        "edgemesh_max_connected_clusters": 511,
        "edgemesh_pod_cidr_prefix": 20,
        "edgemesh_service_cidr_prefix": 24,
        "edgemesh_reserved_cidrs": ["10.255.0.0/16"],
    }
    return clusters, settings


# name -> (planner input, clusters to render: None = all)
SCENARIOS = {
    "example": (example_mesh, None),
    "single-node": (single_node, None),
    "dual-stack": (dual_stack, None),
    "native-routing": (native_routing, None),
    "loadbalancer": (loadbalancer, None),
    "511-clusters": (clusters_511, ("m001", "m511")),
}


def make_plan(scenario, version):
    """(plan, cluster names to render) of a scenario for one Cilium version."""
    build, render = SCENARIOS[scenario]
    clusters, settings = build()
    settings = dict(settings, edgemesh_cilium_version=version)
    plan = plan_mesh(clusters, settings, None)["plan"]
    names = [c["name"] for c in plan["clusters"]]
    return plan, list(render) if render else names

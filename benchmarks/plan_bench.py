#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time the mesh planner on 64, 255 and 511 clusters of 20 nodes each.

Run from the repository root: ``python benchmarks/plan_bench.py`` (``make bench``).
Prints, per size, the best of several runs of plan_mesh alone and of plan_mesh followed by
render_artifacts, then the 511/64 ratio of the planner time (n log n growth predicts about
8 * log(511)/log(64) = 12; quadratic growth would give 64).
"""

import math
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_artifacts import (  # noqa: E402
    render_artifacts,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import (  # noqa: E402
    plan_mesh,
)

NODES = 20
SIZES = (64, 255, 511)
SETTINGS = {
    "edgemesh_max_connected_clusters": 511,
    "edgemesh_pod_cidr_prefix": 17,
    "edgemesh_service_cidr_prefix": 21,
}


def inventory(count, nodes=NODES):
    clusters = []
    for i in range(count):
        members = []
        for j in range(nodes):
            serial = i * nodes + j
            ip = "100.%d.%d.%d" % (64 + serial // 65536, (serial // 256) % 256, serial % 256)
            members.append(
                {"host": "c%03d-n%02d" % (i, j), "ip": ip, "role": "server" if j < 3 else "agent"}
            )
        clusters.append(
            {
                "group": "cluster_c%03d" % i,
                "vars": {
                    "edgemesh_cluster_name": "c%03d" % i,
                    "edgemesh_region": "region-%d" % (i % 8),
                    "edgemesh_distribution": "kubeadm" if i % 3 == 0 else "k3s",
                },
                "nodes": members,
            }
        )
    return clusters


def best_of(func, repeat):
    """Best CPU time (process_time) of ``repeat`` runs.

    CPU time, not wall time: the planner is single-threaded, and on a machine shared with
    other jobs the wall time mostly measures the neighbours.
    """
    times = []
    for dummy in range(repeat):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return min(times)


def main():
    results = {}
    print(
        "CPU seconds, best of 5 (render: of 2)\nclusters  nodes  plan_s    replan_with_state_s  plan+render_s"
    )
    for size in SIZES:
        clusters = inventory(size)
        plan_time = best_of(lambda: plan_mesh(clusters, SETTINGS, None), 5)
        first = plan_mesh(clusters, SETTINGS, None)
        plan, state = first["plan"], first["state"]
        replan_time = best_of(lambda: plan_mesh(clusters, SETTINGS, state), 5)
        render_time = best_of(lambda: render_artifacts(plan, {}), 2)
        results[size] = plan_time
        print(
            "%-8d  %-5d  %-8.3f  %-19.3f  %.3f"
            % (size, size * NODES, plan_time, replan_time, plan_time + render_time)
        )
    ratio = results[511] / results[64]
    nlogn = (511 * math.log(511)) / (64 * math.log(64))
    print(
        "ratio 511/64 (planner): %.1f  (n log n predicts %.1f, n^2 predicts %.1f)"
        % (ratio, nlogn, (511 / 64.0) ** 2)
    )
    target = results[511] < 1.0
    print(
        "511 clusters planned in %.3f s: %s the 1 s target"
        % (results[511], "within" if target else "OVER")
    )
    return 0 if target else 1


if __name__ == "__main__":
    sys.exit(main())

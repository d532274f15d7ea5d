#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time ``ansible-playbook playbooks/plan.yml`` end to end on generated inventories.

Run from the repository root: ``python benchmarks/plan_e2e_bench.py [CLUSTERS ...]``
(default 64, 255 and 511 clusters, ``--nodes`` per cluster, default 20). For each size it
writes an inventory (hosts.yml + group_vars) into a temporary directory, runs plan.yml
twice (first run writes every file; second run must report changed=0) and prints the wall
times, the split inside the mesh_plan task (inventory read, plan, render, write) and the
ratio second/first. Targets: 511 clusters end to end in at most 12 s on a 2-core machine,
and an unchanged re-run no slower than the first run.
"""

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def write_inventory(directory, clusters, nodes):
    lines = [
        "---",
        "all:",
        "  hosts:",
        "    localhost:",
        "      ansible_connection: local",
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"',
        "  children:",
        "    edgemesh_clusters:",
        "      children:",
    ]
    for i in range(clusters):
        name = "c%03d" % i
        lines += [
            "        cluster_%s:" % name,
            "          vars:",
            "            edgemesh_cluster_name: %s" % name,
            "            edgemesh_region: region-%d" % (i % 8),
            "            edgemesh_distribution: %s" % ("kubeadm" if i % 3 == 0 else "k3s"),
            "          hosts:",
        ]
        for j in range(nodes):
            serial = i * nodes + j
            ip = "100.%d.%d.%d" % (64 + serial // 65536, (serial // 256) % 256, serial % 256)
            lines.append("            %s-n%02d:" % (name, j))
            lines.append("              ansible_host: %s" % ip)
            if j == 0:
                lines.append("              edgemesh_node_role: server")
    with open(os.path.join(directory, "hosts.yml"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.makedirs(os.path.join(directory, "group_vars", "all"))
    big = clusters > 255
    with open(os.path.join(directory, "group_vars", "all", "mesh.yml"), "w") as handle:
        handle.write(
            "---\n"
            'edgemesh_cilium_version: "1.19.6"\n'
            "edgemesh_max_connected_clusters: %d\n"
            "edgemesh_pod_cidr_prefix: %d\n"
            "edgemesh_service_cidr_prefix: %d\n"
            % (511 if big else 255, 17 if big else 16, 21 if big else 20)
        )


def run_plan(inventory, output):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [
            os.path.join(BIN, "ansible-playbook"),
            "-i",
            inventory,
            os.path.join(ROOT, "playbooks", "plan.yml"),
            "-e",
            "edgemesh_output_dir=%s" % output,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    recap = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+).*failed=(\d+)", proc.stdout)
    flat = " ".join(proc.stdout.split())
    split = re.search(
        r"seconds: (inventory [0-9.]+, plan [0-9.]+, render [0-9.]+, write [0-9.]+)", flat
    )
    if proc.returncode != 0 or not recap or not split:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit("plan.yml failed (rc %d)" % proc.returncode)
    return elapsed, cpu, int(recap.group(2)), split.group(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clusters", nargs="*", type=int, default=[64, 255, 511])
    parser.add_argument("--nodes", type=int, default=20)
    args = parser.parse_args()
    print("wall seconds (CPU seconds of ansible-playbook and its children)")
    print("clusters  nodes  first_run       second_run      2nd/1st  second_changed  files")
    worst = worst_cpu = 0.0
    ratios = []
    print("load average before: %.1f %.1f %.1f" % os.getloadavg())
    for count in args.clusters:
        work = tempfile.mkdtemp(prefix="plan-e2e-")
        try:
            inventory = os.path.join(work, "inventory")
            os.makedirs(inventory)
            write_inventory(inventory, count, args.nodes)
            output = os.path.join(work, "build")
            first, first_cpu, dummy, split1 = run_plan(inventory, output)
            second, second_cpu, changed, split2 = run_plan(inventory, output)
            files = sum(len(names) for dummy, dummy2, names in os.walk(output))
            ratios.append(second / first)
            print(
                "%-8d  %-5d  %-14s  %-14s  %-7.2f  %-14d  %d"
                % (
                    count,
                    count * args.nodes,
                    "%.1f (%.1f)" % (first, first_cpu),
                    "%.1f (%.1f)" % (second, second_cpu),
                    second / first,
                    changed,
                    files,
                )
            )
            print("          inside mesh_plan, first run: %s; second run: %s" % (split1, split2))
            if changed:
                raise SystemExit("second run changed %d task(s): not idempotent" % changed)
            if count >= 511:
                worst = max(worst, first, second)
                worst_cpu = max(worst_cpu, first_cpu, second_cpu)
        finally:
            shutil.rmtree(work)
    if worst:
        print(
            "511 clusters end to end: %.1f s wall, %.1f s CPU (%s the 12 s target; load "
            "average after: %.1f)"
            % (worst, worst_cpu, "within" if worst <= 12 else "wall OVER", os.getloadavg()[0])
        )
    if ratios:
        print(
            "unchanged re-run / first run: %s (target: at most 1.0)"
            % ", ".join("%.2f" % r for r in ratios)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

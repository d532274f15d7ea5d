#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time our node_prep role against k3s-ansible's ``prereq`` role on the same kind of hosts.

Run from the repository root::

    python benchmarks/node_prep_bench.py /tmp/k3s-ansible [--cycles 3] [--hosts 2]

The argument is a checkout of k3s-ansible (https://github.com/k3s-io/k3s-ansible); its
code is only read and run from there, never copied into this repository. Without one,
the script says how to get one and exits 2.

Each cycle boots fresh Debian 12 systemd test hosts with the Molecule helpers
(tests/hosts/create.yml, the image of tests/hosts/build-image.sh): ``--hosts`` for prereq
and as many for node_prep. node_prep's hosts get the ready kernel config of
molecule/node_prep/prepare.yml and the role variables of molecule/node_prep/molecule.yml
(the containers share this machine's kernel). Then, for each role, three timed
``ansible-playbook`` runs: first run, re-run, ``--check`` (interleaved: both roles'
first runs, then both re-runs, then both checks); prereq as k3s-ansible runs it
(``gather_facts: true``), node_prep as playbooks/prepare.yml does (``gather_facts:
false``). Both use one ansible.cfg. The hosts are destroyed after every cycle.

Prints the median of each run over the cycles, the ratios node_prep / prereq and whether
they are within the targets of issue 14 (re-run and check <= 1.2, first run <= 2.5).
A benchmark script, not a timed test: wall times depend on the machine's load.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
SCENARIO = "nodeprep-bench"
RUNS = ("first", "re-run", "check")
TARGETS = {"first": 2.5, "re-run": 1.2, "check": 1.2}
HOW_TO_GET = """k3s-ansible checkout not found at %r (no roles/prereq/tasks/main.yml there).
Get one (read-only; never commit its code), e.g. with the search tool's `fetch` of
github:k3s-io/k3s-ansible, then:
    mkdir -p /tmp/k3s-ansible
    git --git-dir=<fetched git dir> archive HEAD | tar -x -C /tmp/k3s-ansible
or where GitHub is reachable:
    git clone --depth 1 https://github.com/k3s-io/k3s-ansible /tmp/k3s-ansible
and run: python benchmarks/node_prep_bench.py /tmp/k3s-ansible"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("k3s_ansible", nargs="?", default=os.environ.get("K3S_ANSIBLE", ""))
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--hosts", type=int, default=2, help="hosts per role")
    parser.add_argument("--image", default="localhost/edgemesh-debian12")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    return parser.parse_args()


def write_setup(work, k3s, hosts, image):
    """ansible.cfg, inventory, the two plays and molecule-shaped create/destroy input."""
    with open(os.path.join(ROOT, "molecule", "node_prep", "molecule.yml")) as handle:
        scenario = yaml.safe_load(handle)
    node_vars = scenario["provisioner"]["inventory"]["group_vars"]["node_prep_hosts"]
    node_vars = json.loads(json.dumps(node_vars).replace("${MOLECULE_EPHEMERAL_DIRECTORY}", work))
    prereq = ["bench-prereq-%d" % i for i in range(1, hosts + 1)]
    ours = ["bench-nodeprep-%d" % i for i in range(1, hosts + 1)]
    # Connection variables per group: the implicit localhost (create/destroy) stays local.
    podman = {
        "ansible_connection": "containers.podman.podman",
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    inventory = {
        "all": {
            "children": {
                "k3s_cluster": {
                    "vars": podman,
                    "children": {
                        "server": {"hosts": {prereq[0]: {}}},
                        "agent": {"hosts": dict((h, {}) for h in prereq[1:])},
                    },
                },
                "node_prep_hosts": {
                    "hosts": dict((h, {}) for h in ours),
                    "vars": dict(podman, **node_vars),
                },
            },
        }
    }
    files = {
        "inventory.yml": yaml.safe_dump(inventory),
        "ansible.cfg": "\n".join(
            [
                "[defaults]",
                "collections_path = %s" % os.path.join(ROOT, ".collections"),
                "roles_path = %s" % os.path.join(k3s, "roles"),
                "inventory = %s" % os.path.join(work, "inventory.yml"),
                "host_key_checking = False",
                "interpreter_python = auto_silent",
                "stdout_callback = ansible.builtin.default",
                "forks = 10",
                "",
            ]
        ),
        "prereq.yml": yaml.safe_dump(
            [
                {
                    "name": "k3s-ansible prereq (as its site.yml runs it)",
                    "hosts": "k3s_cluster",
                    "gather_facts": True,
                    "become": True,
                    "roles": [{"role": "prereq"}],
                }
            ]
        ),
        "node_prep.yml": yaml.safe_dump(
            [
                {
                    "name": "edgemesh node_prep (as playbooks/prepare.yml runs it)",
                    "hosts": "node_prep_hosts",
                    "gather_facts": False,
                    "become": True,
                    "roles": [{"role": "edgemesh.cluster_mesh.node_prep"}],
                }
            ]
        ),
        "molecule.json": json.dumps(
            {
                "molecule_yml": {
                    "scenario": {"name": SCENARIO},
                    "platforms": [{"name": h, "image": image, "groups": []} for h in prereq + ours],
                }
            }
        ),
    }
    for name, text in files.items():
        with open(os.path.join(work, name), "w") as handle:
            handle.write(text)


def playbook(work, args, log, check=True):
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(work, "ansible.cfg"),
        CONTAINERS_CONF=os.path.join(ROOT, "tests", "hosts", "containers.conf"),
        ANSIBLE_FORCE_COLOR="0",
    )
    command = [os.path.join(BIN, "ansible-playbook")] + args
    start = time.monotonic()
    with open(os.path.join(work, log), "w") as out:
        proc = subprocess.run(
            command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    elapsed = time.monotonic() - start
    with open(os.path.join(work, log)) as handle:
        text = handle.read()
    if check and proc.returncode != 0:
        sys.stderr.write(text[-6000:])
        raise SystemExit("node_prep_bench: %s failed (log %s)" % (" ".join(args), log))
    changed = sum(int(n) for n in re.findall(r"\bchanged=(\d+)", text))
    return elapsed, changed


def cycle(work, number, results):
    hosts_dir = os.path.join(ROOT, "tests", "hosts")
    extra = ["-e", "@" + os.path.join(work, "molecule.json")]
    playbook(work, [os.path.join(hosts_dir, "destroy.yml")] + extra, "destroy-before.log")
    try:
        playbook(work, [os.path.join(hosts_dir, "create.yml")] + extra, "create-%d.log" % number)
        prepare = os.path.join(ROOT, "molecule", "node_prep", "prepare.yml")
        playbook(work, [prepare], "prepare-%d.log" % number)
        # Interleaved (prereq first, node_prep first, prereq re-run, ...) so that both
        # roles meet the same load of the machine.
        for run in RUNS:
            for role in ("prereq", "node_prep"):
                args = [role + ".yml"] + (["--check"] if run == "check" else [])
                elapsed, changed = playbook(work, args, "%s-%s-%d.log" % (role, run, number))
                results[(role, run)].append(elapsed)
                print(
                    "cycle %d  %-9s %-6s %6.1f s  changed=%d"
                    % (number, role, run, elapsed, changed),
                    flush=True,
                )
    finally:
        playbook(work, [os.path.join(hosts_dir, "destroy.yml")] + extra, "destroy-%d.log" % number)


def report(results):
    print("\nmedian over %d cycle(s)" % min(len(times) for times in results.values()))
    print("%-8s %10s %10s %8s %8s" % ("run", "prereq s", "node_prep", "ratio", "target"))
    ok = True
    for run in RUNS:
        theirs = statistics.median(results[("prereq", run)])
        ours = statistics.median(results[("node_prep", run)])
        ratio = ours / theirs
        within = ratio <= TARGETS[run]
        ok = ok and within
        print(
            "%-8s %10.1f %10.1f %8.2f %7s%s"
            % (run, theirs, ours, ratio, "<=%.1f" % TARGETS[run], "" if within else "  MISSED")
        )
    print("all ratios within target" if ok else "some ratio misses its target")


def main():
    args = parse_args()
    k3s = os.path.abspath(args.k3s_ansible) if args.k3s_ansible else ""
    if not k3s or not os.path.isfile(os.path.join(k3s, "roles", "prereq", "tasks", "main.yml")):
        print(HOW_TO_GET % (args.k3s_ansible or ""), file=sys.stderr)
        return 2
    subprocess.run([os.path.join(ROOT, "tests", "hosts", "build-image.sh"), "debian12"], check=True)
    work = tempfile.mkdtemp(prefix="node-prep-bench-")
    results = dict(((role, run), []) for role in ("prereq", "node_prep") for run in RUNS)
    try:
        write_setup(work, k3s, args.hosts, args.image)
        try:
            for number in range(1, args.cycles + 1):
                cycle(work, number, results)
        except KeyboardInterrupt:
            # The hosts of the cycle were destroyed (cycle's finally); report what ran.
            print("interrupted: the medians cover the completed runs only", flush=True)
        if all(results.values()):
            report(results)
    finally:
        if args.keep:
            print("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

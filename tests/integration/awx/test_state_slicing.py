# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX job slicing against the real job playbooks and a real file_store state backend.

Under job slicing AWX runs one job template as several jobs at once, each with an inventory
holding only its share of the hosts, in the same groups (AWX user guide, "Job Slicing":
each slice job's ansible-playbook gets a shortened copy of the inventory with only that
slice's hosts). ``awx_slice`` below EMULATES that split (every n-th host of the sorted
names, groups and variables kept); everything else is real: playbooks/awx/*.yml under
ansible-playbook, the mesh_state module, one JSON state store file shared by the jobs (what
a volume mounted into every execution environment gives), and jobs started as separate
processes at the same time.

The nodes are inventory hosts with ``ansible_connection: local``: the plan and state plays
run on the control node; prepare runs in check mode (node_prep_report_only, so this
machine's kernel decides nothing). What k3s would write at the end of a bootstrap (the
cluster's kubeconfig and join token in the output directory) is written by the test, a
stand-in for a k3s that cannot run here.
"""

import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = pathlib.Path(sys.executable).parent
AWX = ROOT / "playbooks" / "awx"
LOCAL = {
    "ansible_connection": "local",
    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
}
# cluster -> (distribution, region, [(host, address, role)])
MESH = {
    "core": (
        "k3s",
        "eu-west",
        [
            ("core-1", "192.0.2.11", "server"),
            ("core-2", "192.0.2.12", "agent"),
            ("core-3", "192.0.2.13", "agent"),
        ],
    ),
    "edge-a": ("k3s", "eu-west", [("edge-a", "198.51.100.21", "server")]),
    "edge-b": ("k3s", "us-east", [("edge-b", "198.51.100.22", "server")]),
    "dc": (
        "kubeadm",
        "us-east",
        [("dc-1", "203.0.113.31", "server"), ("dc-2", "203.0.113.32", "agent")],
    ),
}
HOSTS = sorted(h for dist, region, nodes in MESH.values() for h, ip, role in nodes)


def inventory(path, keep=None):
    """The mesh inventory, or (keep) a slice of it: the same groups, only those hosts."""
    children = {}
    for name, (distribution, region, nodes) in MESH.items():
        hosts = {
            h: {"ansible_host": ip, "edgemesh_node_role": role}
            for h, ip, role in nodes
            if keep is None or h in keep
        }
        children["cluster_" + name.replace("-", "_")] = {
            "vars": {
                "edgemesh_cluster_name": name,
                "edgemesh_region": region,
                "edgemesh_distribution": distribution,
            },
            "hosts": hosts,
        }
    doc = {
        "all": {
            "hosts": {"localhost": dict(LOCAL)},
            "children": {"edgemesh_clusters": {"vars": dict(LOCAL), "children": children}},
        }
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def awx_slice(number, count):
    """EMULATION of AWX's split: slice `number` of `count` gets every count-th host."""
    return HOSTS[number - 1 :: count]


def start(playbook, inv, out, store, *extra):
    """One job: ansible-playbook in its own process (the caller waits, so jobs overlap)."""
    argv = [str(BIN / "ansible-playbook"), "-i", str(inv), str(playbook)]
    argv += ["-e", "edgemesh_output_dir=%s" % out, "-e", "edgemesh_state_backend=file_store"]
    argv += ["-e", "edgemesh_state_store=%s" % store] + list(extra)
    env = {"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=dict(os.environ, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(*jobs):
    """Wait for jobs started together: [(returncode, output)]."""
    return [(job.wait(timeout=600), job.stdout.read()) for job in jobs]


def run(playbook, inv, out, store, *extra):
    return finish(start(playbook, inv, out, store, *extra))[0]


def stored(store):
    doc = json.loads(store.read_text())
    return doc["version"], doc["data"]


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The plan job (playbooks/awx/plan.yml) once, on the whole inventory: a store holding
    mesh-state.json and plan.json. Each test works on its own copy of that store file."""
    base = tmp_path_factory.mktemp("planned")
    store = base / "store" / "state.json"
    store.parent.mkdir()
    code, output = run(AWX / "plan.yml", inventory(base / "mesh.yml"), base / "plan-job", store)
    assert code == 0, output
    version, data = stored(store)
    assert version == 1 and sorted(data) == ["mesh-state.json", "plan.json"]
    return store


@pytest.fixture
def store(planned, tmp_path):
    copy = tmp_path / "shared" / "state.json"
    copy.parent.mkdir()
    copy.write_bytes(planned.read_bytes())
    copy.chmod(0o600)
    return copy


def pull_for(tmp_path, store, name, hosts, scope):
    """A slice job's first play - state_pull.yml as bootstrap.yml imports it (the stored
    plan, inventory scope) - started; returns (job, output dir, inventory)."""
    inv = inventory(tmp_path / ("%s.yml" % name), keep=hosts)
    out = tmp_path / name
    job = start(
        AWX / "state_pull.yml",
        inv,
        out,
        store,
        "-e",
        "__awx_need_plan=true",
        "-e",
        "__awx_inventory_scope=%s" % scope,
    )
    return job, out, inv


def bootstrapped(out, cluster, text):
    """Stand-in for k3s: the files a bootstrap writes for a later job (0600)."""
    (out / cluster).mkdir(exist_ok=True)
    for name, content in (
        ("kubeconfig", "apiVersion: v1\n# %s\n" % text),
        ("k3s-token", text + "\n"),
    ):
        path = out / cluster / name
        path.write_text(content)
        path.chmod(0o600)


def test_a_sliced_prepare_runs_on_the_stored_plan_and_leaves_the_store_untouched(store, tmp_path):
    before = digest(store)
    one, two = awx_slice(1, 2), awx_slice(2, 2)
    assert len(one) + len(two) == len(HOSTS) and len(one) == 4  # half the hosts each
    jobs = [
        start(
            AWX / "prepare.yml",
            inventory(tmp_path / ("slice%d.yml" % n), keep=hosts),
            tmp_path / ("slice%d" % n),
            store,
            "--check",
            "-e",
            "node_prep_report_only=true",
        )
        for n, hosts in ((1, one), (2, two))
    ]
    for (code, output), hosts in zip(finish(*jobs), (one, two)):
        assert code == 0, output
        recap = re.findall(r"^(\S+)\s+: ok=", output.split("PLAY RECAP", 1)[1], re.M)
        assert sorted(recap) == sorted(hosts + ["localhost"]), output
        # node_prep read this slice's clusters from the stored plan
        assert "Plan the mesh" not in output
    assert digest(store) == before  # plan.json and mesh-state.json byte-identical, untouched
    # what the old wrappers did - plan again, on the slice - cannot give the stored plan
    replan = run(ROOT / "playbooks" / "plan.yml", tmp_path / "slice1.yml", tmp_path / "re", store)
    assert replan[0] != 0 and "cluster group 'cluster_edge_a'" in replan[1], replan[1]


def test_two_bootstrap_slices_push_at_once_and_leave_plan_and_state_byte_identical(store, tmp_path):
    version, before = stored(store)
    pulls = [pull_for(tmp_path, store, name, [name], "clusters") for name in ("edge-a", "edge-b")]
    for code, output in finish(*[job for job, out, inv in pulls]):
        assert code == 0, output
    for job, out, inv in pulls:
        assert (out / "plan.json").read_text() == before["plan.json"]
        bootstrapped(out, out.name, "token of %s" % out.name)
        # a stale re-plan in the slice's directory, as the old wrapper made: never pushed
        plan = json.loads((out / "plan.json").read_text())
        plan["clusters"] = [c for c in plan["clusters"] if c["name"] == out.name]
        (out / "plan.json").write_text(json.dumps(plan))
    pushes = [start(AWX / "state_push.yml", inv, out, store) for job, out, inv in pulls]
    for code, output in finish(*pushes):
        assert code == 0, output
    after_version, after = stored(store)
    assert after_version == version + 2
    assert after["plan.json"] == before["plan.json"]  # byte-identical
    assert after["mesh-state.json"] == before["mesh-state.json"]
    assert sorted(after) == sorted(
        list(before)
        + ["k3s-token.edge-a", "k3s-token.edge-b", "kubeconfig.edge-a", "kubeconfig.edge-b"]
    )
    assert after["k3s-token.edge-b"] == "token of edge-b\n"


def test_two_writers_of_one_key_at_once_exactly_one_is_refused(store, tmp_path):
    (tmp_path / "other").mkdir()
    pulls = [pull_for(tmp_path, store, "edge-a", ["edge-a"], "clusters")]
    pulls.append(pull_for(tmp_path / "other", store, "edge-a", ["edge-a"], "clusters"))
    for code, output in finish(*[job for job, out, inv in pulls]):
        assert code == 0, output
    for n, (job, out, inv) in enumerate(pulls):
        bootstrapped(out, "edge-a", "writer %d" % n)
    pushes = [start(AWX / "state_push.yml", inv, out, store) for job, out, inv in pulls]
    results = finish(*pushes)
    codes = [code for code, output in results]
    assert sorted(code == 0 for code in codes) == [False, True], results
    winner, loser = (0, 1) if codes[0] == 0 else (1, 0)
    text = " ".join(results[loser][1].split())
    assert (
        "key 'k3s-token.edge-a' was changed by someone else since this job pulled it" in text
        or (
            "keys 'k3s-token.edge-a', 'kubeconfig.edge-a' were changed by someone else since this "
            "job pulled it" in text
        )
    ), (text)
    assert "nothing was written" in text and "Traceback" not in text
    version, data = stored(store)
    assert version == 2 and data["k3s-token.edge-a"] == "writer %d\n" % winner


def test_jobs_refuse_without_a_plan_or_on_a_slice_they_cannot_run(store, tmp_path):
    before = digest(store)
    empty = tmp_path / "empty" / "state.json"
    empty.parent.mkdir()
    full = inventory(tmp_path / "mesh.yml")
    jobs = [
        start(AWX / "prepare.yml", full, tmp_path / "no-plan", empty, "--check"),
        start(
            AWX / "bootstrap.yml",
            inventory(tmp_path / "s1.yml", awx_slice(1, 2)),
            tmp_path / "b",
            store,
        ),
        start(
            AWX / "cilium.yml", inventory(tmp_path / "ea.yml", ["edge-a"]), tmp_path / "c", store
        ),
    ]
    no_plan, split, partial = [(code, " ".join(output.split())) for code, output in finish(*jobs)]
    assert no_plan[0] != 0 and (
        "state store %s holds no plan: launch the edgemesh plan job first" % empty in no_plan[1]
    ), no_plan[1]
    assert not empty.exists()  # nothing was written to the store
    assert split[0] != 0 and (
        "this job bootstraps whole clusters, but its inventory holds only part of core (2 of its "
        "3 nodes), dc (1 of its 2 nodes)" in split[1]
    ), split[1]
    assert partial[0] != 0 and (
        "this job acts on every cluster of the plan, but its inventory lacks 6 of the plan's 7 "
        "nodes" in partial[1]
    ), partial[1]
    for code, text in (no_plan, split, partial):
        assert "Traceback" not in text
        assert "PLAY [Initialise the k3s clusters]" not in text  # stopped in the pull
    assert digest(store) == before

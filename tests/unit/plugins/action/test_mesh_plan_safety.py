# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/plan.yml run for real by ansible-playbook (issue 13): a typo, a cluster gone
from the inventory, a lost state file and a mesh-wide setting in one cluster's group_vars
are refused with one message, before anything is written; the explicit ways out
(edgemesh_allow_unknown_vars, edgemesh_remove_clusters, edgemesh_state_rebuild) plan."""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[4]
PLAYBOOK = str(pathlib.Path(sys.executable).parent / "ansible-playbook")
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")

HOSTS = """
all:
  children:
    edgemesh_clusters:
      children:
        cluster_a:
          hosts:
            a1: {ansible_host: 192.0.2.1, edgemesh_node_role: server}
        cluster_b:
          hosts:
            b1: {ansible_host: 192.0.2.2, edgemesh_node_role: server}
        cluster_c:
          hosts:
            c1: {ansible_host: 192.0.2.3, edgemesh_node_role: server}
"""


def inventory(tmp_path, drop=None):
    text = HOSTS
    if drop:
        lines = text.splitlines()
        start = lines.index("        %s:" % drop)
        text = "\n".join(lines[:start] + lines[start + 3 :]) + "\n"
    (tmp_path / "hosts.yml").write_text(text)
    group_vars = tmp_path / "group_vars"
    group_vars.mkdir(exist_ok=True)
    for name in "abc":
        (group_vars / ("cluster_%s.yml" % name)).write_text(
            "edgemesh_cluster_name: %s\nedgemesh_region: eu\n" % name
        )
    return group_vars


def plan(tmp_path, *extra):
    argv = [PLAYBOOK, "-i", str(tmp_path / "hosts.yml"), str(ROOT / "playbooks" / "plan.yml")]
    argv += ["-e", "edgemesh_output_dir=%s" % (tmp_path / "build")]
    for item in extra:
        argv += ["-e", json.dumps(item)]
    result = subprocess.run(argv, capture_output=True, text=True, env=ENV, cwd=ROOT, check=False)
    return result.returncode, result.stdout + result.stderr


def files(tmp_path):
    build = tmp_path / "build"
    return dict(
        (str(p.relative_to(build)), p.read_bytes()) for p in build.rglob("*") if p.is_file()
    )


def state(tmp_path):
    return json.loads((tmp_path / "build" / "mesh-state.json").read_text())["clusters"]


def test_a_typo_is_refused_before_anything_is_written(tmp_path):
    group_vars = inventory(tmp_path)
    with open(group_vars / "cluster_b.yml", "a") as handle:
        handle.write("edgemesh_distrbution: kubeadm\n")
    rc, out = plan(tmp_path)
    assert rc != 0
    assert "unknown variable 'edgemesh_distrbution' (set for group cluster_b)" in out
    assert "did you mean 'edgemesh_distribution'" in out
    assert not (tmp_path / "build" / "plan.json").exists()
    rc, out = plan(tmp_path, {"edgemesh_allow_unknown_vars": ["edgemesh_distrbution"]})
    assert rc == 0, out


def test_removed_cluster_and_lost_state(tmp_path):
    inventory(tmp_path)
    rc, out = plan(tmp_path)
    assert rc == 0, out
    first = state(tmp_path)
    before = files(tmp_path)
    inventory(tmp_path, drop="cluster_b")
    rc, out = plan(tmp_path)
    assert rc != 0
    assert "cluster 'b' is in the state file but not in the inventory" in out
    assert "edgemesh_remove_clusters: ['b']" in out
    assert files(tmp_path) == before
    rc, out = plan(tmp_path, {"edgemesh_remove_clusters": ["b"]})
    assert rc == 0, out
    removed = state(tmp_path)
    assert removed["b"]["active"] is False and removed["b"]["id"] == first["b"]["id"]
    peers = json.loads((tmp_path / "build" / "plan.json").read_text())["clusters"]
    assert all("b" not in c["peers"] for c in peers)
    # The state file is lost: refused while plan.json is there, rebuilt on request.
    (tmp_path / "build" / "mesh-state.json").unlink()
    rc, out = plan(tmp_path)
    assert rc != 0
    flat = " ".join(out.split())
    assert (
        "the state file %s is missing or empty, but earlier artifacts"
        % (tmp_path / "build" / "mesh-state.json")
    ) in flat
    assert "edgemesh_state_rebuild: plan" in out
    assert not (tmp_path / "build" / "mesh-state.json").exists()
    rc, out = plan(tmp_path, {"edgemesh_state_rebuild": "plan"})
    assert rc == 0, out
    assert state(tmp_path) == removed


def test_a_mesh_wide_setting_in_a_clusters_group_vars_is_refused(tmp_path):
    group_vars = inventory(tmp_path)
    with open(group_vars / "cluster_c.yml", "a") as handle:
        handle.write("edgemesh_pod_cidr_pool_v6: [fd00:10::/48]\n")
    rc, out = plan(tmp_path)
    assert rc != 0
    assert "cluster group 'cluster_c': edgemesh_pod_cidr_pool_v6 is" in out
    assert "a per-cluster value is not supported" in out
    assert not (tmp_path / "build").exists() or not files(tmp_path)


def test_files_a_credential_provided_are_no_trace_of_an_earlier_plan(tmp_path):
    """The first AWX plan job: the credential's per-context kubeconfigs and mesh CA are in
    the output directory (playbooks/awx/tasks/credential_files.yml lists them in
    credential-files.json) before any state exists. Listed, they do not stop the plan; the
    same files unlisted are traces of a lost state and do."""
    inventory(tmp_path)
    build = tmp_path / "build"
    (build / "a").mkdir(parents=True)
    (build / "a" / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
    (build / "mesh-ca").mkdir()
    (build / "mesh-ca" / "ca.crt").write_text("pem\n")
    rc, out = plan(tmp_path)
    assert rc != 0 and "earlier artifacts of a mesh exist" in " ".join(out.split())
    listed = [str(build / "a" / "kubeconfig"), str(build / "mesh-ca")]
    (build / "credential-files.json").write_text(json.dumps({"files": listed}))
    rc, out = plan(tmp_path)
    assert rc == 0, out
    assert sorted(state(tmp_path)) == ["a", "b", "c"]
    # Only what is listed is discounted: another cluster's kubeconfig still counts.
    (build / "mesh-state.json").unlink()
    (build / "plan.json").unlink()
    (build / "b").mkdir(exist_ok=True)
    (build / "b" / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
    rc, out = plan(tmp_path)
    assert rc != 0 and str(build / "b" / "kubeconfig") in " ".join(out.split())

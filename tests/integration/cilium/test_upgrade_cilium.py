# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/upgrade_cilium.yml run for real by ansible-playbook against generated plans.

helm is the STAND-IN (tests/integration/stand_ins/helm): its release store holds canned
live Cilium releases (chart cilium-X.Y.Z per cluster), which the playbook reads with
kubernetes.core.helm_info. No Kubernetes API server runs here: the kubeconfigs point at
127.0.0.1:1 (connection refused), so the first task that needs the API - the policy read
or the pre-flight DaemonSet wait - fails. What runs for real: the refusals (skip a minor,
downgrade, no release, unknown target) before any cluster is touched, the order, serial
one-cluster-at-a-time with a stop at the first failure, the pre-flight release installed
and removed again, and the state file left as it was. The helm upgrade, verify and the
state record after a verified cluster need a real cluster (docs/upgrade_cilium.md).
"""

import json
import pathlib

import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_state_schema

ROOT = pathlib.Path(__file__).resolve().parents[3]

ORDER = "cilium-upgrade target="


def canned(runner, versions):
    """The stand-in's release store: one cilium release per cluster (None: no release)."""
    for name, version in versions.items():
        store = {}
        if version:
            store["kube-system/cilium"] = {
                "values": {},
                "summary": {
                    "name": "cilium",
                    "namespace": "kube-system",
                    "status": "deployed",
                    "revision": "1",
                    "chart": "cilium-" + version,
                    "app_version": version,
                },
            }
        (runner.helm_state / (name + ".json")).write_text(json.dumps(store))


def refused_api(tmp_path):
    """Point every kubeconfig at a closed local port (no API server here)."""
    for path in (tmp_path / "kubeconfigs").glob("*.yaml"):
        config = yaml.safe_load(path.read_text())
        config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
        path.write_text(yaml.safe_dump(config))


def mesh(runner, tmp_path, write_mesh, n, version):
    inventory = write_mesh(tmp_path, n, version=version)
    refused_api(tmp_path)
    runner.run("plan.yml", inventory)
    return inventory


def upgrade(runner, inventory, target, *extra):
    proc, log = runner.run(
        "upgrade_cilium.yml",
        inventory,
        "-e",
        "edgemesh_cilium_upgrade_version=" + target,
        *extra,
        check=False,
    )
    return proc, log, proc.stdout + proc.stderr


def touched(log):
    """Contexts of the stand-in's release-changing commands (upgrade -i / uninstall)."""
    return [
        line.split()[0] + " " + line.split()[1]
        for line in log
        if line.split()[1:2] in (["upgrade"], ["uninstall"])
    ]


def test_refusals_before_any_cluster_is_touched(runner, tmp_path, write_mesh):
    inventory = mesh(runner, tmp_path, write_mesh, 3, "1.19.6")
    state = (runner.out / "mesh-state.json").read_bytes()

    canned(runner, {"c01": "1.18.12", "c02": "1.19.6", "c03": "1.19.6"})
    proc, log, out = upgrade(runner, inventory, "1.20.0")
    assert proc.returncode != 0
    assert "cluster c01 runs 1.18.12: 1.20.0 skips a minor after 1.18.12" in out
    assert (
        "upgrade every cluster to 1.19.x first (-e edgemesh_cilium_upgrade_version=1.19.6)" in out
    )
    assert touched(log) == []

    canned(runner, {"c01": "1.19.6", "c02": "1.19.6", "c03": "1.19.5"})
    proc, log, out = upgrade(runner, inventory, "1.18.12")
    assert proc.returncode != 0
    assert "cluster c01 runs 1.19.6: 1.18.12 would downgrade 1.19 to 1.18" in out
    assert touched(log) == []

    canned(runner, {"c01": "1.19.6", "c02": None, "c03": "1.19.6"})
    proc, log, out = upgrade(runner, inventory, "1.19.6")
    assert proc.returncode != 0
    assert "no Cilium release found on cluster(s) c02" in out
    assert touched(log) == []

    canned(runner, {"c01": "1.19.6", "c02": "1.19.6", "c03": "1.19.6"})
    proc, log, out = upgrade(runner, inventory, "1.19.42")
    assert proc.returncode != 0
    assert "'1.19.42' is not a released 1.19 patch" in out
    assert (runner.out / "mesh-state.json").read_bytes() == state


def test_nothing_to_do_when_every_cluster_is_at_the_target(runner, tmp_path, write_mesh):
    inventory = mesh(runner, tmp_path, write_mesh, 2, "1.19.6")
    canned(runner, {"c01": "1.19.6", "c02": "v1.19.6"})
    proc, log, out = upgrade(runner, inventory, "1.19.6")
    assert proc.returncode == 0, out[-4000:]
    assert "cilium-upgrade target=1.19.6 order=none" in out and "skipped=c01,c02" in out
    assert touched(log) == []


def test_order_serial_and_stop_at_the_first_failure(runner, tmp_path, write_mesh):
    # c01 and c03 cross into 1.19 (policy check first), c02 is at the target.
    inventory = mesh(runner, tmp_path, write_mesh, 3, "1.18.12")
    state = (runner.out / "mesh-state.json").read_bytes()
    canned(runner, {"c01": "1.18.12", "c02": "1.19.6", "c03": "1.18.11"})
    proc, log, out = upgrade(runner, inventory, "1.19.6")
    assert "order=c01,c03 c01:1.18.12->1.19.6 c03:1.18.11->1.19.6  skipped=c02" in out
    assert proc.returncode != 0
    # serial: the first cluster failed (its policies cannot be read here); c03 never started
    assert "edgemesh-cilium-upgrade-c01" in out
    assert "edgemesh-cilium-upgrade-c03" not in out
    assert touched(log) == []
    assert (runner.out / "mesh-state.json").read_bytes() == state


def test_patch_upgrade_runs_the_preflight_and_removes_it(runner, tmp_path, write_mesh):
    inventory = mesh(runner, tmp_path, write_mesh, 2, "1.19.6")
    state = (runner.out / "mesh-state.json").read_bytes()
    canned(runner, {"c01": "1.19.5", "c02": "1.19.5"})
    proc, log, out = upgrade(runner, inventory, "1.19.6", "-v")
    assert "order=c01,c02" in out
    assert proc.returncode != 0  # the pre-flight DaemonSet cannot be read here
    assert "Wait until the pre-flight DaemonSet is ready" in out
    # the pre-flight release was installed with the target chart and removed again on c01;
    # the cilium release and c02 were not touched
    assert touched(log) == ["c01 upgrade", "c01 uninstall"]
    assert "cilium-preflight" in [line for line in log if line.startswith("c01 upgrade")][0]
    task = out.split("TASK [Install the pre-flight release]")[1].split("TASK [")[0]
    assert "--version=1.19.6" in task and "cilium-preflight" in task  # the target chart
    store = json.loads((runner.helm_state / "c01.json").read_text())
    assert sorted(store) == ["kube-system/cilium"]
    assert store["kube-system/cilium"]["summary"]["chart"] == "cilium-1.19.5"
    assert (runner.out / "mesh-state.json").read_bytes() == state


def test_record_writes_the_verified_version_through_the_schema_keeping_the_mode(
    runner, tmp_path, write_mesh
):
    # playbooks/tasks/upgrade_cilium_record.yml as upgrade_cilium.yml includes it after a
    # verified cluster (the verify itself needs a real cluster).
    inventory = mesh(runner, tmp_path, write_mesh, 2, "1.18.12")
    state_path = runner.out / "mesh-state.json"
    state_path.chmod(0o640)
    before = json.loads(state_path.read_text())
    playbook = tmp_path / "record.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Record",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {
                        "__edgemesh_out": str(runner.out),
                        "edgemesh_release_cluster": "c02",
                        "edgemesh_upgrade_step": {"cluster": "c02", "target": "1.19.6"},
                    },
                    "tasks": [
                        {
                            "name": "Record",
                            "ansible.builtin.include_tasks": str(
                                ROOT / "playbooks" / "tasks" / "upgrade_cilium_record.yml"
                            ),
                        }
                    ],
                }
            ]
        )
    )
    proc, _log = runner.run(str(playbook), inventory)
    after = json.loads(state_path.read_text())
    assert after["clusters"]["c02"]["cilium_version"] == "1.19.6"
    assert after["clusters"]["c01"] == before["clusters"]["c01"]
    assert oct(state_path.stat().st_mode & 0o777) == "0o640"
    assert state_path.read_text() == mesh_state_schema.dump_state(after)
    proc, _log = runner.run(str(playbook), inventory)
    assert "changed=0" in proc.stdout  # a second record changes nothing

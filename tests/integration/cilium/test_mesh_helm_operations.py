# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helm release operations issued by playbooks/mesh.yml (plan -> cilium) for N clusters.

The pairwise `cilium clustermesh connect` approach costs N(N-1) Helm upgrades for a full
mesh of N clusters; the declarative playbooks must cost exactly N (one per cluster), and
a re-run must cost none. helm is a STAND-IN (tests/integration/stand_ins/helm) that keeps
a release store and logs every command; the counts come both from the playbook's own
output (`helm-operation ... result=...`) and from the stand-in's log.
"""

import base64
import json
import re

import pytest
import yaml

OP_RE = re.compile(r"helm-operation cluster=(\S+) release=\S+ result=(\S+)")


def operations(stdout):
    return sorted(OP_RE.findall(stdout))


def upgrades_in_log(log):
    return sorted(line.split()[0] for line in log if " upgrade " in " %s " % line)


def _dry_run(runner, tmp_path, write_mesh, cluster_name, n, playbook, *extra):
    inventory = write_mesh(tmp_path, n)
    # plan.yml touches no host; it writes build/plan.json, which the later plays read
    runner.run("plan.yml", inventory)
    proc, log = runner.run(playbook, inventory, "--check", *extra)
    ops = operations(proc.stdout)
    names = [cluster_name(i) for i in range(1, n + 1)]
    assert ops == [(name, "upgrade") for name in names]
    assert upgrades_in_log(log) == [], "check mode must not run helm upgrade"
    print(
        "\n%s --check, N=%d clusters: %d Helm release upgrades "
        "(pairwise clustermesh connect: N(N-1)=%d)" % (playbook, n, len(ops), n * (n - 1))
    )


@pytest.mark.parametrize("n", [2, 5, 8])
def test_mesh_dry_run_plans_exactly_n_upgrades(runner, tmp_path, write_mesh, cluster_name, n):
    _dry_run(runner, tmp_path, write_mesh, cluster_name, n, "mesh.yml", "--skip-tags", "verify")


@pytest.mark.parametrize("n", [2, 8])
def test_site_dry_run_plans_exactly_n_upgrades(runner, tmp_path, write_mesh, cluster_name, n):
    # node preparation and bootstrap need the real hosts; their plays are tagged out
    _dry_run(runner, tmp_path, write_mesh, cluster_name, n, "site.yml", "--tags", "plan,cilium")


def _release_values(runner, name):
    with open(runner.helm_state / (name + ".json")) as handle:
        return json.load(handle)["kube-system/cilium"]["values"]


def _peers(values):
    clusters = values["clustermesh"]["config"]["clusters"]
    return sorted(clusters) if isinstance(clusters, dict) else sorted(c["name"] for c in clusters)


def test_real_run_then_rerun_then_add_and_remove_a_cluster(runner, tmp_path, write_mesh):
    # 3 clusters: 3 upgrades
    inventory = write_mesh(tmp_path, 3)
    proc, log = runner.run("mesh.yml", inventory, "--skip-tags", "verify")
    assert upgrades_in_log(log) == ["c01", "c02", "c03"]
    assert operations(proc.stdout) == [("c01", "upgrade"), ("c02", "upgrade"), ("c03", "upgrade")]
    values = dict((name, _release_values(runner, name)) for name in ("c01", "c02", "c03"))
    # one CA, identical on every cluster, issued certificates by certgen
    assert len(set(json.dumps(v["tls"], sort_keys=True) for v in values.values())) == 1
    assert values["c01"]["tls"]["ca"]["key"]
    for name, vals in values.items():
        assert _peers(vals) == sorted({"c01", "c02", "c03"} - {name})
        assert vals["clustermesh"]["apiserver"]["tls"]["auto"]["method"] == "cronJob"
    ports = [v["clustermesh"]["apiserver"]["service"]["nodePort"] for v in values.values()]
    assert len(set(ports)) == 3
    # the CA key appears nowhere in the output
    key_pem = (runner.out / "mesh-ca" / "ca.key").read_text()
    body = [line for line in key_pem.splitlines() if line and "-----" not in line]
    assert body and not any(line in proc.stdout + proc.stderr for line in body)
    assert values["c01"]["tls"]["ca"]["key"] not in proc.stdout + proc.stderr

    # re-run: nothing changes, no helm upgrade at all
    proc, log = runner.run("mesh.yml", inventory, "--skip-tags", "verify")
    assert upgrades_in_log(log) == []
    assert operations(proc.stdout) == [
        ("c01", "unchanged"),
        ("c02", "unchanged"),
        ("c03", "unchanged"),
    ]
    assert re.findall(r"edgemesh-cilium-\S+\s*:.*changed=(\d+)", proc.stdout) == ["0"] * 3

    # add c04: every cluster gets one upgrade (its peer list changes), 4 in all
    inventory = write_mesh(tmp_path, 4)
    proc, log = runner.run("mesh.yml", inventory, "--skip-tags", "verify")
    assert upgrades_in_log(log) == ["c01", "c02", "c03", "c04"]
    for name in ("c01", "c02", "c03"):
        assert "c04" in _peers(_release_values(runner, name))
    # IDs and ports of the existing clusters stay as they were
    for name in ("c01", "c02", "c03"):
        now = _release_values(runner, name)
        assert now["cluster"] == values[name]["cluster"]
        assert (
            now["clustermesh"]["apiserver"]["service"]
            == values[name]["clustermesh"]["apiserver"]["service"]
        )

    # remove c02: the three remaining clusters get one upgrade each; c02 leaves every peer list
    inventory = write_mesh(tmp_path, 0, names=["c01", "c03", "c04"])
    # leaving the inventory on purpose is named (a silently missing group is refused)
    proc, log = runner.run(
        "mesh.yml",
        inventory,
        "--skip-tags",
        "verify",
        "-e",
        '{"edgemesh_remove_clusters": ["c02"]}',
    )
    assert upgrades_in_log(log) == ["c01", "c03", "c04"]
    for name in ("c01", "c03", "c04"):
        assert "c02" not in _peers(_release_values(runner, name))
    state = json.loads((runner.out / "mesh-state.json").read_text())
    assert state["clusters"]["c02"]["active"] is False


def test_values_artifact_matches_the_installed_values(runner, tmp_path, write_mesh):
    """build/<cluster>/cilium-values.yaml (planner) == the installed values minus the CA."""
    inventory = write_mesh(tmp_path, 3)
    runner.run("mesh.yml", inventory, "--skip-tags", "verify")
    for name in ("c01", "c02", "c03"):
        installed = _release_values(runner, name)
        installed.pop("tls")
        assert installed["certgen"].pop("generateCA") is False
        rendered = yaml.safe_load((runner.out / name / "cilium-values.yaml").read_text())
        assert rendered == installed
        assert "tls" not in rendered


def test_preview_bytes_equal_what_the_role_passes_to_helm(runner, tmp_path, write_mesh):
    """Preview = install, byte for byte, also with a control-plane endpoint and options that
    differ per cluster (before: the preview said k8sServiceHost = first server while the
    role installed the endpoint, and cluster-level cilium_* options were ignored).

    The values the cilium role passed to Helm (recorded by the helm STAND-IN), less the
    mesh CA, rendered by the same writer, give exactly build/<cluster>/cilium-values.yaml."""
    from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_artifacts import (
        values_text,
    )

    inventory = write_mesh(tmp_path, 3)
    data = yaml.safe_load(inventory.read_text())
    groups = data["all"]["children"]["edgemesh_clusters"]["children"]
    groups["cluster_c02"]["vars"]["edgemesh_control_plane_endpoint"] = "api.c02.example:8443"
    groups["cluster_c01"]["vars"]["cilium_hubble_ui"] = True
    groups["cluster_c03"]["vars"]["cilium_routing_mode"] = "native"
    inventory.write_text(yaml.safe_dump(data, sort_keys=True))
    runner.run("mesh.yml", inventory, "--skip-tags", "verify")
    for name in ("c01", "c02", "c03"):
        installed = _release_values(runner, name)
        assert base64.b64decode(installed.pop("tls")["ca"]["cert"]).startswith(b"-----BEGIN")
        assert installed["certgen"].pop("generateCA") is False
        preview = (runner.out / name / "cilium-values.yaml").read_text()
        assert values_text(installed) == preview, name
    c02 = _release_values(runner, "c02")
    assert (c02["k8sServiceHost"], c02["k8sServicePort"]) == ("api.c02.example", 8443)
    assert _release_values(runner, "c01")["hubble"]["ui"]["enabled"] is True
    assert _release_values(runner, "c02")["hubble"]["ui"] == {"enabled": False}
    assert _release_values(runner, "c03")["routingMode"] == "native"


def test_a_running_cluster_keeps_its_identity_and_pools(runner, tmp_path, write_mesh):
    """issue 15 #2: before the upgrade the role reads the running release (helm STAND-IN's
    store stands for the cluster) and refuses, naming cluster, key, live and planned value,
    what Cilium cannot change in place - here a cluster whose running ID differs from the
    plan's - before any helm upgrade runs."""
    inventory = write_mesh(tmp_path, 2)
    runner.run("mesh.yml", inventory, "--skip-tags", "verify")
    store = runner.helm_state / "c02.json"
    releases = json.loads(store.read_text())
    planned_id = releases["kube-system/cilium"]["values"]["cluster"]["id"]
    releases["kube-system/cilium"]["values"]["cluster"]["id"] = 42  # installed by someone else
    store.write_text(json.dumps(releases))
    proc, log = runner.run("cilium.yml", inventory, check=False)
    assert proc.returncode != 0
    flat = " ".join(proc.stdout.split())
    assert (
        "cluster c02: cilium-config cluster-id is 42 on the running cluster, the plan wants %d"
        % planned_id
    ) in flat
    assert "edgemesh_cluster_id: 42" in flat
    assert [line for line in log if line.startswith("c02 upgrade")] == []

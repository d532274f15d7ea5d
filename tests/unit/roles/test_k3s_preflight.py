# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k3s preflight's own conditions (roles/k3s/tasks/preflight.yml), evaluated with Ansible's
Templar over the role's defaults and vars: the k3s version rule (mesh_rules.k3s_version_problem
through the Jinja test edgemesh.cluster_mesh.k3s_release), the shared cgroup v2 check of
cluster_common (Kubernetes 1.35+ refuses cgroup v1, KEP-5573) unless k3s_allow_cgroup_v1, and
the S3 credential pairing."""

import pathlib

import pytest
from ansible.parsing.dataloader import DataLoader

from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.role_templar import holds

ROOT = pathlib.Path(__file__).resolve().parents[3]
TASKS = DataLoader().load_from_file(str(ROOT / "roles/k3s/tasks/preflight.yml"))
BASE = {
    "inventory_hostname": "eu-core-1",
    "ansible_facts": {"os_family": "Debian", "service_mgr": "systemd", "architecture": "x86_64"},
    "k3s_cluster_name": "eu-core",
    "k3s_node_role": "agent",
    "k3s_node_ip": "192.0.2.21",
    "k3s_registration_address": "192.0.2.11",
    "k3s_token_file": "build/eu-core/k3s-token",
}


def conditions(name):
    for task in TASKS:
        if task.get("name") == name:
            return task["ansible.builtin.assert"]["that"]
    raise AssertionError("no task %r" % name)


def test_the_default_version_passes_and_an_old_one_does_not():
    that = conditions("Check the cluster inputs")
    assert holds("k3s", that, BASE)
    assert not holds("k3s", that, BASE, {"k3s_version": "v1.33.5+k3s1"})
    assert not holds("k3s", that, BASE, {"k3s_version": "v1.36.1"})
    assert holds("k3s", that, BASE, {"k3s_version": "v1.36.1+k3s1"})


def task(name):
    return [t for t in TASKS if t.get("name") == name][0]


@pytest.mark.parametrize("allow, checked", [(False, True), (True, False), ("false", True)])
def test_the_shared_cgroup_v2_check_runs_unless_cgroup_v1_is_allowed(allow, checked):
    include = task("Require cgroup v2 (unless k3s_allow_cgroup_v1)")
    assert include["ansible.builtin.include_role"] == {
        "name": "edgemesh.cluster_mesh.cluster_common",
        "tasks_from": "cgroup_v2.yml",
    }
    assert "k3s_allow_cgroup_v1" in include["vars"]["cluster_common_caller"]
    assert holds("k3s", [include["when"]], BASE, {"k3s_allow_cgroup_v1": allow}) is checked


@pytest.mark.parametrize(
    "s3, access, secret, passes",
    [
        ({}, "", "", True),
        ({"bucket": "b"}, "AK", "SK", True),
        ({"bucket": "b"}, "AK", "", False),
        ({}, "AK", "SK", False),
    ],
)
def test_s3_credentials_come_in_pairs_with_a_bucket(s3, access, secret, passes):
    that = conditions("Check the S3 credentials of etcd snapshots")
    layer = {"k3s_etcd_s3": s3, "k3s_etcd_s3_access_key": access, "k3s_etcd_s3_secret_key": secret}
    assert holds("k3s", that, BASE, layer) is passes

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters live_targets and live_files (playbooks/adopt_live.yml): thin wrappers of
live_config; every error message, prefixed with the filter name."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.live_files import live_files
from ansible_collections.edgemesh.cluster_mesh.plugins.filter.live_targets import live_targets
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import live_config

HOSTVARS = {
    "eu-core-1": {"edgemesh_cluster_name": "eu-core", "edgemesh_kubeconfig": "/k/eu"},
    "eu-core-2": {"edgemesh_cluster_name": "eu-core", "edgemesh_kubeconfig": "/k/eu"},
    "us-core-1": {"edgemesh_cluster_name": "us-core"},
}


def test_live_targets_lists_the_existing_clusters():
    assert live_targets(HOSTVARS, sorted(HOSTVARS)) == [
        {"cluster": "eu-core", "kubeconfig": "/k/eu", "context": ""}
    ]


@pytest.mark.parametrize(
    "hostvars, hosts, part",
    [
        (HOSTVARS, "eu-core-1", "live_targets: hosts must be a list of host names"),
        (HOSTVARS, ["nowhere"], "live_targets: the input must be hostvars"),
        (
            dict(HOSTVARS, **{"eu-core-2": dict(HOSTVARS["eu-core-2"], edgemesh_kubeconfig="/x")}),
            sorted(HOSTVARS),
            "live_targets: cluster eu-core: hosts eu-core-1 and eu-core-2 disagree",
        ),
    ],
)
def test_live_targets_refusals(hostvars, hosts, part):
    with pytest.raises(AnsibleFilterError) as err:
        live_targets(hostvars, hosts)
    assert part in str(err.value)


def test_live_files_writes_one_file_per_cluster():
    results = [{"item": {"cluster": "eu-edge-1"}, "resources": []}]
    assert live_files(results) == {
        "live/eu-edge-1.json": {
            "content": live_config.live_file_text("eu-edge-1", None),
            "mode": "0644",
        }
    }


@pytest.mark.parametrize(
    "results, part",
    [
        ({"results": []}, "live_files: the input must be the k8s_info loop's results"),
        ([{"resources": []}], "live_files: a k8s_info result without its item"),
        (
            [{"item": {"cluster": "a"}, "resources": [{"data": {}}, {"data": {}}]}],
            "live_files: cluster a: 2 cilium-config ConfigMaps",
        ),
        (
            [{"item": {"cluster": "a"}, "resources": [{"data": ["x"]}]}],
            "live_files: cluster a: kube-system/cilium-config data is not a mapping",
        ),
    ],
)
def test_live_files_refusals(results, part):
    with pytest.raises(AnsibleFilterError) as err:
        live_files(results)
    assert part in str(err.value)

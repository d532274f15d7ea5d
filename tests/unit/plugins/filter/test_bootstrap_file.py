# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The thin filters bootstrap_file and bootstrap_preview: argument checks, errors prefixed
with the filter name, and the same text as the module they call."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.bootstrap_file import (
    FilterModule as FileFilter,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.filter.bootstrap_preview import (
    FilterModule as PreviewFilter,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import bootstrap_files
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import plan_mesh

bootstrap_file = FileFilter().filters()["bootstrap_file"]
bootstrap_preview = PreviewFilter().filters()["bootstrap_preview"]

VALUES = dict(
    bootstrap_files.role_defaults("k3s"),
    k3s_cluster_name="eu-core",
    k3s_node_role="agent",
    k3s_node_ip="192.0.2.12",
    k3s_cluster_init=False,
    k3s_registration_address="192.0.2.11",
    k3s_pod_cidrs=["10.1.0.0/16"],
    k3s_service_cidrs=["172.16.0.0/20"],
    k3s_cluster_dns="172.16.0.10",
    k3s_tls_sans=[],
)


def test_file_filter_renders_what_the_module_renders():
    assert bootstrap_file(VALUES, "k3s-config", host="eu-2") == bootstrap_files.k3s_config(VALUES)


@pytest.mark.parametrize(
    "args, message",
    [
        ((["x"], "k3s-config"), "bootstrap_file: the input must be a mapping of role variables"),
        ((VALUES, "k3s"), "bootstrap_file: kind 'k3s' is not known; allowed: k3s-config, "),
        ((VALUES, "k3s-config", 3), "bootstrap_file: host must be a host name"),
        ((dict(VALUES, k3s_node_role="x"), "k3s-config"), "bootstrap_file: k3s config.yaml: "),
        ((VALUES, "k3s-config", "h", {"token": "t"}), "bootstrap_file: k3s-config takes no"),
    ],
)
def test_file_filter_errors(args, message):
    with pytest.raises(AnsibleFilterError) as err:
        bootstrap_file(*args)
    assert str(err.value).startswith(message)


def test_preview_filter():
    clusters = [
        {
            "group": "cluster_eu_core",
            "vars": {"edgemesh_cluster_name": "eu-core", "edgemesh_region": "eu"},
            "nodes": [{"host": "eu-1", "ip": "192.0.2.11", "role": "server"}],
        }
    ]
    plan = plan_mesh(clusters, {}, None)["plan"]
    assert sorted(bootstrap_preview(plan, {})) == ["eu-core/eu-1/config.yaml"]
    for args, message in (
        (([], {}), "bootstrap_preview: the input must be the plan"),
        ((plan, []), "bootstrap_preview: hostvars must map host names to variables"),
        ((plan, {}, 1), "bootstrap_preview: output_dir must be a path"),
        (({"clusters": [{}]}, {}), "bootstrap_preview: plan cluster None: the plan has no"),
        (
            (plan, {"eu-1": {"k3s_disable": "{{ x }}"}}),
            "bootstrap_preview: host eu-1: k3s_disable is the untemplated",
        ),
    ):
        with pytest.raises(AnsibleFilterError) as err:
            bootstrap_preview(*args)
        assert str(err.value).startswith(message), str(err.value)

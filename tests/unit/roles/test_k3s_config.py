# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""/etc/rancher/k3s/config.yaml as the k3s role writes it: the role's ``_k3s_config_inputs``
(defaults + vars, rendered by Ansible's Templar) through the filter
``edgemesh.cluster_mesh.bootstrap_file`` into bootstrap_files.k3s_config - the same function
the previews in build/ use."""

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import bootstrap_files
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.role_templar import render as tpl
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.role_templar import task_content

PLAN = {
    "inventory_hostname": "eu-core-1",
    "k3s_cluster_name": "eu-core",
    "k3s_pod_cidrs": ["10.1.0.0/16"],
    "k3s_service_cidrs": ["172.16.0.0/20"],
    "k3s_cluster_dns": "172.16.0.10",
    "k3s_server_addresses": ["192.0.2.11", "192.0.2.12", "192.0.2.13"],
    "k3s_registration_address": "192.0.2.11",
    "k3s_tls_sans": ["192.0.2.11", "192.0.2.12", "192.0.2.13", "api.eu-core.example"],
    "k3s_token_file": "build/eu-core/k3s-token",
}
# The expression of the role's own task.
TASK = task_content("k3s", "configure.yml", "Write /etc/rancher/k3s/config.yaml")


def render(**overrides):
    text = tpl("k3s", TASK, PLAN, overrides)
    assert text.startswith(bootstrap_files.HEADER)
    return text, yaml.safe_load(text)


def test_first_server_initialises_the_cluster_for_cilium():
    text, config = render(k3s_node_role="server", k3s_cluster_init=True, k3s_node_ip="192.0.2.11")
    assert config == {
        "token-file": "/etc/rancher/k3s/cluster-token",
        "node-ip": "192.0.2.11",
        "cluster-init": True,
        "write-kubeconfig-mode": "0600",
        "flannel-backend": "none",
        "disable-network-policy": True,
        "disable-kube-proxy": True,
        "cluster-cidr": "10.1.0.0/16",
        "service-cidr": "172.16.0.0/20",
        "cluster-dns": "172.16.0.10",
        "tls-san": ["192.0.2.11", "192.0.2.12", "192.0.2.13", "api.eu-core.example"],
        "disable": ["traefik", "servicelb"],
        "agent-token-file": "/etc/rancher/k3s/agent-token",
        "secrets-encryption": True,
        "etcd-snapshot-schedule-cron": "0 */12 * * *",
        "etcd-snapshot-retention": 5,
    }
    assert "server:" not in text and "token:" not in text


def test_joining_server_registers_and_keeps_cluster_settings():
    config = render(k3s_node_role="server", k3s_node_ip="192.0.2.12")[1]
    assert "cluster-init" not in config
    assert config["server"] == "https://192.0.2.11:6443"
    assert config["flannel-backend"] == "none"
    assert config["disable-kube-proxy"] is True
    assert config["cluster-cidr"] == "10.1.0.0/16"


def test_agent_gets_only_agent_settings():
    config = render(
        k3s_node_role="agent",
        k3s_node_ip="192.0.2.21",
        k3s_registration_address="api.eu-core.example",
        k3s_api_port=7443,
        k3s_kubelet_args=["max-pods=200", "node-labels=edge=true"],
    )[1]
    assert config == {
        "token-file": "/etc/rancher/k3s/agent-token",
        "node-ip": "192.0.2.21",
        "server": "https://api.eu-core.example:7443",
        "kubelet-arg": ["max-pods=200", "node-labels=edge=true"],
    }


def test_registration_port_of_a_load_balancer_wins_over_the_api_port():
    config = render(
        k3s_node_role="agent",
        k3s_node_ip="192.0.2.21",
        k3s_registration_address="lb.eu-core.example",
        k3s_registration_port=443,
    )[1]
    assert config["server"] == "https://lb.eu-core.example:443"


def test_dual_stack_is_comma_joined_v4_first():
    config = render(
        k3s_node_role="server",
        k3s_cluster_init=True,
        k3s_node_ip="192.0.2.11,2001:db8::11",
        k3s_pod_cidrs=["10.1.0.0/16", "fd00:10:1::/56"],
        k3s_service_cidrs=["172.16.0.0/20", "fd00:172:16::/112"],
    )[1]
    assert config["cluster-cidr"] == "10.1.0.0/16,fd00:10:1::/56"
    assert config["service-cidr"] == "172.16.0.0/20,fd00:172:16::/112"
    assert config["node-ip"] == "192.0.2.11,2001:db8::11"
    assert config["cluster-dns"] == "172.16.0.10"


def test_ipv6_registration_address_is_bracketed():
    config = render(
        k3s_node_role="agent", k3s_node_ip="2001:db8::21", k3s_registration_address="2001:db8::11"
    )[1]
    assert config["server"] == "https://[2001:db8::11]:6443"


@pytest.mark.parametrize("role", ["server", "agent"])
def test_node_name_extra_config_and_empty_lists(role):
    text, config = render(
        k3s_node_role=role,
        k3s_node_ip="192.0.2.30",
        k3s_node_name="edge-1",
        k3s_disable=[],
        k3s_tls_sans=[],
        k3s_extra_config={"node-label": ["topology.kubernetes.io/zone=a"]},
    )
    assert config["node-name"] == "edge-1"
    assert config["node-label"] == ["topology.kubernetes.io/zone=a"]
    assert "disable" not in config and "tls-san" not in config


def test_render_is_byte_stable():
    first = render(k3s_node_role="server", k3s_cluster_init=True, k3s_node_ip="192.0.2.11")
    second = render(k3s_node_role="server", k3s_cluster_init=True, k3s_node_ip="192.0.2.11")
    assert first[0] == second[0]


def test_the_role_renders_what_the_preview_renders():
    """Install path (role vars through the filter) == preview path (the Python function)."""
    overrides = {"k3s_node_role": "agent", "k3s_node_ip": "192.0.2.21"}
    installed = render(**overrides)[0]
    values = dict(bootstrap_files.role_defaults("k3s"), **PLAN)
    values.update(overrides)
    assert installed == bootstrap_files.k3s_config(values, "eu-core-1")


def test_the_role_passes_exactly_the_renderer_inputs():
    variables = tpl("k3s", "{{ _k3s_config_inputs }}", PLAN, {"k3s_node_ip": "192.0.2.11"})
    assert sorted(variables) == sorted(bootstrap_files.K3S_KEYS)


# Issue 14 #5 and #9: the agent token, node labels and taints, secrets encryption, etcd
# snapshots (k3s server/agent flags of v1.35: docs.k3s.io/cli/server and /cli/agent list
# agent-token-file, node-label, node-taint, secrets-encryption, etcd-snapshot-schedule-cron,
# etcd-snapshot-retention and etcd-s3-*), and fail-cgroupv1 (kubelet flag; Kubernetes 1.35
# refuses cgroup v1 unless it is false, KEP-5573).
def test_servers_name_the_agent_token_and_agents_join_with_it():
    server = render(k3s_node_role="server", k3s_node_ip="192.0.2.12")[1]
    agent = render(k3s_node_role="agent", k3s_node_ip="192.0.2.21")[1]
    assert server["token-file"] == bootstrap_files.K3S_TOKEN_PATH
    assert server["agent-token-file"] == agent["token-file"] == bootstrap_files.K3S_AGENT_TOKEN_PATH
    assert "agent-token-file" not in agent


def test_node_labels_and_taints_of_cluster_and_host():
    config = render(
        k3s_node_role="agent",
        k3s_node_ip="192.0.2.21",
        k3s_cluster_node_labels={"topology.kubernetes.io/region": "eu-west", "site": "core"},
        k3s_node_labels={"site": "edge-7"},
        k3s_cluster_node_taints=["dedicated=edge:NoSchedule"],
        k3s_node_taints=["gpu=true:NoExecute"],
    )[1]
    assert config["node-label"] == ["site=edge-7", "topology.kubernetes.io/region=eu-west"]
    assert config["node-taint"] == ["dedicated=edge:NoSchedule", "gpu=true:NoExecute"]


def test_secrets_encryption_can_be_turned_off_and_s3_snapshots_on():
    config = render(
        k3s_node_role="server",
        k3s_cluster_init=True,
        k3s_node_ip="192.0.2.11",
        k3s_secrets_encryption=False,
        k3s_etcd_snapshot_retention=10,
        k3s_etcd_s3={"bucket": "snaps", "folder": "eu-core"},
    )[1]
    assert "secrets-encryption" not in config
    assert config["etcd-snapshot-retention"] == 10
    assert (config["etcd-s3"], config["etcd-s3-bucket"], config["etcd-s3-folder"]) == (
        True,
        "snaps",
        "eu-core",
    )


def test_agents_get_no_server_only_keys():
    config = render(k3s_node_role="agent", k3s_node_ip="192.0.2.21", k3s_etcd_s3={"bucket": "b"})[1]
    assert not [key for key in config if key.startswith(("etcd-", "secrets-", "agent-token"))]


def test_allowing_cgroup_v1_adds_the_kubelet_argument_once():
    config = render(
        k3s_node_role="agent",
        k3s_node_ip="192.0.2.21",
        k3s_allow_cgroup_v1=True,
        k3s_kubelet_args=["max-pods=150", "fail-cgroupv1=false"],
    )[1]
    assert config["kubelet-arg"] == ["max-pods=150", "fail-cgroupv1=false"]
    assert "kubelet-arg" not in render(k3s_node_role="agent", k3s_node_ip="192.0.2.21")[1]


def test_a_bad_label_stops_the_render_naming_host_knob_and_value():
    with pytest.raises(Exception, match="k3s config.yaml of eu-core-1: k3s_node_labels: .*'a b'"):
        render(k3s_node_role="agent", k3s_node_ip="192.0.2.21", k3s_node_labels={"a b": "x"})


def test_the_role_paths_match_the_renderer():
    paths = tpl("k3s", "{{ [_k3s_token_path, _k3s_agent_token_path] }}", PLAN)
    assert paths == [bootstrap_files.K3S_TOKEN_PATH, bootstrap_files.K3S_AGENT_TOKEN_PATH]

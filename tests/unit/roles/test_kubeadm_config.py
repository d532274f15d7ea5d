# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeadm configuration files as the kubeadm role writes them, and its preflight.

The expression of each writing task (roles/kubeadm/tasks/*.yml) is rendered with Ansible's
own Templar over the role's defaults and vars/main.yml: ``_kubeadm_file_inputs`` through the
filter ``edgemesh.cluster_mesh.bootstrap_file`` into plugins/module_utils/bootstrap_files.py,
the same function the previews in build/ use. The inputs are what playbooks/kubeadm.yml
maps from the plan.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import bootstrap_files
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.role_templar import (
    LOADER,
    ROOT,
    holds,
    render,
    task_content,
)

BASE = {
    "inventory_hostname": "cp-1",
    "ansible_play_hosts_all": ["cp-1", "cp-2", "cp-3", "worker-1"],
    "ansible_facts": {"os_family": "Debian"},
    "kubeadm_cluster_name": "eu-core",
    "kubeadm_pod_cidrs": ["10.1.0.0/16"],
    "kubeadm_service_cidrs": ["172.16.0.0/20"],
    "kubeadm_cluster_dns": "172.16.0.10",
    "kubeadm_node_ip": "192.0.2.11",
    "kubeadm_node_role": "server",
    "kubeadm_control_plane_hosts": ["cp-1", "cp-2", "cp-3"],
    "kubeadm_cluster_hosts": ["cp-1", "cp-2", "cp-3", "worker-1"],
    "hostvars": {
        "cp-1": {
            "__kubeadm_node_address": "192.0.2.11",
            "__kubeadm_join_token": "abcdef.0123456789abcdef",
            "__kubeadm_ca_hash": "sha256:" + "a" * 64,
            "__kubeadm_certificate_key": "b" * 64,
        }
    },
}
TASKS = {
    "init": (
        "configure.yml",
        "Write the kubeadm configuration of the first control-plane node",
    ),
    "join": ("join.yml", "Write the join configuration"),
    "upgrade": (
        "upgrade.yml",
        "Write the kubeadm upgrade configuration (kube-proxy stays skipped)",
    ),
}


def _render(which, **overrides):
    return render("kubeadm", task_content("kubeadm", *TASKS[which]), BASE, overrides)


def _docs(which, **overrides):
    docs = [d for d in yaml.safe_load_all(_render(which, **overrides)) if d is not None]
    return {d["kind"]: d for d in docs}


def test_init_config_has_the_three_documents_of_the_current_api():
    docs = _docs("init")
    assert sorted(docs) == ["ClusterConfiguration", "InitConfiguration", "KubeletConfiguration"]
    assert docs["InitConfiguration"]["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert docs["ClusterConfiguration"]["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert docs["KubeletConfiguration"]["apiVersion"] == "kubelet.config.k8s.io/v1beta1"


def test_init_config_uses_the_planned_networks_exactly():
    docs = _docs("init")
    net = docs["ClusterConfiguration"]["networking"]
    assert net == {
        "podSubnet": "10.1.0.0/16",
        "serviceSubnet": "172.16.0.0/20",
        "dnsDomain": "cluster.local",
    }
    assert docs["KubeletConfiguration"]["clusterDNS"] == ["172.16.0.10"]
    assert docs["ClusterConfiguration"]["clusterName"] == "eu-core"
    assert docs["ClusterConfiguration"]["kubernetesVersion"] == "v1.36.1"


def test_kube_proxy_is_skipped_and_disabled():
    docs = _docs("init")
    assert docs["InitConfiguration"]["skipPhases"] == ["addon/kube-proxy"]
    assert docs["ClusterConfiguration"]["proxy"] == {"disabled": True}


def test_kubelet_and_containerd_agree_on_systemd_cgroups():
    docs = _docs("init")
    assert docs["KubeletConfiguration"]["cgroupDriver"] == "systemd"
    reg = docs["InitConfiguration"]["nodeRegistration"]
    assert reg["criSocket"] == "unix:///run/containerd/containerd.sock"
    assert reg["name"] == "cp-1"
    assert reg["kubeletExtraArgs"] == [{"name": "node-ip", "value": "192.0.2.11"}]


def test_endpoint_defaults_to_the_first_control_plane_node():
    docs = _docs("init")
    cluster = docs["ClusterConfiguration"]
    assert cluster["controlPlaneEndpoint"] == "192.0.2.11:6443"
    assert cluster["apiServer"]["certSANs"] == ["192.0.2.11"]
    assert docs["InitConfiguration"]["localAPIEndpoint"] == {
        "advertiseAddress": "192.0.2.11",
        "bindPort": 6443,
    }


def test_ha_endpoint_is_the_vip_and_in_the_certificate():
    docs = _docs(
        "init",
        kubeadm_control_plane_endpoint="api.eu-core.example",
        kubeadm_api_port=8443,
        kubeadm_cert_sans=["192.0.2.11", "192.0.2.12", "api.eu-core.example"],
    )
    cluster = docs["ClusterConfiguration"]
    assert cluster["controlPlaneEndpoint"] == "api.eu-core.example:8443"
    assert cluster["apiServer"]["certSANs"] == ["api.eu-core.example", "192.0.2.11", "192.0.2.12"]
    # The node itself still advertises its own address.
    assert docs["InitConfiguration"]["localAPIEndpoint"]["advertiseAddress"] == "192.0.2.11"
    assert docs["InitConfiguration"]["localAPIEndpoint"]["bindPort"] == 8443


def test_endpoint_port_of_a_load_balancer_differs_from_the_bind_port():
    docs = _docs(
        "init", kubeadm_control_plane_endpoint="lb.eu-core.example", kubeadm_control_plane_port=443
    )
    assert docs["ClusterConfiguration"]["controlPlaneEndpoint"] == "lb.eu-core.example:443"
    assert docs["InitConfiguration"]["localAPIEndpoint"]["bindPort"] == 6443


def test_ipv6_endpoint_is_bracketed():
    docs = _docs("init", kubeadm_control_plane_endpoint="2001:db8::10")
    assert docs["ClusterConfiguration"]["controlPlaneEndpoint"] == "[2001:db8::10]:6443"


def test_dual_stack_joins_the_planned_cidrs_v4_first():
    docs = _docs(
        "init",
        kubeadm_pod_cidrs=["10.1.0.0/16", "fd00:10:1::/56"],
        kubeadm_service_cidrs=["172.16.0.0/20", "fd00:172:16::/112"],
        kubeadm_node_ip="192.0.2.11,2001:db8::11",
    )
    net = docs["ClusterConfiguration"]["networking"]
    assert net["podSubnet"] == "10.1.0.0/16,fd00:10:1::/56"
    assert net["serviceSubnet"] == "172.16.0.0/20,fd00:172:16::/112"
    reg = docs["InitConfiguration"]["nodeRegistration"]
    assert reg["kubeletExtraArgs"] == [{"name": "node-ip", "value": "192.0.2.11,2001:db8::11"}]
    assert docs["InitConfiguration"]["localAPIEndpoint"]["advertiseAddress"] == "192.0.2.11"


def test_ignored_preflight_errors_reach_kubeadm():
    docs = _docs("init", kubeadm_ignore_preflight_errors=["Swap", "NumCPU"])
    assert docs["InitConfiguration"]["nodeRegistration"]["ignorePreflightErrors"] == [
        "Swap",
        "NumCPU",
    ]


def test_rendering_is_byte_stable_and_marked_managed():
    first = _render("init")
    assert first == _render("init")
    assert first.startswith(bootstrap_files.HEADER)


def test_node_name_defaults_to_the_inventory_name_in_lowercase():
    docs = _docs("init", inventory_hostname="CP-1")
    assert docs["InitConfiguration"]["nodeRegistration"]["name"] == "cp-1"
    named = _docs("init", kubeadm_node_name="control-1")
    assert named["InitConfiguration"]["nodeRegistration"]["name"] == "control-1"


@pytest.mark.parametrize(
    "host,role,control_plane",
    [("cp-2", "server", True), ("worker-1", "agent", False)],
)
def test_join_config_per_node_role(host, role, control_plane):
    overrides = {
        "inventory_hostname": host,
        "kubeadm_node_role": role,
        "kubeadm_node_ip": "192.0.2.12",
        "__kubeadm_secrets": BASE["hostvars"]["cp-1"],
    }
    docs = _docs("join", **overrides)
    join = docs["JoinConfiguration"]
    assert join["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    token = join["discovery"]["bootstrapToken"]
    assert token == {
        "apiServerEndpoint": "192.0.2.11:6443",
        "token": "abcdef.0123456789abcdef",
        "caCertHashes": ["sha256:" + "a" * 64],
    }
    assert join["nodeRegistration"]["name"] == host
    assert join["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "node-ip", "value": "192.0.2.12"}
    ]
    assert ("controlPlane" in join) is control_plane
    if control_plane:
        assert join["controlPlane"] == {
            "localAPIEndpoint": {"advertiseAddress": "192.0.2.12", "bindPort": 6443},
            "certificateKey": "b" * 64,
        }


def test_join_config_with_the_secrets_is_the_preview_with_the_placeholders():
    overrides = {
        "inventory_hostname": "cp-2",
        "kubeadm_node_ip": "192.0.2.12",
        "__kubeadm_secrets": BASE["hostvars"]["cp-1"],
    }
    secrets = BASE["hostvars"]["cp-1"]
    installed = _render("join", **overrides)
    masked = (
        installed.replace(secrets["__kubeadm_join_token"], "<token>")
        .replace(secrets["__kubeadm_ca_hash"], "<ca-hash>")
        .replace(secrets["__kubeadm_certificate_key"], "<certificate-key>")
    )
    values = dict(bootstrap_files.role_defaults("kubeadm"), **BASE)
    values.update(overrides, kubeadm_control_plane_endpoint="192.0.2.11")
    assert masked == bootstrap_files.kubeadm_join_config(values, "cp-2")


def test_upgrade_config_keeps_kube_proxy_out():
    docs = _docs("upgrade", kubeadm_kubernetes_version="1.37.0")
    upgrade = docs["UpgradeConfiguration"]
    assert upgrade["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert upgrade["apply"]["kubernetesVersion"] == "v1.37.0"
    assert upgrade["apply"]["skipPhases"] == ["addon/kube-proxy"]
    assert upgrade["node"]["skipPhases"] == ["addon/kube-proxy"]
    assert upgrade["apply"]["forceUpgrade"] is True


def test_internal_values():
    assert render("kubeadm", "{{ _kubeadm_minor }}", BASE) == "1.36"
    assert (
        render("kubeadm", "{{ _kubeadm_repo_url }}", BASE)
        == "https://pkgs.k8s.io/core:/stable:/v1.36"
    )
    assert render("kubeadm", "{{ _kubeadm_first_control_plane }}", BASE) == "cp-1"
    assert render("kubeadm", "{{ _kubeadm_control_plane_port }}", BASE) == 6443


def test_the_role_passes_exactly_the_renderer_inputs():
    inputs = render("kubeadm", "{{ _kubeadm_file_inputs }}", BASE)
    assert sorted(inputs) == sorted(bootstrap_files.KUBEADM_KEYS)


def _preflight_conditions():
    path = ROOT / "roles" / "kubeadm" / "tasks" / "preflight.yml"
    tasks = LOADER.load_from_file(str(path), trusted_as_template=True)
    return tasks[0]["ansible.builtin.assert"]["that"]


def test_preflight_accepts_the_plan_inputs():
    assert holds("kubeadm", _preflight_conditions(), BASE)


@pytest.mark.parametrize(
    "overrides",
    [
        {"kubeadm_node_role": "master"},
        {"kubeadm_cluster_name": "EU_core"},
        {"kubeadm_kubernetes_version": "1.33"},
        {"kubeadm_pod_cidrs": []},
        {"kubeadm_pod_cidrs": ["10.1.0.0/16", "fd00::/56"]},
        {"kubeadm_control_plane_hosts": []},
        {"kubeadm_api_port": 70000},
    ],
    ids=["role", "name", "version", "no-pod-cidr", "stack-mismatch", "no-cp", "port"],
)
def test_preflight_rejects_bad_inputs(overrides):
    assert not holds("kubeadm", _preflight_conditions(), BASE, overrides)

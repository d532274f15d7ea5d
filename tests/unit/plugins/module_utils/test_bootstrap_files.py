# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bootstrap file renderers and their previews (plugins/module_utils/bootstrap_files.py).

What each file holds for k3s and kubeadm is asserted in tests/unit/roles/ through the roles'
own tasks; here: the previews of a planner-made plan, the inputs' refusals, the fixed header,
and that the renderer's inputs and paths are the roles' own.
"""

import pathlib

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import bootstrap_files
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.bootstrap_files import (
    HEADER,
    BootstrapError,
    k3s_config,
    kubeadm_init_config,
    kubeadm_join_config,
    preview_files,
    render,
    role_defaults,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import plan_mesh
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.plans import inventory_cluster

ROOT = pathlib.Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def plan():
    clusters = [
        inventory_cluster(
            "eu-core",
            "k3s",
            [("eu-1", "192.0.2.11", "server"), ("eu-2", "192.0.2.12", "agent")],
            edgemesh_extra_cert_sans=["api.eu.example"],
        ),
        inventory_cluster(
            "us-core",
            "kubeadm",
            [("us-1", "198.51.100.11", "server"), ("us-2", "198.51.100.12", "server")],
            edgemesh_control_plane_endpoint="api.us.example",
        ),
    ]
    return plan_mesh(clusters, {}, None)["plan"]


def k3s_values(**overrides):
    values = role_defaults("k3s")
    values.update(
        k3s_cluster_name="eu-core",
        k3s_node_role="server",
        k3s_node_ip="192.0.2.11",
        k3s_cluster_init=True,
        k3s_pod_cidrs=["10.1.0.0/16"],
        k3s_service_cidrs=["172.16.0.0/20"],
        k3s_cluster_dns="172.16.0.10",
        k3s_tls_sans=["192.0.2.11"],
    )
    values.update(overrides)
    return values


def test_previews_every_node_file_and_no_secret(plan):
    files = preview_files(plan, {}, "build")
    assert sorted(files) == [
        "eu-core/eu-1/config.yaml",
        "eu-core/eu-2/config.yaml",
        "us-core/us-1/kubeadm-config.yaml",
        "us-core/us-1/upgrade-config.yaml",
        "us-core/us-2/join-config.yaml",
        "us-core/us-2/upgrade-config.yaml",
    ]
    join = yaml.safe_load(files["us-core/us-2/join-config.yaml"])
    assert join["discovery"]["bootstrapToken"]["token"] == "<token>"
    assert join["discovery"]["bootstrapToken"]["caCertHashes"] == ["<ca-hash>"]
    assert join["controlPlane"]["certificateKey"] == "<certificate-key>"
    assert join["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "api.us.example:6443"
    assert all(text.startswith(HEADER) for text in files.values())


def test_preview_holds_the_planned_networks_and_endpoint(plan):
    """What the old build/<cluster>/k3s-config.yaml and kubeadm-config.yaml excerpts held."""
    files = preview_files(plan, {}, "build")
    eu = next(c for c in plan["clusters"] if c["name"] == "eu-core")
    us = next(c for c in plan["clusters"] if c["name"] == "us-core")
    k3s = yaml.safe_load(files["eu-core/eu-1/config.yaml"])
    assert k3s["cluster-cidr"] == ",".join(eu["pod_cidrs"])
    assert k3s["service-cidr"] == ",".join(eu["service_cidrs"])
    assert k3s["cluster-dns"] == eu["cluster_dns"]
    assert k3s["tls-san"] == ["192.0.2.11", "api.eu.example"]
    assert yaml.safe_load(files["eu-core/eu-2/config.yaml"])["server"] == "https://192.0.2.11:6443"
    docs = list(yaml.safe_load_all(files["us-core/us-1/kubeadm-config.yaml"]))
    assert docs[1]["networking"]["podSubnet"] == ",".join(us["pod_cidrs"])
    assert docs[1]["networking"]["serviceSubnet"] == ",".join(us["service_cidrs"])
    assert docs[1]["controlPlaneEndpoint"] == "api.us.example:6443"
    assert docs[2]["clusterDNS"] == [us["cluster_dns"]]


def test_host_knobs_override_the_role_defaults_but_not_the_plan(plan):
    hostvars = {
        "eu-1": {"k3s_kubelet_args": ["max-pods=150"], "k3s_cluster_dns": "10.0.0.99"},
        "us-1": {"kubeadm_kubernetes_version": "1.36.2", "unrelated": "{{ not templated }}"},
    }
    files = preview_files(plan, hostvars, "build")
    k3s = yaml.safe_load(files["eu-core/eu-1/config.yaml"])
    assert k3s["kubelet-arg"] == ["max-pods=150"]
    assert k3s["cluster-dns"] != "10.0.0.99"
    docs = list(yaml.safe_load_all(files["us-core/us-1/kubeadm-config.yaml"]))
    assert docs[1]["kubernetesVersion"] == "v1.36.2"


def test_preview_refuses_untemplated_host_variables(plan):
    with pytest.raises(BootstrapError) as err:
        preview_files(plan, {"eu-2": {"k3s_disable": "{{ my_list }}"}}, "build")
    assert "host eu-2: k3s_disable is the untemplated '{{ my_list }}'" in str(err.value)


def test_header_is_fixed_and_the_same_for_every_host():
    first = k3s_config(k3s_values(), "eu-1")
    second = k3s_config(k3s_values(), "another-host")
    assert first == second and first.startswith(HEADER)
    assert HEADER == "# Managed by edgemesh.cluster_mesh; local changes are overwritten.\n"


def test_extra_config_cannot_rewrite_what_the_role_writes():
    with pytest.raises(BootstrapError) as err:
        k3s_config(k3s_values(k3s_extra_config={"cluster-cidr": "10.9.0.0/16", "x": 1}))
    assert "k3s_extra_config sets cluster-cidr, which the role writes" in str(err.value)
    text = k3s_config(
        k3s_values(k3s_extra_config={"node-label": ["a=b"], "protect-kernel-defaults": True})
    )
    assert yaml.safe_load(text)["protect-kernel-defaults"] is True


def test_ansible_strings_and_bools_as_text_are_accepted():
    class Tagged(str):
        """Stands for Ansible's tagged str subclass."""

    values = k3s_values(
        k3s_cluster_init="yes", k3s_node_ip=Tagged("192.0.2.11"), k3s_api_port="6443"
    )
    assert "cluster-init: true" in k3s_config(values)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: k3s_config({"k3s_node_role": "server"}),
            "k3s config.yaml: the role variable k3s_cluster_name is missing",
        ),
        (
            lambda: k3s_config(k3s_values(k3s_node_role="master"), "eu-1"),
            "k3s config.yaml of eu-1: k3s_node_role is 'master'; allowed: server, agent",
        ),
        (
            lambda: k3s_config(k3s_values(k3s_tls_sans="a,b")),
            "k3s_tls_sans is 'a,b'; allowed: a list of non-empty strings",
        ),
        (
            lambda: k3s_config(k3s_values(k3s_cluster_init="maybe")),
            "k3s_cluster_init is 'maybe'; allowed: true or false",
        ),
        (
            lambda: k3s_config(k3s_values(k3s_cluster_init=False, k3s_registration_address="")),
            "k3s_registration_address is ''; allowed: a non-empty string",
        ),
        (
            lambda: k3s_config(
                k3s_values(k3s_cluster_init=False, k3s_registration_address="a", k3s_api_port=70000)
            ),
            "k3s_api_port is 70000; allowed: a port number",
        ),
        (
            lambda: k3s_config(k3s_values(k3s_extra_config=["x"])),
            "k3s_extra_config is ['x']; allowed: a mapping",
        ),
        (
            lambda: k3s_config(["not", "a", "mapping"]),
            "k3s config.yaml: the inputs are not a mapping",
        ),
        (lambda: k3s_config(k3s_values(k3s_node_ip=object())), "cannot render"),
        (
            lambda: render("rke2-config", {}),
            "file kind 'rke2-config' is not known; allowed: k3s-config, kubeadm-init",
        ),
        (lambda: render("k3s-config", k3s_values(), secrets={}), "k3s-config takes no secrets"),
        (
            lambda: preview_files({"clusters": None}, {}, "build"),
            "the plan is not a mapping with 'clusters'",
        ),
    ],
    ids=[
        "missing",
        "role",
        "list",
        "flag",
        "empty",
        "port",
        "mapping",
        "inputs",
        "type",
        "kind",
        "secrets",
        "plan",
    ],
)
def test_refusals_name_the_file_key_and_value(call, message):
    with pytest.raises(BootstrapError) as err:
        call()
    assert message in str(err.value)


def test_join_secrets_are_checked_without_showing_them(plan):
    values = role_defaults("kubeadm")
    values.update(
        kubeadm_cluster_name="us-core",
        kubeadm_node_role="server",
        kubeadm_node_ip="198.51.100.12",
        kubeadm_control_plane_endpoint="api.us.example",
        kubeadm_cert_sans=[],
        kubeadm_pod_cidrs=["10.1.0.0/16"],
        kubeadm_service_cidrs=["172.16.16.0/20"],
        kubeadm_cluster_dns="172.16.16.10",
    )
    with pytest.raises(BootstrapError) as err:
        kubeadm_join_config(values, "us-2", {"token": "abcdef.0123456789abcdef", "ca_hash": ""})
    assert str(err.value) == (
        "join-config.yaml of us-2: the join secrets lack ca_hash, certificate_key (values not shown)"
    )
    worker = kubeadm_join_config(
        dict(values, kubeadm_node_role="agent"), "us-3", {"token": "t", "ca_hash": "h"}
    )
    assert '    token: "t"' in worker and "controlPlane" not in worker
    with pytest.raises(BootstrapError, match="the secrets are not a mapping"):
        kubeadm_join_config(values, "us-2", "token")
    with pytest.raises(BootstrapError, match="kubeadm_node_ip is '198.51.100.12,'"):
        kubeadm_init_config(dict(values, kubeadm_node_ip="198.51.100.12,"), "us-2")


def _role_file(role, part):
    with open(ROOT / "roles" / role / part / "main.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize(
    "role, keys, inputs_var",
    [
        ("k3s", bootstrap_files.K3S_KEYS, "_k3s_config_inputs"),
        ("kubeadm", bootstrap_files.KUBEADM_KEYS, "_kubeadm_file_inputs"),
    ],
)
def test_renderer_inputs_are_role_options_passed_by_the_role(role, keys, inputs_var):
    defaults = _role_file(role, "defaults")
    with open(ROOT / "roles" / role / "meta" / "argument_specs.yml", encoding="utf-8") as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    assert set(keys) <= set(options)
    assert sorted(_role_file(role, "vars")[inputs_var]) == sorted(keys)
    # Every default the preview needs is plain data (a templated one would be skipped).
    assert set(role_defaults(role)) == set(k for k in keys if k in defaults) - {
        k for k in keys if isinstance(defaults.get(k), str) and "{{" in defaults[k]
    }
    assert "kubeadm_node_ip" not in role_defaults("kubeadm")


def test_node_paths_are_the_roles_own():
    assert bootstrap_files.K3S_TOKEN_PATH == _role_file("k3s", "vars")["_k3s_token_path"]


def test_dual_stack_previews_join_families_with_commas():
    """Moved from test_mesh_artifacts.py (the old build/<cluster>/ excerpts)."""
    clusters = [
        inventory_cluster("eu-core", "k3s", [("eu-1", "192.0.2.11", "server")]),
        inventory_cluster("us-core", "kubeadm", [("us-1", "198.51.100.11", "server")]),
    ]
    settings = {
        "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
        "edgemesh_service_cidr_pool_v6": ["fd00:20::/104"],
    }
    files = preview_files(plan_mesh(clusters, settings, None)["plan"], {}, "build")
    k3s = yaml.safe_load(files["eu-core/eu-1/config.yaml"])
    assert k3s["cluster-cidr"] == "10.0.0.0/16,fd00:10::/56"
    assert k3s["service-cidr"] == "172.16.0.0/20,fd00:20::/112"
    kubeadm = list(yaml.safe_load_all(files["us-core/us-1/kubeadm-config.yaml"]))[1]
    assert kubeadm["networking"]["podSubnet"] == "10.1.0.0/16,fd00:10:0:100::/56"

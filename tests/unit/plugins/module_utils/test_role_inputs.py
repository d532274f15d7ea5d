# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan -> role variables: the k3s and kubeadm mappings and the init-host choice.

Plans come from the real planner (mesh_planner.plan_mesh), so the mapping is tested against
the plan contract as the planner writes it (docs/contracts.md).
"""

import os
import pathlib

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    api_endpoints,
    plan_types,
    role_inputs,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_planner import plan_mesh
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.role_inputs import (
    CLUSTER_DATA,
    RoleInputError,
    bootstrap_step,
    choose_init_host,
    k3s_inputs,
    kubeadm_inputs,
    locate,
)
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.plans import inventory_cluster

ROOT = pathlib.Path(__file__).resolve().parents[4]


EU = [
    ("eu-core-1", "192.0.2.11", "server"),
    ("eu-core-2", "192.0.2.12", "server"),
    ("eu-core-3", "192.0.2.13", "agent"),
]
US = [
    ("us-cp-1", "198.51.100.11", "server"),
    ("us-cp-2", "198.51.100.12", "server"),
    ("us-worker-1", "198.51.100.21", "agent"),
]


def make_plan(eu_vars=None, us_vars=None, eu_nodes=None, settings=None):
    clusters = [
        inventory_cluster("eu-core", "k3s", eu_nodes or EU, **(eu_vars or {})),
        inventory_cluster("us-core", "kubeadm", US, **(us_vars or {})),
    ]
    return plan_mesh(clusters, settings or {}, None)["plan"]


def cluster(plan, name):
    return next(c for c in plan["clusters"] if c["name"] == name)


@pytest.fixture
def plan():
    return make_plan()


def test_k3s_init_server_gets_every_variable_from_the_plan(plan, tmp_path):
    inputs = k3s_inputs(
        cluster(plan, "eu-core"), "eu-core-1", {"edgemesh_output_dir": str(tmp_path)}, []
    )
    assert inputs == {
        "k3s_cluster_name": "eu-core",
        "k3s_node_role": "server",
        "k3s_node_ip": "192.0.2.11",
        "k3s_cluster_init": True,
        "k3s_server_addresses": ["192.0.2.11", "192.0.2.12"],
        "k3s_registration_address": "192.0.2.11",
        "k3s_registration_port": 6443,
        "k3s_pod_cidrs": cluster(plan, "eu-core")["pod_cidrs"],
        "k3s_service_cidrs": cluster(plan, "eu-core")["service_cidrs"],
        "k3s_cluster_dns": cluster(plan, "eu-core")["cluster_dns"],
        "k3s_tls_sans": ["192.0.2.11", "192.0.2.12"],
        "k3s_token_file": str(tmp_path / "eu-core" / "k3s-token"),
        "k3s_agent_token_file": str(tmp_path / "eu-core" / "k3s-agent-token"),
        "k3s_init_host": "eu-core-1",
        "k3s_output_dir": str(tmp_path),
    }


def test_k3s_joining_server_and_agent_register_with_the_init_server(plan):
    server = k3s_inputs(cluster(plan, "eu-core"), "eu-core-2")
    agent = k3s_inputs(cluster(plan, "eu-core"), "eu-core-3")
    assert server["k3s_cluster_init"] is False and agent["k3s_cluster_init"] is False
    assert server["k3s_registration_address"] == agent["k3s_registration_address"] == "192.0.2.11"
    assert (server["k3s_node_role"], agent["k3s_node_role"]) == ("server", "agent")
    assert agent["k3s_node_ip"] == "192.0.2.13"


def test_output_dir_defaults_to_build_resolved_like_realpath(plan, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    assert k3s_inputs(cluster(plan, "eu-core"), "eu-core-1")["k3s_output_dir"] == str(
        tmp_path / "build"
    )
    linked = k3s_inputs(cluster(plan, "eu-core"), "eu-core-1", {"edgemesh_output_dir": "link"})
    assert linked["k3s_token_file"] == str(tmp_path / "real" / "eu-core" / "k3s-token")


def test_dual_stack_node_ip_is_v4_then_v6():
    nodes = [("eu-core-1", "192.0.2.11", "server", "2001:db8::11")]
    plan = make_plan(
        eu_nodes=nodes,
        settings={
            "edgemesh_pod_cidr_pool_v6": ["fd00:10::/48"],
            "edgemesh_service_cidr_pool_v6": ["fd00:172::/108"],
        },
    )
    inputs = k3s_inputs(cluster(plan, "eu-core"), "eu-core-1")
    assert inputs["k3s_node_ip"] == "192.0.2.11,2001:db8::11"
    assert len(inputs["k3s_pod_cidrs"]) == 2


def test_endpoints_and_extra_sans_reach_the_certificate_and_the_joins():
    plan = make_plan(
        eu_vars={
            "edgemesh_control_plane_endpoint": "vip.eu-core.example",
            "edgemesh_api_endpoint": "lb.eu-core.example:443",
            "edgemesh_extra_cert_sans": ["192.0.2.12", "api.eu-core.example"],
        }
    )
    agent = k3s_inputs(cluster(plan, "eu-core"), "eu-core-3")
    assert agent["k3s_registration_address"] == "lb.eu-core.example"
    assert agent["k3s_registration_port"] == 443
    assert agent["k3s_tls_sans"] == [
        "192.0.2.11",
        "192.0.2.12",
        "vip.eu-core.example",
        "lb.eu-core.example",
        "api.eu-core.example",
    ]


@pytest.mark.parametrize(
    "pinned, running, expected",
    [
        ("", [], "eu-core-1"),
        ("", ["eu-core-2"], "eu-core-2"),
        ("", ["eu-core-2", "eu-core-1"], "eu-core-1"),
        ("eu-core-2", ["eu-core-1"], "eu-core-2"),
        ("", ["eu-core-3", "elsewhere"], "eu-core-1"),
    ],
    ids=["plan", "running-server", "first-running", "pin-wins", "agents-ignored"],
)
def test_init_host_choice(plan, pinned, running, expected):
    assert choose_init_host(cluster(plan, "eu-core"), pinned, running) == expected


def test_plan_pin_is_the_static_choice():
    plan = make_plan(eu_vars={"edgemesh_k3s_init_server": "eu-core-2"})
    assert cluster(plan, "eu-core")["init_host"] == "eu-core-2"
    inputs = k3s_inputs(cluster(plan, "eu-core"), "eu-core-2", {}, [])
    assert inputs["k3s_cluster_init"] is True
    assert inputs["k3s_registration_address"] == "192.0.2.12"


def test_a_server_already_running_initialises_and_the_joins_follow_it(plan):
    running = ["eu-core-2"]
    first = k3s_inputs(cluster(plan, "eu-core"), "eu-core-1", {}, running)
    second = k3s_inputs(cluster(plan, "eu-core"), "eu-core-2", {}, running)
    assert (first["k3s_cluster_init"], second["k3s_cluster_init"]) == (False, True)
    # The plan derived its API endpoint from eu-core-1; the running server takes its place.
    assert first["k3s_registration_address"] == "192.0.2.12"


def test_an_explicit_endpoint_stays_when_another_server_initialises():
    plan = make_plan(eu_vars={"edgemesh_control_plane_endpoint": "vip.eu-core.example:7443"})
    inputs = k3s_inputs(cluster(plan, "eu-core"), "eu-core-3", {}, ["eu-core-2"])
    assert (inputs["k3s_registration_address"], inputs["k3s_registration_port"]) == (
        "vip.eu-core.example",
        7443,
    )


def test_kubeadm_inputs(plan, tmp_path):
    us = cluster(plan, "us-core")
    inputs = kubeadm_inputs(us, "us-worker-1", {"edgemesh_output_dir": str(tmp_path)})
    assert inputs == {
        "kubeadm_cluster_name": "us-core",
        "kubeadm_node_role": "agent",
        "kubeadm_node_ip": "198.51.100.21",
        "kubeadm_pod_cidrs": us["pod_cidrs"],
        "kubeadm_service_cidrs": us["service_cidrs"],
        "kubeadm_cluster_dns": us["cluster_dns"],
        "kubeadm_control_plane_hosts": ["us-cp-1", "us-cp-2"],
        "kubeadm_cluster_hosts": ["us-cp-1", "us-cp-2", "us-worker-1"],
        "kubeadm_control_plane_endpoint": "198.51.100.11",
        "kubeadm_control_plane_port": 6443,
        "kubeadm_cert_sans": ["198.51.100.11", "198.51.100.12", "127.0.0.1", "localhost"],
        "kubeadm_output_dir": str(tmp_path),
        "kubeadm_apiserver_proxy": True,
        "kubeadm_apiserver_proxy_config": api_endpoints.proxy_config(
            plan_types.ClusterPlan.from_dict(us)
        ),
    }
    # issue 15 #1: the worker's node-local proxy balances over both control planes, which
    # need no proxy (their own kube-apiserver answers on 127.0.0.1:6443).
    assert "server cp1 198.51.100.11:6443" in inputs["kubeadm_apiserver_proxy_config"]
    assert "server cp2 198.51.100.12:6443" in inputs["kubeadm_apiserver_proxy_config"]
    server = kubeadm_inputs(us, "us-cp-1", {"edgemesh_output_dir": str(tmp_path)})
    assert (server["kubeadm_apiserver_proxy"], server["kubeadm_apiserver_proxy_config"]) == (
        False,
        "",
    )


def test_kubeadm_first_control_plane_is_the_running_one_and_sans_hold_the_vip():
    plan = make_plan(
        us_vars={
            "edgemesh_control_plane_endpoint": "api.us-core.example",
            "edgemesh_extra_cert_sans": ["198.51.100.100"],
        }
    )
    inputs = kubeadm_inputs(cluster(plan, "us-core"), "us-cp-1", {}, ["us-cp-2"])
    assert inputs["kubeadm_control_plane_hosts"] == ["us-cp-2", "us-cp-1"]
    assert inputs["kubeadm_control_plane_endpoint"] == "api.us-core.example"
    assert inputs["kubeadm_cert_sans"] == [
        "198.51.100.11",
        "198.51.100.12",
        "api.us-core.example",
        "198.51.100.100",
        "127.0.0.1",
        "localhost",
    ]
    assert bootstrap_step("us-cp-2", inputs) == "init"
    assert bootstrap_step("us-cp-1", inputs) == "server"


def test_bootstrap_steps_of_k3s_nodes(plan):
    eu = cluster(plan, "eu-core")
    steps = [bootstrap_step(h, k3s_inputs(eu, h)) for h in ("eu-core-1", "eu-core-2", "eu-core-3")]
    assert steps == ["init", "server", "agent"]


def test_locate_finds_the_cluster_by_node(plan):
    place = locate(plan, "us-cp-2")
    assert (place.cluster.name, place.distribution, place.role) == ("us-core", "kubeadm", "server")
    assert place.data_path() == CLUSTER_DATA["kubeadm"]
    assert locate(plan, "us-worker-1").data_path() == ""
    nowhere = locate(plan, "other-host")
    assert (nowhere.cluster, nowhere.distribution, nowhere.role) == (None, "", "")


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda p: k3s_inputs(cluster(p, "us-core"), "us-cp-1"),
            "host us-cp-1: cluster us-core is a kubeadm cluster, not k3s",
        ),
        (
            lambda p: kubeadm_inputs(cluster(p, "us-core"), "eu-core-1"),
            "host eu-core-1 is not a node of cluster us-core in the plan; allowed: us-cp-1, "
            "us-cp-2, us-worker-1",
        ),
        (
            lambda p: choose_init_host(cluster(p, "eu-core"), "eu-core-3"),
            "cluster eu-core: edgemesh_k3s_init_server 'eu-core-3' is not a server of the "
            "cluster; allowed: eu-core-1, eu-core-2",
        ),
        (
            lambda p: k3s_inputs(dict(cluster(p, "eu-core"), init_host="gone"), "eu-core-1"),
            "cluster eu-core: the plan's init_host 'gone' is not one of its servers",
        ),
        (
            lambda p: k3s_inputs(
                dict((k, v) for k, v in cluster(p, "eu-core").items() if k != "api_endpoint"),
                "eu-core-1",
            ),
            "plan cluster eu-core: the plan has no 'api_endpoint' (run playbooks/plan.yml)",
        ),
        (lambda p: locate({"clusters": None}, "x"), "the plan is not a mapping with 'clusters'"),
        (
            lambda p: role_inputs.role_inputs("rke2", cluster(p, "eu-core"), "eu-core-1"),
            "distribution 'rke2' is not supported; allowed: k3s, kubeadm",
        ),
    ],
    ids=["distribution", "host", "pin", "init-host", "shape", "plan", "unknown"],
)
def test_refusals_name_the_host_cluster_and_value(plan, call, message):
    with pytest.raises(RoleInputError) as err:
        call(plan)
    assert message in str(err.value)


def _role_file(role, part):
    with open(ROOT / "roles" / role / part / "main.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_cluster_data_paths_are_the_roles_own():
    k3s = _role_file("k3s", "vars")
    assert CLUSTER_DATA["k3s"] == k3s["_k3s_data_dir"] + "/server/db/etcd"
    assert CLUSTER_DATA["kubeadm"] == _role_file("kubeadm", "vars")["_kubeadm_kubelet_conf"]


@pytest.mark.parametrize(
    "role, fields", [("k3s", role_inputs.K3sInputs), ("kubeadm", role_inputs.KubeadmInputs)]
)
def test_mapped_variables_are_options_of_the_role(role, fields):
    with open(ROOT / "roles" / role / "meta" / "argument_specs.yml", encoding="utf-8") as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    assert set(fields.__dataclass_fields__) <= set(options)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeadm workers' node-local API proxy (issue 15 #1), checked by the real HAProxy of
Debian 12 (2.6): `haproxy -c -f` accepts the configuration that api_endpoints.proxy_config
renders, without a warning, and refuses a broken one. (Debian 13's haproxy 3.0 needs a
newer glibc than this machine's, so it cannot run here.)

`apt-get download` + `dpkg -x` of haproxy and its libraries through
tests/integration/containerd/debian_packages.py (cached; offline on the second run).
"""

import importlib.util
import os
import pathlib
import subprocess

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import api_endpoints, plan_types

HERE = pathlib.Path(__file__).resolve().parent
_SPEC = importlib.util.spec_from_file_location(
    "edgemesh_debian_packages_haproxy", HERE.parent / "containerd" / "debian_packages.py"
)
debian_packages = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(debian_packages)

PACKAGES = {
    "bookworm": ["haproxy", "liblua5.3-0", "libopentracing-c-wrapper0", "libopentracing1"],
}


def _cluster(servers, distribution="kubeadm", kubeconfig=""):
    nodes = [{"host": "cp%d" % i, "ip": ip, "role": "server"} for i, ip in enumerate(servers)]
    nodes.append({"host": "w1", "ip": "192.0.2.50", "role": "agent"})
    return plan_types.ClusterPlan.from_dict(
        {
            "name": "us-core",
            "group": "cluster_us_core",
            "id": 3,
            "region": "us",
            "distribution": distribution,
            "pod_cidrs": ["10.3.0.0/16"],
            "service_cidrs": ["172.16.32.0/20"],
            "cluster_dns": "172.16.32.10",
            "clustermesh_nodeport": 32381,
            "servers": servers,
            "agents": ["192.0.2.50"],
            "nodes": nodes,
            "api_endpoint": {"host": servers[0], "port": 6443},
            "init_host": "cp0",
            "server_hosts": ["cp%d" % i for i in range(len(servers))],
            "agent_hosts": ["w1"],
            "paths": {"kubeconfig": "k", "token": "t", "agent_token": "a"},
            "kubeconfig": kubeconfig,
        }
    )


def test_agents_use_the_node_local_endpoint_not_one_server():
    assert api_endpoints.agent_endpoint(_cluster(["192.0.2.10"])).url() == "https://127.0.0.1:6443"
    k3s = _cluster(["192.0.2.10", "192.0.2.11"], distribution="k3s")
    assert api_endpoints.agent_endpoint(k3s).url() == "https://127.0.0.1:6444"
    existing = _cluster(["192.0.2.10"], kubeconfig="/srv/us-core.kubeconfig")
    assert api_endpoints.agent_endpoint(existing).url() == "https://192.0.2.10:6443"


def test_only_kubeadm_workers_of_bootstrapped_clusters_need_the_proxy():
    cluster = _cluster(["192.0.2.10", "192.0.2.11"])
    assert api_endpoints.needs_proxy(cluster, "w1")
    assert not api_endpoints.needs_proxy(cluster, "cp0")
    assert not api_endpoints.needs_proxy(_cluster(["192.0.2.10"], "k3s"), "w1")
    assert not api_endpoints.needs_proxy(_cluster(["192.0.2.10"], kubeconfig="/k"), "w1")


def test_proxy_config_lists_every_control_plane():
    text = api_endpoints.proxy_config(_cluster(["192.0.2.10", "192.0.2.11", "2001:db8::12"]))
    assert "    bind 127.0.0.1:6443\n" in text
    assert "    server cp1 192.0.2.10:6443\n    server cp2 192.0.2.11:6443\n" in text
    assert "    server cp3 [2001:db8::12]:6443\n" in text
    assert "http-check send meth GET uri /readyz" in text


@pytest.fixture(scope="module", params=sorted(PACKAGES))
def haproxy(request):
    try:
        dirs = debian_packages.fetch(request.param, PACKAGES[request.param])
    except debian_packages.Unreachable as exc:
        message = "Debian mirror unreachable, haproxy of %s not fetched: %s" % (request.param, exc)
        if os.environ.get("CI"):
            pytest.fail(message + " (CI=true: the real-binary tests must run)")
        pytest.skip(message)
    libs = sorted(set(str(p.parent) for d in dirs.values() for p in pathlib.Path(d).rglob("*.so*")))
    binary = pathlib.Path(dirs["haproxy"]) / "usr" / "sbin" / "haproxy"
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(libs))
    version = subprocess.run(
        [str(binary), "-v"], capture_output=True, text=True, env=env, check=True
    ).stdout.splitlines()[0]
    return binary, env, version


def test_real_haproxy_accepts_the_config(haproxy, tmp_path):
    binary, env, version = haproxy
    config = tmp_path / "apiserver-proxy.cfg"
    config.write_text(api_endpoints.proxy_config(_cluster(["192.0.2.10", "2001:db8::12"])))
    proc = subprocess.run(
        [str(binary), "-c", "-f", str(config)], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, version + proc.stdout + proc.stderr
    assert "Configuration file is valid" in proc.stdout + proc.stderr
    assert "WARNING" not in (proc.stdout + proc.stderr), proc.stdout + proc.stderr


def test_real_haproxy_rejects_a_broken_config(haproxy, tmp_path):
    """The check above can fail: a config without the backend's servers' port is refused."""
    binary, env, _version = haproxy
    config = tmp_path / "broken.cfg"
    config.write_text(
        api_endpoints.proxy_config(_cluster(["192.0.2.10"])).replace("check-ssl", "check-sll")
    )
    proc = subprocess.run(
        [str(binary), "-c", "-f", str(config)], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode != 0

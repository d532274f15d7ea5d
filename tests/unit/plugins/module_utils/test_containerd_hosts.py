# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd registry mirror files (plugins/module_utils/containerd_hosts.py).

The layout is containerd's docs/hosts.md (1.6 to 2.x): ``server`` at the top, one
``[host."<url>"]`` table per mirror with ``capabilities``, ``skip_verify``, ``ca``; the
directory ``_default`` for every registry without its own; docker.io's upstream is
registry-1.docker.io. Each file is parsed back with Python's TOML reader (tomllib).
"""

import tomllib

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.containerd_hosts import (
    containerd_hosts,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.containerd_hosts import (
    HEADER,
    HostsError,
    hosts_files,
)


def _parsed(mirrors, config_path="/etc/containerd/certs.d"):
    return dict((p, tomllib.loads(t)) for p, t in hosts_files(mirrors, config_path).items())


def test_one_file_per_registry_mirrors_first_in_order():
    files = _parsed(
        {
            "docker.io": ["https://m1.example", "http://10.0.0.5:5000"],
            "registry.k8s.io": {"mirrors": ["https://m1.example/v2/k8s"], "ca": "/etc/ca.pem"},
        }
    )
    docker = files["/etc/containerd/certs.d/docker.io/hosts.toml"]
    assert docker["server"] == "https://registry-1.docker.io"
    assert list(docker["host"]) == ["https://m1.example", "http://10.0.0.5:5000"]
    assert docker["host"]["https://m1.example"] == {"capabilities": ["pull", "resolve"]}
    k8s = files["/etc/containerd/certs.d/registry.k8s.io/hosts.toml"]
    assert k8s["server"] == "https://registry.k8s.io"
    assert k8s["host"]["https://m1.example/v2/k8s"]["ca"] == "/etc/ca.pem"


def test_air_gap_points_the_server_at_the_mirror_and_default_covers_the_rest():
    files = _parsed(
        {
            "quay.io:443": {
                "mirrors": ["https://harbor.lan"],
                "server": "https://harbor.lan",
                "skip_verify": True,
            },
            "_default": ["https://harbor.lan"],
        },
        "/etc/containerd/certs.d/",
    )
    quay = files["/etc/containerd/certs.d/quay.io:443/hosts.toml"]
    assert quay == {
        "server": "https://harbor.lan",
        "host": {"https://harbor.lan": {"capabilities": ["pull", "resolve"], "skip_verify": True}},
    }
    assert "server" not in files["/etc/containerd/certs.d/_default/hosts.toml"]


def test_files_are_byte_stable_and_marked_managed():
    mirrors = {"b.example": ["https://m"], "a.example": ["https://m"]}
    assert hosts_files(mirrors, "/x") == hosts_files(dict(reversed(list(mirrors.items()))), "/x")
    assert all(t.startswith(HEADER) for t in hosts_files(mirrors, "/x").values())


@pytest.mark.parametrize(
    "mirrors,path,message",
    [
        ({"bad registry": ["https://m"]}, "/x", "'bad registry' is not a registry"),
        ({"docker.io": []}, "/x", "registry docker.io: mirrors is []"),
        (
            {"docker.io": ["ftp://m"]},
            "/x",
            "a mirror is 'ftp://m'; allowed: an http:// or https://",
        ),
        ({"docker.io": {"mirrors": ["https://m"], "tls": 1}}, "/x", "the key is 'tls'"),
        ({"docker.io": {"mirrors": ["https://m"], "capabilities": ["pul"]}}, "/x", "capabilities"),
        ({"docker.io": {"mirrors": ["https://m"], "skip_verify": "yes"}}, "/x", "skip_verify"),
        ({"docker.io": {"mirrors": ["https://m"], "ca": "ca.pem"}}, "/x", "an absolute path"),
        ({"docker.io": "https://m"}, "/x", "a list of mirror URLs or a mapping"),
        ({"docker.io": ["https://m"]}, "certs.d", "config_path is 'certs.d'"),
        (["docker.io"], "/x", "allowed: a mapping of registry to mirrors"),
    ],
)
def test_refusals_name_the_registry_key_and_value(mirrors, path, message):
    with pytest.raises(HostsError) as err:
        hosts_files(mirrors, path)
    assert message in str(err.value)


def test_the_filter_prefixes_its_name():
    from ansible.errors import AnsibleFilterError

    assert list(containerd_hosts({"docker.io": ["https://m"]})) == [
        "/etc/containerd/certs.d/docker.io/hosts.toml"
    ]
    with pytest.raises(AnsibleFilterError) as err:
        containerd_hosts({"docker.io": []})
    assert str(err.value).startswith("containerd_hosts: registry docker.io")
    with pytest.raises(AnsibleFilterError) as err:
        containerd_hosts("docker.io")
    assert str(err.value).startswith("containerd_hosts: the input must be a mapping")

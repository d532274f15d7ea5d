# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""k3s_files: token recovery, node labels/taints, etcd snapshot keys, registries.yaml, and the
k3s version rule of mesh_rules.

Facts the expectations rest on (read, not copied): k3s pkg/server/server.go writes
server/token and server/agent-token through WriteToken in the secure format
``K10<sha256 of the server CA>::<credentials>`` and, without an agent token, makes agent-token a
symlink to token; pkg/daemons/control/deps/deps.go readTokens gives the credentials as
``server:<password>`` and ``node:<password>``. docs.k3s.io/installation/private-registry: the
``mirrors`` (``endpoint``, ``rewrite``) and ``configs`` (``auth``, ``tls``) of registries.yaml.
docs.k3s.io/cli/etcd-snapshot: the etcd-s3 options; the credentials may come from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. github.com/k3s-io/k3s/releases/tag/v1.35.6+k3s1
(Kubernetes v1.35.6) is a released k3s tag.
"""

import pathlib
import re

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    bootstrap_files,
    k3s_files,
    mesh_rules,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.k3s_files import (
    K3sFileError,
    etcd_config,
    node_labels,
    node_taints,
    registries_yaml,
    token_secret,
)

CA_HASH = "5b1c0d7ab5c3b8f6e4f2a1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0"
SECRET = "q7w3e9r1t5y2u8i4o6p0a3s7d1f9g5h2j8k4l6z0x3c7v1b9n5m2q8w4e6r0t3y7"


@pytest.mark.parametrize(
    "kind, text, expected",
    [
        ("server", "K10%s::server:%s\n" % (CA_HASH, SECRET), SECRET),
        ("agent", "K10%s::node:%s\n" % (CA_HASH, "agentsecret"), "agentsecret"),
        # agent-token is the symlink to the server token: nothing to keep for agents.
        ("agent", "K10%s::server:%s\n" % (CA_HASH, SECRET), ""),
        ("server", "K10%s::node:%s\n" % (CA_HASH, SECRET), ""),
        ("server", SECRET + "\n", SECRET),
        ("server", "", ""),
        ("server", "K10%s::bearer-token\n" % CA_HASH, "bearer-token"),
    ],
)
def test_token_secret_keeps_the_password_of_the_matching_user(kind, text, expected):
    assert token_secret(kind, text) == expected


def test_token_secret_refuses_an_unknown_kind():
    with pytest.raises(K3sFileError, match="token kind 'bootstrap' is not known; allowed"):
        token_secret("bootstrap", SECRET)


def test_labels_merge_cluster_and_host_with_the_host_winning():
    labels = node_labels(
        {"topology.kubernetes.io/region": "eu-west", "edgemesh.example/site": "core"},
        {"edgemesh.example/site": "edge-7", "edgemesh.example/gpu": True, "rack": 12},
    )
    assert labels == [
        "edgemesh.example/gpu=true",
        "edgemesh.example/site=edge-7",
        "rack=12",
        "topology.kubernetes.io/region=eu-west",
    ]


@pytest.mark.parametrize(
    "cluster, host, knob",
    [
        ({"bad key": "x"}, {}, "k3s_cluster_node_labels"),
        ({}, {"node-role.kubernetes.io/worker": "true"}, "k3s_node_labels"),
        ({}, {"a": "-x"}, "k3s_node_labels"),
        (["a=b"], {}, "k3s_cluster_node_labels"),
    ],
)
def test_bad_labels_name_the_knob(cluster, host, knob):
    with pytest.raises(K3sFileError, match="^" + knob):
        node_labels(cluster, host)


def test_taints_host_replaces_the_cluster_taint_of_the_same_key_and_effect():
    taints = node_taints(
        ["dedicated=core:NoSchedule", "edge:PreferNoSchedule"],
        ["dedicated=edge:NoSchedule", "gpu=true:NoExecute"],
    )
    assert taints == ["edge:PreferNoSchedule", "dedicated=edge:NoSchedule", "gpu=true:NoExecute"]


@pytest.mark.parametrize("bad", ["edge=true", "edge=true:Sometimes", ":NoSchedule", 7])
def test_bad_taints_name_the_knob_and_what_is_allowed(bad):
    with pytest.raises(K3sFileError, match="k3s_node_taints: taint .*allowed: key"):
        node_taints([], [bad])


def test_taints_must_be_a_list():
    with pytest.raises(K3sFileError, match="k3s_cluster_node_taints is 'a:NoSchedule'; allowed"):
        node_taints("a:NoSchedule", [])


def test_etcd_snapshots_without_s3():
    assert etcd_config("0 */12 * * *", 5, {}) == [
        'etcd-snapshot-schedule-cron: "0 */12 * * *"',
        "etcd-snapshot-retention: 5",
    ]


def test_etcd_s3_options_are_written_without_credentials():
    lines = etcd_config(
        "0 3 * * *", "7", {"bucket": "snaps", "endpoint": "s3.example", "skip_ssl_verify": True}
    )
    assert yaml.safe_load("\n".join(lines)) == {
        "etcd-snapshot-schedule-cron": "0 3 * * *",
        "etcd-snapshot-retention": 7,
        "etcd-s3": True,
        "etcd-s3-bucket": "snaps",
        "etcd-s3-endpoint": "s3.example",
        "etcd-s3-skip-ssl-verify": True,
    }


@pytest.mark.parametrize(
    "cron, retention, s3, message",
    [
        ("hourly", 5, {}, "k3s_etcd_snapshot_schedule_cron is 'hourly'; allowed: a cron spec"),
        ("0 * * * *", 0, {}, "k3s_etcd_snapshot_retention is 0; allowed"),
        ("0 * * * *", True, {}, "k3s_etcd_snapshot_retention is True; allowed"),
        ("0 * * * *", 5, {"bucket": "b", "secret_key": "x"}, "k3s_etcd_s3 sets secret-key;"),
        ("0 * * * *", 5, {"bucket": "b", "colour": "x"}, "k3s_etcd_s3 sets colour; allowed: "),
        ("0 * * * *", 5, {"endpoint": "s3.example"}, "k3s_etcd_s3 has no bucket"),
        ("0 * * * *", 5, {"bucket": ["b"]}, "k3s_etcd_s3 bucket is \\['b'\\]; allowed"),
        ("0 * * * *", 5, "bucket", "k3s_etcd_s3 is 'bucket'; allowed"),
    ],
)
def test_etcd_refusals_name_the_knob(cron, retention, s3, message):
    with pytest.raises(K3sFileError, match=message):
        etcd_config(cron, retention, s3)


def test_the_credential_refusal_never_shows_the_value():
    with pytest.raises(K3sFileError) as err:
        etcd_config("0 * * * *", 5, {"bucket": "b", "access-key": "AKIA-VERY-SECRET"})
    assert "AKIA-VERY-SECRET" not in str(err.value)


def test_registries_yaml_mirrors_and_configs():
    text = registries_yaml(
        {"docker.io": ["https://mirror.example:5000"], "*": {"endpoint": ["https://m.example"]}},
        {"mirror.example:5000": {"auth": {"username": "u", "password": "p"}, "tls": {}}},
        bootstrap_files.HEADER,
    )
    assert text.startswith(bootstrap_files.HEADER)
    assert yaml.safe_load(text) == {
        "mirrors": {
            "*": {"endpoint": ["https://m.example"]},
            "docker.io": {"endpoint": ["https://mirror.example:5000"]},
        },
        "configs": {"mirror.example:5000": {"auth": {"username": "u", "password": "p"}, "tls": {}}},
    }
    assert text == registries_yaml(
        {"*": {"endpoint": ["https://m.example"]}, "docker.io": ["https://mirror.example:5000"]},
        {"mirror.example:5000": {"tls": {}, "auth": {"password": "p", "username": "u"}}},
        bootstrap_files.HEADER,
    )


def test_registries_yaml_is_empty_without_mirrors_and_configs():
    assert registries_yaml({}, {}, bootstrap_files.HEADER) == ""


@pytest.mark.parametrize(
    "mirrors, configs, message",
    [
        ({"docker.io": "https://m"}, {}, "k3s_registry_mirrors docker.io is 'https://m'; allowed"),
        ({"docker.io": {"endpoint": [""]}}, {}, "k3s_registry_mirrors docker.io endpoint is"),
        ({"docker.io": {"mirror": []}}, {}, "allowed: a mapping of endpoint, rewrite"),
        ([], {}, "k3s_registry_mirrors is \\[\\]; allowed: a mapping keyed by registry"),
        ({}, {"r.example": {"password": "hunter2"}}, "k3s_registry_configs r.example is \\['pass"),
    ],
)
def test_registry_refusals_name_the_knob(mirrors, configs, message):
    with pytest.raises(K3sFileError, match=message) as err:
        registries_yaml(mirrors, configs, bootstrap_files.HEADER)
    assert "hunter2" not in str(err.value)


def test_s3_options_are_the_documented_ones():
    assert "bucket" in k3s_files.S3_OPTIONS
    assert not set(k3s_files.S3_SECRET_KEYS) & set(k3s_files.S3_OPTIONS)


@pytest.mark.parametrize("version", ["v1.35.6+k3s1", "v1.36.1+k3s1", "v1.37.0+k3s2"])
def test_k3s_versions_of_supported_minors_pass(version):
    assert mesh_rules.k3s_version_problem(version) is None


@pytest.mark.parametrize(
    "version, reason",
    [
        ("v1.33.5+k3s1", "Kubernetes 'v1.33.5\\+k3s1' is not supported"),
        ("v1.38.0+k3s1", "is not supported"),
        ("1.35.6+k3s1", "is not allowed; allowed: vX.Y.Z\\+k3sN"),
        ("v1.35.6", "is not allowed; allowed: vX.Y.Z\\+k3sN"),
        (None, "is not allowed; allowed"),
    ],
)
def test_k3s_versions_outside_the_window_are_refused_with_what_is_allowed(version, reason):
    problem = mesh_rules.k3s_version_problem(version)
    assert problem is not None
    assert re.search(reason, problem)
    for minor in mesh_rules.SUPPORTED_KUBERNETES_MINORS:
        assert minor + ".x" in problem


def test_the_role_default_is_a_supported_release():
    path = pathlib.Path(bootstrap_files.ROLES_DIR) / "k3s" / "defaults" / "main.yml"
    default = yaml.safe_load(path.read_text(encoding="utf-8"))["k3s_version"]
    assert default == "v1.35.6+k3s1"
    assert mesh_rules.k3s_version_problem(default) is None

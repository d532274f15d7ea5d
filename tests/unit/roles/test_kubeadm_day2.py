# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""issue 14 (#2, #8, #9) on the kubeadm side: the files the kubeadm role writes, rendered
through its own tasks with Ansible's Templar (tests/unit/helpers/role_templar.py).

The kubeadm v1beta4 fields used here were checked against the kubeadm types
(kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go): ``NodeRegistrationOptions.Taints``
is ``json:"taints"`` without omitempty - unset (nil) means the control-plane taint for
control-plane nodes, ``taints: []`` means none; ``KubeletExtraArgs`` and
``APIServer.ExtraArgs`` are lists of ``{name, value}``; ``ExtraVolumes`` are ``HostPathMount``
``{name, hostPath, mountPath, readOnly, pathType}``.
"""

import base64
import os
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import bootstrap_files
from ansible_collections.edgemesh.cluster_mesh.tests.unit.helpers.role_templar import (
    LOADER,
    ROOT,
    holds,
    render,
)
from ansible_collections.edgemesh.cluster_mesh.tests.unit.roles.test_kubeadm_config import (
    BASE,
    _docs,
)

WORKERLESS = {
    "ansible_play_hosts_all": ["cp-1", "cp-2"],
    "kubeadm_control_plane_hosts": ["cp-1", "cp-2"],
    "kubeadm_cluster_hosts": ["cp-1", "cp-2"],
}
JOIN_CP = {
    "inventory_hostname": "cp-2",
    "kubeadm_node_ip": "192.0.2.12",
    "__kubeadm_secrets": BASE["hostvars"]["cp-1"],
}
JOIN_WORKER = {**JOIN_CP, "inventory_hostname": "worker-1", "kubeadm_node_role": "agent"}
CP_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def _registration(which, **overrides):
    kind = "InitConfiguration" if which == "init" else "JoinConfiguration"
    return _docs(which, **overrides)[kind]["nodeRegistration"]


# --- #2 versions ---------------------------------------------------------------------------


def test_default_version_is_inside_the_support_window_with_its_repository():
    version = render("kubeadm", "{{ kubeadm_kubernetes_version }}", BASE)
    assert version == "1.36.1"
    assert render("kubeadm", "{{ _kubeadm_repo_url }}", BASE).endswith("core:/stable:/v1.36")
    assert render("kubeadm", "{{ _kubeadm_version_problem }}", BASE) == ""


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"kubeadm_kubernetes_version": "1.33.5"}, "allowed: 1.35.x, 1.36.x, 1.37.x"),
        (
            {"kubeadm_containerd_version": "1.7.28"},
            "needs containerd 2.x; containerd 1.x is allowed up to 1.35.x",
        ),
    ],
    ids=["out-of-support", "containerd-1"],
)
def test_preflight_refuses_unsupported_versions_naming_what_is_allowed(overrides, message):
    assert message in render("kubeadm", "{{ _kubeadm_version_problem }}", BASE, overrides)


def test_the_renderer_refuses_an_unsupported_version_too():
    from ansible.errors import AnsibleError

    with pytest.raises(AnsibleError) as err:
        _docs("init", kubeadm_kubernetes_version="1.34.2")
    assert "kubeadm-config.yaml of cp-1: kubeadm_kubernetes_version is '1.34.2'" in str(err.value)
    assert "allowed: 1.35.x, 1.36.x, 1.37.x" in str(err.value)
    assert str(err.value).count("allowed:") == 1


def test_containerd_1_is_allowed_with_kubernetes_1_35_and_the_distro_is_checked_once_installed():
    ok = {"kubeadm_kubernetes_version": "1.35.4", "kubeadm_containerd_version": "1.7.28"}
    assert render("kubeadm", "{{ _kubeadm_version_problem }}", BASE, ok) == ""
    distro = {"kubeadm_containerd_source": "distro", "kubeadm_containerd_version": "1.6.20"}
    assert render("kubeadm", "{{ _kubeadm_version_problem }}", BASE, distro) == ""
    check = (
        "{{ '1.36.1' | edgemesh.cluster_mesh.kubernetes_version_problem("
        "containerd='containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1') }}"
    )
    assert "needs containerd 2.x" in render("kubeadm", check, BASE)


# --- #8 no control-plane taint without workers ---------------------------------------------


def test_a_cluster_without_workers_is_initialised_and_joined_untainted():
    assert _registration("init", **WORKERLESS)["taints"] == []
    assert _registration("join", **dict(WORKERLESS, **JOIN_CP))["taints"] == []
    text = render(
        "kubeadm",
        "{{ _kubeadm_file_inputs | edgemesh.cluster_mesh.bootstrap_file('kubeadm-init', host='cp-1') }}",
        BASE,
        WORKERLESS,
    )
    assert "\n  taints: []\n" in text


def test_a_cluster_with_workers_keeps_the_control_plane_taint_and_workers_stay_untainted():
    assert _registration("init")["taints"] == [CP_TAINT]
    assert _registration("join", **JOIN_CP)["taints"] == [CP_TAINT]
    assert "taints" not in _registration("join", **JOIN_WORKER)


# --- #9 labels and taints ------------------------------------------------------------------


def test_labels_merge_cluster_then_host_and_reach_the_kubelet():
    knobs = {
        "kubeadm_cluster_node_labels": {"example.com/site": "eu", "tier": "core"},
        "kubeadm_node_labels": {"tier": "edge", "topology.kubernetes.io/zone": "a"},
    }
    args = _registration("join", **dict(JOIN_WORKER, **knobs))["kubeletExtraArgs"]
    assert args == [
        {"name": "node-ip", "value": "192.0.2.12"},
        {
            "name": "node-labels",
            "value": "example.com/site=eu,tier=edge,topology.kubernetes.io/zone=a",
        },
    ]


def test_taints_of_cluster_and_host_follow_the_control_plane_taint():
    knobs = {
        "kubeadm_cluster_node_taints": ["dedicated=mesh:NoSchedule"],
        "kubeadm_node_taints": ["gpu:PreferNoSchedule", "dedicated=mesh:NoSchedule"],
    }
    assert _registration("init", **knobs)["taints"] == [
        CP_TAINT,
        {"key": "dedicated", "value": "mesh", "effect": "NoSchedule"},
        {"key": "gpu", "effect": "PreferNoSchedule"},
    ]
    assert _registration("join", **dict(JOIN_WORKER, **knobs))["taints"][0]["key"] == "dedicated"


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"kubeadm_node_labels": {"node-role.kubernetes.io/worker": ""}}, "may not label"),
        ({"kubeadm_node_labels": {"bad key": "x"}}, "is not a label key"),
        ({"kubeadm_node_taints": ["gpu:Sometimes"]}, "allowed: key[=value]:NoSchedule"),
    ],
    ids=["restricted-label", "label-syntax", "taint-effect"],
)
def test_bad_day2_inputs_are_refused_with_the_key_and_value(overrides, message):
    from ansible.errors import AnsibleError

    with pytest.raises(AnsibleError) as err:
        _docs("join", **dict(JOIN_WORKER, **overrides))
    assert message in str(err.value) and "join-config.yaml of worker-1" in str(err.value)


# --- #9 secrets encryption -----------------------------------------------------------------


def test_api_servers_read_the_encryption_configuration_from_a_read_only_mount():
    api = _docs("init")["ClusterConfiguration"]["apiServer"]
    assert api["extraArgs"] == [
        {"name": "encryption-provider-config", "value": bootstrap_files.KUBEADM_ENCRYPTION_CONFIG}
    ]
    assert api["extraVolumes"] == [
        {
            "name": "edgemesh-encryption",
            "hostPath": bootstrap_files.KUBEADM_ENCRYPTION_DIR,
            "mountPath": bootstrap_files.KUBEADM_ENCRYPTION_DIR,
            "readOnly": True,
            "pathType": "DirectoryOrCreate",
        }
    ]
    assert (
        "extraArgs"
        not in _docs("init", kubeadm_secrets_encryption=False)["ClusterConfiguration"]["apiServer"]
    )
    assert render("kubeadm", "{{ _kubeadm_encryption_config }}", BASE) == (
        bootstrap_files.KUBEADM_ENCRYPTION_CONFIG
    )


def _encryption(provider, key):
    expression = (
        "{{ _kubeadm_file_inputs | edgemesh.cluster_mesh.bootstrap_file("
        "'kubeadm-secrets-encryption', host='cp-1', secrets={'key': '%s'}) }}" % key
    )
    return render("kubeadm", expression, BASE, {"kubeadm_secrets_encryption_provider": provider})


@pytest.mark.parametrize("provider", ["secretbox", "aescbc"])
def test_encryption_configuration_per_provider(provider):
    key = base64.b64encode(bytes(range(32))).decode()
    doc = yaml.safe_load(_encryption(provider, key))
    assert doc["apiVersion"] == "apiserver.config.k8s.io/v1"
    assert doc["kind"] == "EncryptionConfiguration"
    assert doc["resources"] == [
        {
            "resources": ["secrets"],
            "providers": [
                {provider: {"keys": [{"name": "edgemesh-1", "secret": key}]}},
                {"identity": {}},
            ],
        }
    ]


def test_a_bad_key_or_provider_is_refused_without_showing_the_key():
    from ansible.errors import AnsibleError

    short = base64.b64encode(b"x" * 16).decode()
    with pytest.raises(AnsibleError) as err:
        _encryption("secretbox", short)
    assert "not 32 bytes" in str(err.value) and short not in str(err.value)
    with pytest.raises(AnsibleError) as err:
        _encryption("aesgcm", base64.b64encode(b"x" * 32).decode())
    assert "allowed: secretbox, aescbc" in str(err.value)


def test_the_key_is_made_on_the_control_node_0600_and_never_logged():
    path = ROOT / "roles" / "kubeadm" / "tasks" / "secrets_encryption.yml"
    tasks = LOADER.load_from_file(str(path), trusted_as_template=True)
    make = [t for t in tasks if "ansible.builtin.shell" in t][0]
    assert make["delegate_to"] == "localhost" and make["no_log"] is True
    assert "umask 077" in make["ansible.builtin.shell"]["cmd"]
    assert "base64.b64encode(os.urandom(32))" in make["ansible.builtin.shell"]["cmd"]
    write = [t for t in tasks if "ansible.builtin.copy" in t][0]
    assert write["no_log"] is True and write["ansible.builtin.copy"]["mode"] == "0600"


# --- #9 registry mirrors -------------------------------------------------------------------


def test_registry_mirrors_become_hosts_files_under_config_path():
    mirrors = {"kubeadm_registry_mirrors": {"docker.io": ["https://mirror.example:5000"]}}
    files = render("kubeadm", "{{ _kubeadm_registry_hosts }}", BASE, mirrors)
    assert list(files) == ["/etc/containerd/certs.d/docker.io/hosts.toml"]
    assert 'server = "https://registry-1.docker.io"' in files[list(files)[0]]


# --- #9 etcd snapshots ---------------------------------------------------------------------


def _template(name, **overrides):
    text = (ROOT / "roles" / "kubeadm" / "templates" / name).read_text()
    layers = dict(BASE, ansible_managed="Ansible managed", **overrides)
    return render("kubeadm", text, layers)


def test_snapshot_script_saves_with_the_etcd_client_certificate_and_keeps_the_newest():
    script = _template("etcd-snapshot.sh.j2", kubeadm_etcd_snapshot_retention=3)
    assert "snapshot save" in script and "--endpoints=https://127.0.0.1:2379" in script
    assert "--cert=/etc/kubernetes/pki/apiserver-etcd-client.crt" in script
    assert "--cacert=/etc/kubernetes/pki/etcd/ca.crt" in script
    assert "tail -n +4" in script


def test_snapshot_script_keeps_exactly_the_retention(tmp_path):
    """The script runs for real with an etcdctl stand-in that only writes the file it is
    given (no etcd runs here): of five older snapshots and the new one, the three newest stay."""
    etcdctl = tmp_path / "etcdctl"
    etcdctl.write_text('#!/bin/sh\nfor last; do :; done\necho snap > "$last"\n')
    etcdctl.chmod(0o755)
    snaps = tmp_path / "snaps"
    snaps.mkdir()
    for age, name in enumerate("abcde"):
        (snaps / ("etcd-%s.db" % name)).write_text("old")
        os.utime(snaps / ("etcd-%s.db" % name), (1000 + age, 1000 + age))
    (snaps / "other.txt").write_text("not a snapshot")
    script = tmp_path / "snapshot"
    script.write_text(
        _template(
            "etcd-snapshot.sh.j2",
            kubeadm_etcd_snapshot_retention=3,
            kubeadm_etcd_snapshot_dir=str(snaps),
            kubeadm_etcd_snapshot_etcdctl=str(etcdctl),
        )
    )
    subprocess.run(["sh", str(script)], check=True, timeout=30)
    left = sorted(p.name for p in snaps.iterdir())
    new = [n for n in left if n.startswith("etcd-2")]
    assert len(new) == 1 and not any(n.endswith(".part") for n in left)
    assert left == sorted(["etcd-d.db", "etcd-e.db", "other.txt"] + new)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_snapshot_units_and_the_schedule(tmp_path):
    script = tmp_path / "edgemesh-etcd-snapshot"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    for kind in ("service", "timer"):
        text = _template("etcd-snapshot.%s.j2" % kind, _kubeadm_etcd_snapshot_script=str(script))
        (tmp_path / ("edgemesh-etcd-snapshot." + kind)).write_text(text)
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "edgemesh-etcd-snapshot.timer")],
        capture_output=True,
        text=True,
        check=False,
        cwd=str(tmp_path),
        env=dict(os.environ, SYSTEMD_LOG_LEVEL="warning"),
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout + proc.stderr == "", proc.stdout + proc.stderr
    schedule = render("kubeadm", "{{ kubeadm_etcd_snapshot_schedule }}", BASE)
    calendar = subprocess.run(
        ["systemd-analyze", "calendar", schedule], capture_output=True, check=False, timeout=60
    )
    assert calendar.returncode == 0
    bad = subprocess.run(
        ["systemd-analyze", "calendar", "every tuesday-ish"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert bad.returncode != 0


# --- #9 drain options, argument specs ------------------------------------------------------


def test_drain_force_and_disable_eviction_reach_k8s_drain():
    path = ROOT / "roles" / "kubeadm" / "tasks" / "upgrade.yml"
    text = path.read_text()
    assert 'force: "{{ kubeadm_upgrade_drain_force | bool }}"' in text
    assert 'disable_eviction: "{{ kubeadm_upgrade_drain_disable_eviction | bool }}"' in text


def test_every_new_knob_is_in_the_argument_specs_with_its_default():
    specs = LOADER.load_from_file(str(ROOT / "roles" / "kubeadm" / "meta" / "argument_specs.yml"))
    options = specs["argument_specs"]["main"]["options"]
    defaults = LOADER.load_from_file(str(ROOT / "roles" / "kubeadm" / "defaults" / "main.yml"))
    for name in (
        "kubeadm_registry_mirrors",
        "kubeadm_require_cgroup_v2",
        "kubeadm_require_time_sync",
        "kubeadm_cluster_node_labels",
        "kubeadm_node_labels",
        "kubeadm_cluster_node_taints",
        "kubeadm_node_taints",
        "kubeadm_secrets_encryption",
        "kubeadm_secrets_encryption_provider",
        "kubeadm_etcd_snapshot_enabled",
        "kubeadm_etcd_snapshot_schedule",
        "kubeadm_etcd_snapshot_dir",
        "kubeadm_etcd_snapshot_retention",
        "kubeadm_etcd_snapshot_etcdctl",
        "kubeadm_etcd_snapshot_package",
        "kubeadm_upgrade_drain_force",
        "kubeadm_upgrade_drain_disable_eviction",
    ):
        assert options[name]["default"] == defaults[name], name
    assert (
        options["kubeadm_kubernetes_version"]["default"] == defaults["kubeadm_kubernetes_version"]
    )


def test_preflight_still_holds_for_the_plan_inputs_with_the_new_default():
    path = ROOT / "roles" / "kubeadm" / "tasks" / "preflight.yml"
    conditions = LOADER.load_from_file(str(path), trusted_as_template=True)[0][
        "ansible.builtin.assert"
    ]["that"]
    assert holds("kubeadm", conditions, BASE)
    assert not holds("kubeadm", conditions, BASE, {"kubeadm_kubernetes_version": "1.33.5"})

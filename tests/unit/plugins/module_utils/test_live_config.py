# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""live_config: a running cluster's cilium-config against the planned values (issue 15 #2).

The ConfigMap data is shaped as the Cilium chart writes it (templates/cilium-configmap.yaml
of the 1.18-1.20 charts: cluster-name, cluster-id as a string, ipam, space-separated
cluster-pool CIDR lists).
"""

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import live_config


def _values(name="eu-core", cid=1, v4=("10.1.0.0/16",), v6=(), mode="cluster-pool"):
    operator = {"clusterPoolIPv4PodCIDRList": list(v4)}
    if v6:
        operator["clusterPoolIPv6PodCIDRList"] = list(v6)
    return {"cluster": {"name": name, "id": cid}, "ipam": {"mode": mode, "operator": operator}}


def _live(name="eu-core", cid="1", v4="10.1.0.0/16", v6="", ipam="cluster-pool"):
    data = {"cluster-name": name, "cluster-id": cid, "ipam": ipam}
    if v4:
        data["cluster-pool-ipv4-cidr"] = v4
    if v6:
        data["cluster-pool-ipv6-cidr"] = v6
    return live_config.read_live(data)


def test_same_config_has_no_changes():
    assert live_config.reinstall_changes("eu-core", _values(), _live()) == []


def test_no_live_config_has_nothing_to_protect():
    assert live_config.read_live({}) is None
    assert live_config.reinstall_changes("eu-core", _values(), None) == []


def test_new_cluster_id_of_a_meshed_cluster_is_refused_naming_both_values():
    (msg,) = live_config.reinstall_changes("eu-core", _values(cid=4), _live(cid="1"))
    assert msg.startswith("cluster eu-core: cilium-config cluster-id is 1 on the running cluster")
    assert "the plan wants 4" in msg and "edgemesh_cluster_id: 1" in msg


def test_renaming_a_meshed_cluster_is_refused():
    (msg,) = live_config.reinstall_changes("us-core", _values(name="us-core"), _live())
    assert "cluster-name is 'eu-core' on the running cluster, the plan wants 'us-core'" in msg


def test_an_unmeshed_cluster_may_take_its_name_and_id():
    live = _live(name="default", cid="0")
    assert live_config.reinstall_changes("eu-core", _values(cid=7), live) == []
    assert live_config.pins(live) == {"edgemesh_pod_cidr": "10.1.0.0/16"}


def test_ipam_mode_change_is_refused():
    (msg,) = live_config.reinstall_changes("eu-core", _values(), _live(ipam="kubernetes"))
    assert "ipam is 'kubernetes'" in msg and "'cluster-pool'" in msg


@pytest.mark.parametrize(
    "planned, refused",
    [
        (("10.1.0.0/16", "10.9.0.0/16"), False),  # appended: allowed
        (("10.2.0.0/16",), True),  # changed
        (("10.9.0.0/16", "10.1.0.0/16"), True),  # reordered: the first pool changes
        ((), True),  # removed
    ],
)
def test_pool_cidrs_can_only_be_appended(planned, refused):
    problems = live_config.reinstall_changes("eu-core", _values(v4=planned), _live())
    assert bool(problems) is refused
    if refused:
        assert "cluster-pool-ipv4-cidr is '10.1.0.0/16'" in problems[0]
        assert "edgemesh_pod_cidr: 10.1.0.0/16" in problems[0]


def test_v6_pool_is_kept_too():
    live = _live(v6="fd00:1::/56 fd00:9::/56")
    (msg,) = live_config.reinstall_changes("eu-core", _values(v6=("fd00:1::/56",)), live)
    assert "cluster-pool-ipv6-cidr" in msg and "edgemesh_pod_cidr_v6: fd00:1::/56" in msg


def test_pins_keep_identity_and_first_pools():
    live = _live(cid="12", v4="10.1.0.0/16 10.9.0.0/16", v6="fd00:1::/56")
    assert live_config.pins(live) == {
        "edgemesh_cluster_id": 12,
        "edgemesh_pod_cidr": "10.1.0.0/16",
        "edgemesh_pod_cidr_v6": "fd00:1::/56",
    }


@pytest.mark.parametrize("data", [["x"], {"cluster-id": "one"}])
def test_unreadable_config_is_an_error_naming_it(data):
    with pytest.raises(live_config.LiveConfigError, match="cilium-config"):
        live_config.read_live(data)


def test_an_unplannable_live_name_is_an_error():
    with pytest.raises(live_config.LiveConfigError, match="live cluster-name 'EU_core'"):
        live_config.pins(_live(name="EU_core", cid="3"))


# ------------------------------------------------- live files (playbooks/adopt_live.yml)

CHART_DATA = {  # a few of the keys the chart writes besides KEYS: not kept
    "cluster-name": "eu-core",
    "cluster-id": "7",
    "ipam": "cluster-pool",
    "cluster-pool-ipv4-cidr": "10.42.0.0/16",
    "cluster-pool-ipv4-mask-size": "24",
    "routing-mode": "tunnel",
    "tunnel-protocol": "vxlan",
}


def test_a_live_file_keeps_only_the_keys_read():
    text = live_config.live_file_text("eu-core", CHART_DATA)
    assert text.endswith("}\n")
    cluster, data = live_config.parse_live_file(text, "live/eu-core.json")
    assert cluster == "eu-core"
    assert data == dict((k, CHART_DATA[k]) for k in live_config.KEYS if k in CHART_DATA)
    assert live_config.live_file_text("eu-core", dict(CHART_DATA)) == text  # byte-stable


def test_a_cluster_without_cilium_is_written_as_null_data():
    text = live_config.live_file_text("eu-edge-1", None)
    assert '"data": null' in text
    assert live_config.parse_live_file(text, "live/eu-edge-1.json") == ("eu-edge-1", None)


@pytest.mark.parametrize(
    "text, part",
    [
        ("{not json", "live/x.json is not JSON"),
        ('{"format": 9, "cluster": "x", "data": null}', "live/x.json: format is 9; allowed: 1"),
        ('{"format": 1, "cluster": "", "data": null}', "live/x.json: cluster '' is not"),
        ('{"format": 1, "cluster": "x", "data": {"cluster-id": "y"}}', "cluster-id 'y'"),
    ],
)
def test_a_live_file_that_cannot_be_read_names_the_file(text, part):
    with pytest.raises(live_config.LiveConfigError) as err:
        live_config.parse_live_file(text, "live/x.json")
    assert part in str(err.value)


def test_targets_are_the_clusters_with_a_kubeconfig():
    hosts = {
        "a1": {"edgemesh_cluster_name": "eu-core", "edgemesh_kubeconfig": "/k/eu"},
        "a2": {"edgemesh_cluster_name": "eu-core", "edgemesh_kubeconfig": "/k/eu"},
        "b1": {"edgemesh_cluster_name": "us-core"},  # built by the collection
        "c1": {
            "edgemesh_cluster_name": "ap-core",
            "edgemesh_kubeconfig": "/k/ap",
            "edgemesh_kube_context": "ap",
        },
    }
    assert live_config.live_targets(hosts) == [
        {"cluster": "ap-core", "kubeconfig": "/k/ap", "context": "ap"},
        {"cluster": "eu-core", "kubeconfig": "/k/eu", "context": ""},
    ]
    hosts["a2"]["edgemesh_kubeconfig"] = "/k/other"
    with pytest.raises(live_config.LiveConfigError, match="hosts a1 and a2 disagree"):
        live_config.live_targets(hosts)


def test_live_files_from_k8s_info_results():
    results = [
        {"item": {"cluster": "eu-core"}, "resources": [{"data": CHART_DATA}]},
        {"item": {"cluster": "eu-edge-1"}, "resources": []},
    ]
    files = live_config.live_files(results)
    assert sorted(files) == ["live/eu-core.json", "live/eu-edge-1.json"]
    assert files["live/eu-core.json"]["mode"] == "0644"
    assert files["live/eu-edge-1.json"]["content"] == live_config.live_file_text("eu-edge-1", None)
    with pytest.raises(live_config.LiveConfigError, match="without its item"):
        live_config.live_files([{"resources": []}])


def test_a_running_release_s_values_are_protected_the_same_way():
    """The cilium role compares the running release's values (helm get values) with the
    new ones before the upgrade (filter live_changes, source=release)."""
    from ansible_collections.edgemesh.cluster_mesh.plugins.filter.live_changes import live_changes

    running = _values(cid=2, v4=("10.2.0.0/16",))
    assert live_changes(running, running, "eu-core", source="release") == []
    (msg,) = live_changes(running, _values(cid=5, v4=("10.2.0.0/16",)), "eu-core", "release")
    assert "cluster-id is 2 on the running cluster, the plan wants 5" in msg
    assert live_changes({}, _values(), "eu-core", source="release") == []

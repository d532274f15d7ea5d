# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The feature -> kernel requirement table, per Cilium minor version."""

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_requirements import (
    FEATURES,
    OPTION_MODULES,
    SUPPORTED_MINORS,
    RequirementError,
    check_features,
    cilium_minor,
    requirements_for,
)

# Cilium's published base list ("Base Requirements"), for every supported minor.
BASE = [
    "CONFIG_BPF",
    "CONFIG_BPF_SYSCALL",
    "CONFIG_NET_CLS_BPF",
    "CONFIG_BPF_JIT",
    "CONFIG_NET_CLS_ACT",
    "CONFIG_NET_SCH_INGRESS",
    "CONFIG_CRYPTO_SHA1",
    "CONFIG_CRYPTO_USER_API_HASH",
    "CONFIG_CGROUPS",
    "CONFIG_CGROUP_BPF",
    "CONFIG_PERF_EVENTS",
    "CONFIG_SCHEDSTATS",
]


def _options(table, feature):
    return [item["option"] for item in table["features"][feature]["options"]]


@pytest.mark.parametrize(
    "text,minor",
    [("1.18", "1.18"), ("1.19.6", "1.19"), ("v1.20.0", "1.20"), ("1.19.0-rc.1", "1.19")],
)
def test_cilium_minor_accepts_version_forms(text, minor):
    assert cilium_minor(text) == minor


@pytest.mark.parametrize("text", ["", None, "latest", "1", "1.19.x", "1.19.6.7"])
def test_cilium_minor_rejects_non_versions(text):
    with pytest.raises(RequirementError, match="is not supported; allowed: 1.18.x, 1.19.x, 1.20.x"):
        cilium_minor(text)


def test_cilium_minor_rejects_unknown_minor_and_lists_known():
    with pytest.raises(
        RequirementError,
        match=r"Cilium version .1.14.3. is not supported; allowed: 1.18.x, 1.19.x, 1.20.x",
    ):
        cilium_minor("1.14.3")


@pytest.mark.parametrize("minor", SUPPORTED_MINORS)
def test_each_minor_has_published_facts(minor):
    table = requirements_for(minor)
    assert table["minor"] == minor
    assert table["min_kernel"] == "5.10" and table["min_kernel_rhel"] == "4.18"
    assert table["docs_url"] == (
        "https://docs.cilium.io/en/v%s/operations/system_requirements/" % minor
    )
    assert _options(table, "base") == BASE
    assert set(table["features"]) == set(FEATURES)
    assert table["features"]["wireguard"]["min_kernel"] == "5.6"
    assert _options(table, "wireguard") == ["CONFIG_WIREGUARD"]
    assert table["features"]["netkit"]["min_kernel"] == "6.8"
    assert _options(table, "netkit") == ["CONFIG_NETKIT"]
    assert _options(table, "bandwidth_manager") == ["CONFIG_NET_SCH_FQ"]
    assert "CONFIG_GENEVE" in _options(table, "geneve")
    assert "CONFIG_VXLAN" in _options(table, "vxlan")
    assert {"CONFIG_XFRM", "CONFIG_INET_ESP"} <= set(_options(table, "ipsec"))
    assert table["features"]["bpf_host_routing"]["min_kernel"] == "5.10"
    assert "CONFIG_NETFILTER_XT_TARGET_TPROXY" in _options(table, "l7_proxy")


def test_requirements_for_returns_a_copy():
    first = requirements_for("1.19")
    first["features"]["base"]["options"].clear()
    assert _options(requirements_for("1.19"), "base") == BASE


def test_option_removed_from_newer_kernels_is_marked():
    items = requirements_for("1.19")["features"]["ipsec"]["options"]
    limits = {i["option"]: i["max_kernel"] for i in items}
    assert limits["CONFIG_INET_XFRM_MODE_TUNNEL"] == "5.2"
    assert limits["CONFIG_INET_ESP"] is None


def test_every_module_mapping_belongs_to_a_feature():
    named = set()
    for feature in FEATURES:
        named.update(_options(requirements_for("1.20"), feature))
    assert set(OPTION_MODULES) <= named


def test_check_features_puts_base_first_and_deduplicates():
    assert check_features(["wireguard", "vxlan", "wireguard"]) == ["base", "wireguard", "vxlan"]
    assert check_features([]) == ["base"]
    assert check_features(("vxlan", "base")) == ["base", "vxlan"]


def test_check_features_rejects_unknown_names():
    with pytest.raises(RequirementError, match=r"unknown feature\(s\): hyperdrive, warp \(known: "):
        check_features(["vxlan", "warp", "hyperdrive"])


def test_check_features_rejects_non_list():
    with pytest.raises(RequirementError, match="features must be a list"):
        check_features("vxlan")

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel config parsing, host fact readers and readiness verdicts, on files the tests write."""

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_requirements import (
    requirements_for,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.kernel_readiness import (
    MISSING,
    READY,
    UNKNOWN,
    ReadinessError,
    bpffs_mounted,
    cgroup_mode,
    config_candidates,
    evaluate,
    find_config,
    iptables_backend,
    loaded_modules,
    memlock_limit,
    networkd_present,
    parse_config,
    parse_version,
    read_config_text,
    read_mounts,
    read_os_release,
    render_table,
)

HEADER = "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 %s Kernel Configuration\n#\n"


def all_options():
    table = requirements_for("1.19")
    return sorted({i["option"] for f in table["features"].values() for i in f["options"]})


def config_text(version="6.12.0", values=None, default="y"):
    """A kernel config: every option any feature names set to ``default``, then overrides."""
    merged = dict((o, default) for o in all_options())
    merged["CONFIG_MODULES"] = "y"
    merged.update(values or {})
    lines = [HEADER % version] if version else []
    for option, value in sorted(merged.items()):
        if value is None:
            continue
        lines.append("# %s is not set" % option if value == "n" else "%s=%s" % (option, value))
    return "\n".join(lines) + "\n"


def write(tmp_path, name, text, compress=False):
    path = tmp_path / name
    if compress:
        with gzip.open(str(path), "wb") as handle:
            handle.write(text.encode())
    else:
        path.write_text(text)
    return str(path)


# --- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_parse_config_reads_y_m_not_set_and_strings(tmp_path, compress):
    text = HEADER % "6.1.0" + (
        "CONFIG_BPF=y\nCONFIG_WIREGUARD=m\n# CONFIG_NETKIT is not set\n"
        'CONFIG_LOCALVERSION="-edge"\nCONFIG_HZ=250\n\n# a comment\n'
    )
    parsed = parse_config(read_config_text(write(tmp_path, "config", text, compress)))
    assert parsed["version"] == (6, 1, 0)
    assert parsed["options"] == {
        "CONFIG_BPF": "y",
        "CONFIG_WIREGUARD": "m",
        "CONFIG_NETKIT": "n",
        "CONFIG_LOCALVERSION": "-edge",
        "CONFIG_HZ": "250",
    }


def test_parse_config_without_header_has_no_version():
    assert parse_config("CONFIG_BPF=y\n")["version"] is None


@pytest.mark.parametrize("text", ["", "hello\nworld\n", "# only comments\n"])
def test_parse_config_rejects_text_without_options(text):
    with pytest.raises(ReadinessError, match="not a kernel configuration file"):
        parse_config(text)


def test_read_config_text_names_missing_file(tmp_path):
    with pytest.raises(ReadinessError, match="cannot read kernel config .*nope"):
        read_config_text(str(tmp_path / "nope"))


def test_read_config_text_rejects_broken_gzip(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ReadinessError, match="cannot read kernel config"):
        read_config_text(str(path))


@given(
    st.dictionaries(
        st.from_regex(r"CONFIG_[A-Z][A-Z0-9_]{0,20}", fullmatch=True),
        st.sampled_from(["y", "m", "n"]),
        min_size=1,
    )
)
@settings(max_examples=60, deadline=None)
def test_parse_config_round_trips_any_option_set(values):
    text = "".join(
        "# %s is not set\n" % k if v == "n" else "%s=%s\n" % (k, v) for k, v in values.items()
    )
    assert parse_config(text)["options"] == values


@pytest.mark.parametrize(
    "release,version",
    [
        ("6.18.44-fc-v669", (6, 18, 44)),
        ("6.12.117+deb12-rt-amd64", (6, 12, 117)),
        ("4.18.0-553.el8_10.x86_64", (4, 18, 0)),
        ("6.8", (6, 8, 0)),
        ("garbage", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_version(release, version):
    assert parse_version(release) == version


def test_config_candidates_and_find_config_order(tmp_path):
    proc, boot, mods = tmp_path / "proc", tmp_path / "boot", tmp_path / "lib"
    for d in (proc, boot, mods / "6.1.0-x"):
        d.mkdir(parents=True)
    candidates = config_candidates("6.1.0-x", str(proc), str(boot), str(mods))
    assert candidates == [
        str(proc / "config.gz"),
        str(boot / "config-6.1.0-x"),
        str(mods / "6.1.0-x" / "config"),
    ]
    assert find_config(candidates) == (None, None)
    write(mods / "6.1.0-x", "config", "CONFIG_MODULES=y\n")
    assert find_config(candidates)[0] == candidates[2]
    write(boot, "config-6.1.0-x", "CONFIG_BPF=y\n")
    path, parsed = find_config(candidates)
    assert path == candidates[1] and parsed["options"] == {"CONFIG_BPF": "y"}
    write(proc, "config.gz", "CONFIG_BPF=m\n", compress=True)
    path, parsed = find_config(candidates)
    assert path == candidates[0] and parsed["options"] == {"CONFIG_BPF": "m"}


# --- host fact readers -----------------------------------------------------------------


def test_read_os_release(tmp_path):
    path = write(
        tmp_path,
        "os-release",
        'PRETTY_NAME="Rocky Linux 9.4"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
        'VERSION_ID="9.4"\n# comment\n',
    )
    assert read_os_release(path) == {
        "id": "rocky",
        "version_id": "9.4",
        "id_like": "rhel centos fedora",
        "pretty_name": "Rocky Linux 9.4",
    }
    assert read_os_release(str(tmp_path / "absent")) == {}


MOUNTS_V2 = "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\nbpf /sys/fs/bpf bpf rw,mode=700 0 0\n"
MOUNTS_HYBRID = (
    "tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
    "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
)
MOUNTS_V1 = "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\nnone /sys/fs/bpf tmpfs rw 0 0\n"


@pytest.mark.parametrize(
    "text,mode,bpf",
    [
        (MOUNTS_V2, "v2", True),
        (MOUNTS_HYBRID, "hybrid", False),
        (MOUNTS_V1, "v1", False),
        ("", "none", False),
    ],
)
def test_mount_readers(tmp_path, text, mode, bpf):
    mounts = read_mounts(write(tmp_path, "mounts", text))
    assert cgroup_mode(mounts) == mode
    assert bpffs_mounted(mounts) is bpf


def test_read_mounts_missing_file_is_empty(tmp_path):
    assert read_mounts(str(tmp_path / "none")) == []


@pytest.mark.parametrize(
    "output,backend",
    [
        ("iptables v1.8.9 (nf_tables)\n", "nf_tables"),
        ("iptables v1.8.7 (legacy)\n", "legacy"),
        ("iptables v1.4.21\n", "legacy"),
        ("", "absent"),
        ("something else", "unknown"),
    ],
)
def test_iptables_backend(output, backend):
    assert iptables_backend(output) == backend


def test_loaded_modules_reads_proc_and_sys(tmp_path):
    proc = write(tmp_path, "modules", "wireguard 1 0 - Live 0x0\nvxlan 2 0 - Live 0x0\n")
    sys_module = tmp_path / "sys"
    (sys_module / "xt_socket").mkdir(parents=True)
    assert loaded_modules(proc, str(sys_module)) == {"wireguard", "vxlan", "xt_socket"}
    assert loaded_modules(str(tmp_path / "x"), str(tmp_path / "y")) == set()


def test_networkd_present(tmp_path):
    assert networkd_present((str(tmp_path),)) is False
    (tmp_path / "systemd-networkd.service").write_text("[Unit]\n")
    assert networkd_present((str(tmp_path),)) is True


def test_memlock_limit_shape():
    limit = memlock_limit()
    for key in ("soft", "hard"):
        assert limit[key] == "unlimited" or limit[key] >= 0


# --- verdicts --------------------------------------------------------------------------


def test_all_builtin_config_is_ready():
    report = evaluate(
        ["vxlan", "wireguard", "netkit", "l7_proxy"],
        "1.19.6",
        "6.12.0",
        parse_config(config_text()),
    )
    assert report["verdict"] == READY and report["ready"] is True
    assert report["missing"] == [] and report["modules_to_load"] == []
    assert report["features_requested"] == ["base", "vxlan", "wireguard", "netkit", "l7_proxy"]
    assert report["cilium_minor"] == "1.19"


def test_missing_option_is_named():
    config = parse_config(config_text(values={"CONFIG_WIREGUARD": "n", "CONFIG_SCHEDSTATS": None}))
    report = evaluate(["wireguard", "vxlan"], "1.19", "6.12.0", config)
    assert report["features"]["wireguard"]["verdict"] == MISSING
    assert report["features"]["wireguard"]["missing_options"] == ["CONFIG_WIREGUARD"]
    assert report["features"]["base"]["missing_options"] == ["CONFIG_SCHEDSTATS"]
    assert report["features"]["vxlan"]["verdict"] == READY
    assert report["missing"] == ["base: CONFIG_SCHEDSTATS", "wireguard: CONFIG_WIREGUARD"]
    assert report["verdict"] == MISSING and report["ready"] is False


def test_module_options_need_loading_when_modules_are_supported():
    config = parse_config(config_text(values={"CONFIG_WIREGUARD": "m", "CONFIG_GENEVE": "m"}))
    report = evaluate(["wireguard", "geneve"], "1.20", "6.12.0", config, loaded={"geneve"})
    assert report["features"]["wireguard"]["verdict"] == READY
    assert report["features"]["wireguard"]["modules_to_load"] == ["wireguard"]
    assert report["features"]["wireguard"]["modules_not_loaded"] == ["wireguard"]
    assert report["features"]["geneve"]["modules_not_loaded"] == []
    assert report["modules_to_load"] == ["geneve", "wireguard"]
    assert report["modules_supported"] is True


def test_no_modules_when_config_modules_unset():
    config = parse_config(config_text(values={"CONFIG_MODULES": "n", "CONFIG_VXLAN": "m"}))
    report = evaluate(["vxlan"], "1.19", "6.12.0", config)
    assert report["modules_supported"] is False
    assert report["modules_to_load"] == []


@pytest.mark.parametrize(
    "feature,release,needed",
    [
        ("base", "5.4.0-150-generic", "5.10"),
        ("netkit", "6.6.30", "6.8"),
        ("big_tcp", "6.1.0", "6.3"),
    ],
)
def test_kernel_too_old_is_missing_with_versions(feature, release, needed):
    report = evaluate([feature], "1.19", release, parse_config(config_text()))
    result = report["features"][feature]
    assert result["verdict"] == MISSING and result["kernel_ok"] is False
    have = ".".join(str(part) for part in parse_version(release))
    assert "%s: kernel >= %s (have %s)" % (feature, needed, have) in report["missing"]


def test_rhel_kernel_counts_as_documented_equivalent():
    config = parse_config(config_text())
    report = evaluate(["wireguard"], "1.19", "4.18.0-553.el8_10.x86_64", config)
    assert report["rhel_equivalent"] is True
    assert report["features"]["base"]["verdict"] == READY
    assert report["features"]["wireguard"]["verdict"] == READY
    plain = evaluate(["wireguard"], "1.19", "4.18.0-553", config)
    assert plain["features"]["base"]["verdict"] == MISSING


def test_option_removed_in_newer_kernels_only_checked_on_older():
    config = parse_config(config_text(values={"CONFIG_INET_XFRM_MODE_TUNNEL": None}))
    assert evaluate(["ipsec"], "1.19", "6.1.0", config)["features"]["ipsec"]["verdict"] == READY
    old = evaluate(["ipsec"], "1.19", "5.1.0", config)["features"]["ipsec"]
    assert "CONFIG_INET_XFRM_MODE_TUNNEL" in old["missing_options"]


def test_no_config_gives_unknown_but_still_judges_versions():
    report = evaluate(["vxlan", "netkit"], "1.19", "6.1.0", None)
    assert report["features"]["vxlan"]["verdict"] == UNKNOWN
    assert report["features"]["netkit"]["verdict"] == MISSING
    assert report["modules_supported"] is None
    ok = evaluate(["vxlan"], "1.19", "6.12.0", None)
    assert ok["verdict"] == UNKNOWN and ok["ready"] is False and ok["missing"] == []


def test_config_header_gives_version_when_release_unknown():
    report = evaluate(["netkit"], "1.19", None, parse_config(config_text(version="6.8.1")))
    assert report["kernel_version"] == "6.8.1"
    assert report["features"]["netkit"]["verdict"] == READY


@given(st.sets(st.sampled_from(all_options())))
@settings(max_examples=60, deadline=None)
def test_feature_ready_exactly_when_its_options_are_set(unset):
    config = parse_config(config_text(values=dict((o, "n") for o in unset)))
    report = evaluate(list(requirements_for("1.19")["features"]), "1.19", "6.12.0", config)
    for name, result in report["features"].items():
        needed = {
            i["option"]
            for i in requirements_for("1.19")["features"][name]["options"]
            if not i["max_kernel"]
        }
        assert (result["verdict"] == READY) == (not needed & unset), name
        assert set(result["missing_options"]) == needed & unset


# --- table -----------------------------------------------------------------------------


def test_render_table_lists_every_host_and_missing_item():
    good = evaluate(["vxlan", "wireguard"], "1.19", "6.12.0", parse_config(config_text()))
    good["kernel"] = {"release": "6.12.0-1-amd64"}
    good["config"] = {"source": "/boot/config-6.12.0-1-amd64"}
    bad = evaluate(
        ["vxlan", "wireguard"],
        "1.19",
        "6.18.44",
        parse_config(config_text(values={"CONFIG_WIREGUARD": "n", "CONFIG_VXLAN": "m"})),
    )
    bad["kernel"] = {"release": "6.18.44-fc"}
    bad["config"] = {"source": "/proc/config.gz"}
    unknown = evaluate(["vxlan"], "1.19", "6.12.0", None)
    text = render_table({"node-b": bad, "node-a": good, "node-c": unknown})
    lines = text.splitlines()
    assert lines[0].split() == ["host", "kernel", "config", "base", "vxlan", "wireguard", "verdict"]
    assert lines[2].split() == [
        "node-a",
        "6.12.0-1-amd64",
        "/boot/config-6.12.0-1-amd64",
        "ready",
        "ready",
        "ready",
        "ready",
    ]
    assert lines[3].split() == [
        "node-b",
        "6.18.44-fc",
        "/proc/config.gz",
        "ready",
        "ready",
        "(m)",
        "MISSING",
        "MISSING",
    ]
    assert lines[4].split()[-1] == "unknown" and lines[4].split()[2] == "none"
    assert "  node-b: wireguard: CONFIG_WIREGUARD" in lines
    assert "  node-c: vxlan: unknown (no kernel config found)" in lines


def test_render_table_rejects_bad_input():
    with pytest.raises(ReadinessError, match="must be a dict"):
        render_table(["x"])
    with pytest.raises(ReadinessError, match="host h1: not a kernel_readiness report"):
        render_table({"h1": {"verdict": "ready"}})

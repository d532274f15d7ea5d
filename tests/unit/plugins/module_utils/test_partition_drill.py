# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""partition_drill: who is cut off, from what, and the nft scripts (issue 16 #2).

The scripts are loaded by the real nft of this machine inside a network namespace of the
test's own (`unshare -n`), twice (idempotent), listed, and healed twice; the Molecule
scenario `drill` sends real packets between test hosts.
"""

import shutil
import subprocess
import sys

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import partition_drill as drill


def _plan():
    def cluster(name, region, nodes, addresses=None):
        return {
            "name": name,
            "region": region,
            "nodes": [dict(host=h, ip=ip, **({"ip_v6": v6} if v6 else {})) for h, ip, v6 in nodes],
            "cilium": {"clustermesh_addresses": addresses or {}},
        }

    return {
        "clusters": [
            cluster("eu-core", "eu", [("eu-1", "192.0.2.11", None), ("eu-2", "192.0.2.12", None)]),
            cluster("eu-edge", "eu", [("edge-1", "192.0.2.21", "2001:db8::21")]),
            cluster(
                "us-core",
                "us",
                [("us-1", "198.51.100.11", "2001:db8:1::11")],
                {"us-core": "198.51.100.200"},
            ),
        ]
    }


def test_targets_cut_one_region_off_the_others():
    result = drill.targets(_plan(), "eu")
    assert result["cut_clusters"] == ["eu-core", "eu-edge"]
    assert result["cut_hosts"] == ["edge-1", "eu-1", "eu-2"]
    assert result["kept_clusters"] == ["us-core"]
    # the other region's node addresses (both families) and its LoadBalancer address;
    # never the cut region's own addresses
    assert result["peers"] == ["198.51.100.11", "198.51.100.200", "2001:db8:1::11"]


def test_targets_the_other_way_round():
    result = drill.targets(_plan(), "us")
    assert result["cut_hosts"] == ["us-1"]
    assert result["peers"] == ["192.0.2.11", "192.0.2.12", "192.0.2.21", "2001:db8::21"]


@pytest.mark.parametrize(
    "plan, region, message",
    [
        (
            _plan(),
            "asia",
            "edgemesh_drill_region 'asia' is not a region of the plan; allowed: eu, us",
        ),
        ({"clusters": _plan()["clusters"][:2]}, "eu", "needs at least two"),
        ({}, "eu", "the plan has no clusters"),
    ],
)
def test_targets_refuse_what_cannot_be_drilled(plan, region, message):
    with pytest.raises(drill.DrillError, match=message):
        drill.targets(plan, region)


@pytest.mark.parametrize(
    "peers, devices, message",
    [
        ([], [], "no peer addresses"),
        (["not-an-ip"], [], "'not-an-ip' is not an IP address"),
        (["192.0.2.1"], ["eth0; flush ruleset"], "is not a network device name"),
    ],
)
def test_cut_script_refuses_bad_input(peers, devices, message):
    with pytest.raises(drill.DrillError, match=message):
        drill.cut_script(peers, devices)


def test_cut_script_has_one_set_per_family_and_drops_both_directions():
    script = drill.cut_script(["2001:db8::1", "192.0.2.1", "192.0.2.1"], ["eth0"])
    assert "elements = { 192.0.2.1 }" in script and "elements = { 2001:db8::1 }" in script
    for hook in ("output", "input", "forward", "egress"):
        assert "hook %s" % hook in script
    assert "ip saddr @peers4 counter drop" in script and "ip6 daddr @peers6 counter drop" in script
    assert "devices = { eth0 }" in script
    assert drill.cut_script(["192.0.2.1"]).count("table netdev") == 2  # add + delete only


needs_nft = pytest.mark.skipif(
    not shutil.which("nft") or not shutil.which("unshare"), reason="nft/unshare not installed"
)


def _in_netns(script):
    """Run a shell script in a new, empty network namespace (root only)."""
    return subprocess.run(
        ["unshare", "-n", "sh", "-ec", script], capture_output=True, text=True, check=False
    )


@needs_nft
def test_real_nft_loads_cuts_twice_and_heals_twice(tmp_path):
    cut = tmp_path / "cut.nft"
    heal = tmp_path / "heal.nft"
    cut.write_text(drill.cut_script(["192.0.2.5", "198.51.100.1", "2001:db8::5"], ["lo"]))
    heal.write_text(drill.heal_script())
    proc = _in_netns(
        "nft -f {cut}; nft -f {cut}; nft list ruleset > {tmp}/cut.txt; "
        "nft -f {heal}; nft -f {heal}; nft list ruleset > {tmp}/healed.txt".format(
            cut=cut, heal=heal, tmp=tmp_path
        )
    )
    if proc.returncode != 0 and "Operation not permitted" in proc.stderr:
        pytest.skip("needs root for a network namespace: %s" % proc.stderr.strip())
    assert proc.returncode == 0, proc.stderr
    listed = (tmp_path / "cut.txt").read_text()
    assert listed.count("table inet edgemesh_drill") == 1
    assert listed.count("table netdev edgemesh_drill") == 1
    assert "elements = { 192.0.2.5, 198.51.100.1 }" in listed
    assert 'hook egress device "lo"' in listed
    assert (tmp_path / "healed.txt").read_text() == ""


PROBE = """
import socket, subprocess, sys
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
server = socket.socket()
server.bind(("0.0.0.0", 0))
server.listen(8)
port = server.getsockname()[1]

def reach(address):
    try:
        socket.create_connection((address, port), timeout=1).close()
        return "ok"
    except socket.timeout:
        return "dropped"

print("before=" + reach("127.0.0.2"))
subprocess.run(["nft", "-f", sys.argv[1]], check=True)
print("cut=" + reach("127.0.0.2"), "other=" + reach("127.0.0.1"))
subprocess.run(["nft", "-f", sys.argv[2]], check=True)
print("healed=" + reach("127.0.0.2"))
"""


@needs_nft
def test_real_nft_drops_traffic_to_a_cut_peer(tmp_path):
    """127.0.0.2 stands for a peer in a namespace of the test's own: real TCP connects
    before, times out while cut (127.0.0.1 still connects), connects again after healing."""
    cut = tmp_path / "cut.nft"
    heal = tmp_path / "heal.nft"
    cut.write_text(drill.cut_script(["127.0.0.2"]))
    heal.write_text(drill.heal_script())
    proc = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", PROBE, str(cut), str(heal)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 and "Operation not permitted" in proc.stderr:
        pytest.skip("needs root for a network namespace: %s" % proc.stderr.strip())
    assert proc.stdout.split() == ["before=ok", "cut=dropped", "other=ok", "healed=ok"], (
        proc.stdout + proc.stderr
    )


@pytest.mark.skipif(not shutil.which("ip"), reason="iproute2 not installed")
def test_devices_of_reads_real_ip_json_output():
    import json

    links = json.loads(
        subprocess.run(["ip", "-j", "address"], capture_output=True, check=True).stdout
    )
    assert drill.devices_of(links, ["127.0.0.1", "::1"]) == ["lo"]
    with pytest.raises(drill.DrillError, match="no network device of this node carries 192.0.2.99"):
        drill.devices_of(links, ["192.0.2.99"])


def test_judge_probe_during_the_cut():
    """During the cut: affinity local answers everywhere, each side reaches itself, nothing
    crosses the cut (cells as dataplane_probe.report gives them)."""
    plan = _plan()
    targets = drill.targets(plan, "eu")
    good = {
        "eu-core": {"local": "2ms", "eu-core": "1ms", "eu-edge": "9ms", "us-core": "curl 28"},
        "eu-edge": {"local": "1ms", "eu-core": "8ms", "eu-edge": "1ms", "us-core": "curl 28"},
        "us-core": {"local": "1ms", "eu-core": "curl 28", "eu-edge": "curl 28", "us-core": "1ms"},
    }
    assert drill.judge_probe(plan, targets, good) == []
    bad = dict(good)
    bad["us-core"] = {"local": "curl 7", "eu-core": "80ms", "eu-edge": "curl 28", "us-core": "1ms"}
    bad["eu-edge"] = dict(good["eu-edge"], **{"eu-core": "curl 28"})
    assert drill.judge_probe(plan, targets, bad) == [
        "eu-edge -> eu-core (same side of the cut) failed during the cut: curl 28",
        "us-core: its global service with affinity local did not answer during the cut (curl 7)",
        "us-core -> eu-core crossed the cut (80ms): the partition did not hold",
    ]

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dataplane_probe: the objects verify.yml applies for the traffic probe, validated strictly
against the Kubernetes 1.35-1.37 schemas (kubernetes-validate, offline), the client's log
format, and the cluster x cluster report (issue 16 #1)."""

import subprocess

import kubernetes_validate
import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import dataplane_probe as probe

PLAN = {"clusters": [{"name": "eu-core"}, {"name": "eu-edge-1"}, {"name": "us-core"}]}
KUBERNETES = ("1.35.0", "1.36.0", "1.37.0")


@pytest.mark.parametrize("version", KUBERNETES)
@pytest.mark.parametrize("cluster", ["eu-core", "us-core"])
def test_every_object_is_valid_kubernetes_strictly(version, cluster):
    objects = probe.objects(PLAN, cluster)
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)
    kinds = [o["kind"] for o in objects]
    assert kinds == ["Namespace", "Deployment", "Service", "Service", "Service", "Service", "Job"]


def test_every_cluster_gets_the_same_services_and_only_its_own_echo_label():
    per_cluster = {name: probe.objects(PLAN, name) for name in ("eu-core", "us-core")}
    services = dict(
        (name, [o for o in objs if o["kind"] == "Service"]) for name, objs in per_cluster.items()
    )
    assert services["eu-core"] == services["us-core"]
    only_us = [s for s in services["eu-core"] if s["metadata"]["name"] == "echo-only-us-core"][0]
    assert only_us["spec"]["selector"][probe.CLUSTER_LABEL] == "us-core"
    assert only_us["metadata"]["annotations"] == {"service.cilium.io/global": "true"}
    glob = [s for s in services["eu-core"] if s["metadata"]["name"] == "echo-global"][0]
    assert glob["metadata"]["annotations"]["service.cilium.io/affinity"] == "local"
    echo = per_cluster["eu-core"][1]
    assert echo["spec"]["template"]["metadata"]["labels"][probe.CLUSTER_LABEL] == "eu-core"
    namespace = per_cluster["eu-core"][0]
    assert namespace["metadata"]["annotations"] == {"clustermesh.cilium.io/global": "true"}


def test_images_and_timeouts_are_options():
    objs = probe.objects(
        PLAN, "eu-core", {"echo_image": "mirror.local/agnhost:2.53", "client_image": "m/c:1"}
    )
    assert (
        objs[1]["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror.local/agnhost:2.53"
    )
    assert objs[-1]["spec"]["template"]["spec"]["containers"][0]["image"] == "m/c:1"
    with pytest.raises(probe.ProbeError, match="probe option 'echo_imag' is unknown"):
        probe.options({"echo_imag": "x"})
    with pytest.raises(probe.ProbeError, match="probe option timeout is 0; allowed: seconds >= 1"):
        probe.options({"timeout": 0})
    with pytest.raises(probe.ProbeError, match="cluster 'asia' is not in the plan"):
        probe.objects(PLAN, "asia")


def test_the_client_script_prints_the_lines_parse_log_reads(tmp_path):
    """Run the client's real shell script with a curl stand-in (no cluster here): the lines
    it prints are exactly what parse_log reads."""
    job = probe.objects(PLAN, "eu-core")[-1]
    script = job["spec"]["template"]["spec"]["containers"][0]["command"][2]
    fake = tmp_path / "curl"
    # STAND-IN for curl: answers as the echo pod of the cluster named in the URL would,
    # times out (exit 28) for us-core.
    fake.write_text(
        "#!/bin/sh\nfor a; do url=$a; done\nsvc=${url#http://}; svc=${svc%%:*}\n"
        'case $svc in *us-core) exit 28;; echo-global) echo "echo-eu-core-7d9f-x2k4 0.004";;\n'
        '*) echo "echo-${svc#echo-only-}-5c6b-q8w2 0.012";; esac\n'
    )
    fake.chmod(0o755)
    out = subprocess.run(
        ["/bin/sh", "-c", script],
        capture_output=True,
        text=True,
        env={"PATH": "%s:/usr/bin:/bin" % tmp_path},
        check=True,
    ).stdout
    calls = probe.parse_log(out)
    assert set(calls) == {
        "echo-global",
        "echo-only-eu-core",
        "echo-only-eu-edge-1",
        "echo-only-us-core",
    }
    assert calls["echo-only-eu-edge-1"] == {
        "answer": "echo-eu-edge-1-5c6b-q8w2",
        "seconds": 0.012,
        "code": 0,
    }
    assert calls["echo-only-us-core"]["code"] == 28


def _log(answers):
    return "\n".join("edgemesh-probe service=%s answer=%s seconds=%s code=%d" % a for a in answers)


def test_report_table_and_failures():
    logs = {
        "eu-core": _log(
            [
                ("echo-global", "echo-eu-core-a-b", "0.002", 0),
                ("echo-only-eu-core", "echo-eu-core-a-b", "0.002", 0),
                ("echo-only-eu-edge-1", "echo-eu-edge-1-a-b", "0.015", 0),
                ("echo-only-us-core", "-", "0", 28),
            ]
        ),
        "eu-edge-1": _log(
            [
                ("echo-global", "echo-eu-core-a-b", "0.010", 0),  # affinity local broken
                ("echo-only-eu-core", "echo-eu-core-a-b", "0.011", 0),
                ("echo-only-eu-edge-1", "echo-eu-edge-1-a-b", "0.001", 0),
                ("echo-only-us-core", "echo-us-core-a-b", "0.080", 0),
            ]
        ),
        "us-core": None,
    }
    result = probe.report(PLAN, logs)
    assert result["failures"] == [
        "eu-core -> us-core via echo-only-us-core: curl exit code 28 (28: timed out)",
        "eu-edge-1 -> eu-edge-1 via echo-global: answered by eu-core",
    ] + [
        "us-core -> %s via %s: the probe Job gave no log" % (t, s)
        for t, s in [
            ("us-core", "echo-global"),
            ("eu-core", "echo-only-eu-core"),
            ("eu-edge-1", "echo-only-eu-edge-1"),
            ("us-core", "echo-only-us-core"),
        ]
    ]
    lines = result["table"].splitlines()
    assert lines[0].split() == ["from", "\\", "to", "local", "eu-core", "eu-edge-1", "us-core"]
    assert lines[1].split() == ["eu-core", "2ms", "2ms", "15ms", "curl", "28"]
    assert lines[2].split() == ["eu-edge-1", "wrong:", "eu-core", "11ms", "1ms", "80ms"]


def test_answered_by_prefers_the_longest_cluster_name():
    assert probe.answered_by("echo-eu-edge-1-5c6b-q8w2", ["eu", "eu-edge-1"]) == "eu-edge-1"
    assert probe.answered_by("something-else", ["eu"]) is None

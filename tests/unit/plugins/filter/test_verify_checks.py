# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify_checks filter: argument checks and the call into module_utils.cilium_status.

The registered answers are a stand-in for a Kubernetes API server (none runs here); the
status text is the verbatim documentation sample of tests/fixtures/cilium-status.
"""

import pathlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.verify_checks import (
    FilterModule,
    verify_checks,
)

STATUS = (
    pathlib.Path(__file__).resolve().parents[3]
    / "fixtures"
    / "cilium-status"
    / "docs-troubleshooting-clustermesh.txt"
).read_text(encoding="utf-8")
REGISTERED = {
    "workloads": {"results": [{"msg": "refused"}] * 3},
    "agents": {"api_found": True, "resources": [{"metadata": {"name": "cilium-x"}}]},
    "status": {"stdout": STATUS},
    "local_services": {"results": [], "skipped": True},
}


def test_filter_is_registered():
    assert FilterModule().filters()["verify_checks"] is verify_checks


def test_flags_and_remotes_reach_the_checks():
    strict = verify_checks(REGISTERED, 1)
    assert strict["clustermesh"] == {"ok": True, "detail": "1/1 remote ready, want 1/1"}
    assert strict["encryption"] == {"ok": False, "detail": "no Encryption line"}
    relaxed = verify_checks(REGISTERED, 2, False, False)
    assert relaxed["clustermesh"]["ok"] is False
    assert relaxed["encryption"]["ok"] is True and relaxed["kube-proxy-replacement"]["ok"] is True


@pytest.mark.parametrize(
    "args,message",
    [
        (
            (REGISTERED, "2"),
            "verify_checks: expected_remotes is '2'; allowed: a number of clusters",
        ),
        ((REGISTERED, True), "verify_checks: expected_remotes is True; allowed: a number"),
        ((REGISTERED, -1), "verify_checks: expected_remotes is -1; allowed: 0 or more"),
        (
            (REGISTERED, 1, "yes"),
            "verify_checks: expect_encryption is 'yes'; allowed: true or false",
        ),
        (
            (REGISTERED, 1, True, None),
            "verify_checks: expect_kube_proxy_replacement is None; allowed: true or false",
        ),
        (("x", 1), "verify_checks: registered results are 'x'; allowed: a mapping"),
    ],
)
def test_bad_arguments_raise_filter_errors(args, message):
    with pytest.raises(AnsibleFilterError, match="^" + message):
        verify_checks(*args)


def test_peers_and_waited_reach_the_checks():
    cells = verify_checks(REGISTERED, 2, peers=["k8s-c2", "us-core"], waited=30)
    assert cells["clustermesh"] == {
        "ok": False,
        "detail": "1/1 remote ready, want 2/2; us-core not connected (still so after waiting 30 s)",
    }
    with pytest.raises(AnsibleFilterError, match="^verify_checks: peers is 'x'; allowed"):
        verify_checks(REGISTERED, 1, peers="x")
    with pytest.raises(AnsibleFilterError, match="^verify_checks: waited is -1; allowed"):
        verify_checks(REGISTERED, 1, waited=-1)

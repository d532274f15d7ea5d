# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters verify_ready and verify_retries (the until/retries of the verify role's waits).
The registered answers are a stand-in for a Kubernetes API server; the status text is the
verbatim documentation sample of tests/fixtures/cilium-status."""

import pathlib
import time

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.verify_ready import (
    FilterModule as ReadyFilters,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.filter.verify_retries import (
    FilterModule as RetriesFilters,
)

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "cilium-status"
HEALTHY = "".join(
    (FIXTURES / name).read_text(encoding="utf-8")
    for name in (
        "docs-kubeproxy-free.txt",
        "docs-encryption-wireguard.txt",
        "docs-troubleshooting-clustermesh.txt",
    )
)
verify_ready = ReadyFilters().filters()["verify_ready"]
verify_retries = RetriesFilters().filters()["verify_retries"]


def test_verify_ready():
    assert verify_ready({"stdout": HEALTHY}, "status", expected_remotes=1) is True
    assert verify_ready({"stdout": HEALTHY}, "status", expected_remotes=2) is False
    assert verify_ready({"stdout": HEALTHY}, "status", 1, peers=["k8s-c2", "x"]) is False
    assert verify_ready({"stdout": HEALTHY}, "status", 1, False, False, ["k8s-c2"]) is True
    assert verify_ready({"msg": "refused"}, "agents") is False


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (({}, "pods"), {}, "verify_ready: wait 'pods' is unknown"),
        (({}, "status"), {"expected_remotes": "1"}, "verify_ready: expected_remotes is '1'"),
        (({}, "status"), {"expected_remotes": True}, "verify_ready: expected_remotes is True"),
        (({}, "status"), {"expect_encryption": 1}, "verify_ready: expect_encryption is 1"),
        (({}, "status"), {"peers": "a"}, "verify_ready: peers is 'a'; allowed: cluster names"),
        (("x", "agents"), {}, "verify_ready: agents: 'x' is not a registered result"),
    ],
)
def test_verify_ready_refuses(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match="^" + message):
        verify_ready(*args, **kwargs)


def test_verify_retries_counts_from_now():
    assert verify_retries(time.time(), 300, 10) in (29, 30)
    assert verify_retries(str(time.time() - 100), 300, 10) in (19, 20)  # a templated fact
    assert verify_retries(time.time() - 1000, 300, 10) == 0
    with pytest.raises(AnsibleFilterError, match="^verify_retries: started is 'soon'"):
        verify_retries("soon", 300, 10)
    with pytest.raises(AnsibleFilterError, match="^verify_retries: delay is 0; allowed"):
        verify_retries(time.time(), 300, 0)

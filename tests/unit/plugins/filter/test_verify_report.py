# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify_report filter: argument checks and the call into module_utils.cilium_status."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.verify_report import (
    FilterModule,
    verify_report,
)

OK = {"ok": True, "detail": "3/3 ready"}


def test_filter_is_registered():
    assert FilterModule().filters()["verify_report"] is verify_report


def test_clusters_without_checks_are_reported():
    result = verify_report(["a", "b"], [{"agents": OK}])
    assert result["table"][1].startswith("a       | ok     | -        |")
    assert result["failures"] == ["b: not checked (see the errors above)"]


@pytest.mark.parametrize(
    "args,message",
    [
        (("a", []), "verify_report: expected a list of cluster names, got 'a'"),
        ((["a"], "x"), "verify_report: checks must be a list with at most one entry per cluster"),
        (
            (["a"], [{}, {}]),
            "verify_report: checks must be a list with at most one entry per cluster",
        ),
        ((["a"], ["x"]), "verify_report: cluster a: checks are 'x'; allowed: a mapping"),
        (
            (["a"], [{"agents": True}]),
            "verify_report: cluster a: check agents is True; allowed: a mapping with ok and detail",
        ),
    ],
)
def test_bad_arguments_raise_filter_errors(args, message):
    with pytest.raises(AnsibleFilterError, match="^" + message):
        verify_report(*args)

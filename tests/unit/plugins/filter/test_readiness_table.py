# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readiness_table filter: argument checks and the call into module_utils."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.readiness_table import (
    FilterModule,
    readiness_table,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.kernel_readiness import (
    evaluate,
    parse_config,
)


def report(host, wireguard):
    config = parse_config("CONFIG_WIREGUARD=%s\n" % wireguard)
    result = evaluate(["wireguard"], "1.19", "6.12.0", config)
    result["host"] = host
    return result


def test_filter_is_registered():
    assert FilterModule().filters()["readiness_table"] is readiness_table


def test_list_and_dict_inputs_render_the_same():
    reports = [report("b", "y"), report("a", "n")]
    as_dict = readiness_table({r["host"]: r for r in reports})
    assert readiness_table(reports) == as_dict
    assert "  a: wireguard: CONFIG_WIREGUARD" in as_dict.splitlines()


@pytest.mark.parametrize(
    "value,message",
    [
        (
            "text",
            "readiness_table: expected a dict of host -> report or a list of reports, got str",
        ),
        ([{"verdict": "ready"}], "readiness_table: every report in a list needs a 'host'"),
        ({"h": {"x": 1}}, "readiness_table: host h: not a kernel_readiness report"),
    ],
)
def test_bad_input_raises_filter_error(value, message):
    with pytest.raises(AnsibleFilterError, match="^" + message.replace("(", r"\(")):
        readiness_table(value)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""issue 16 #3: a resilience profile reaches the agents' cilium-config, rendered by the real
helm and the real charts: `clustermesh-cache-ttl` (1.19+) and `clustermesh-sync-timeout`
(through extraConfig) hold the profile's values; without a profile neither is set by us."""

import subprocess

import pytest
import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import cilium_values as cv
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules
from ansible_collections.edgemesh.cluster_mesh.tests.unit.plugins.module_utils.test_cilium_values import (
    make_plan,
)

from .conftest import chart_path


def _config(helm, chart, values, tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    out = subprocess.run(
        [helm, "template", "cilium", chart, "--namespace", "kube-system", "-f", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for doc in yaml.safe_load_all(out):
        if doc and doc.get("kind") == "ConfigMap" and doc["metadata"]["name"] == "cilium-config":
            return doc["data"]
    raise AssertionError("no cilium-config rendered")


@pytest.mark.parametrize("version", ["1.18.12", "1.20.0"])
def test_flaky_profile_reaches_cilium_config(helm_binary, version, tmp_path):
    chart = chart_path(helm_binary, version)
    plan = make_plan(2, version=version)
    config = _config(
        helm_binary, chart, cv.cluster_values(plan, "c01", {"mesh_profile": "flaky"}), tmp_path
    )
    assert config["clustermesh-sync-timeout"] == "5m"
    if version.rsplit(".", 1)[0] in mesh_rules.CACHE_TTL_MINORS:
        assert config["clustermesh-cache-ttl"] == "0s"
    wan = _config(
        helm_binary, chart, cv.cluster_values(plan, "c01", {"mesh_profile": "wan"}), tmp_path
    )
    assert wan["clustermesh-sync-timeout"] == "2m"
    if version.rsplit(".", 1)[0] in mesh_rules.CACHE_TTL_MINORS:
        assert wan["clustermesh-cache-ttl"] == "1h"
    plain = _config(helm_binary, chart, cv.cluster_values(plan, "c01"), tmp_path)
    assert "clustermesh-sync-timeout" not in plain

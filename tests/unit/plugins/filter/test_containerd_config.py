# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The containerd_config filter: argument checks and the call into module_utils."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.containerd_config import (
    FilterModule,
    containerd_config,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.containerd_config import (
    render_config,
)


def test_filter_is_registered():
    assert FilterModule().filters()["containerd_config"] is containerd_config


def test_filter_returns_the_module_utils_text():
    kw = {"sandbox_image": "registry.k8s.io/pause:3.10", "cni_bin_dir": "/opt/cni/bin"}
    assert containerd_config("2.3.4", **kw) == render_config("2.3.4", **kw)


@pytest.mark.parametrize(
    "value,kw,message",
    [
        (2.1, {}, "containerd_config: the input must be a containerd version string, got float"),
        (
            "2.1.9",
            {"sandbox": "x"},
            "containerd_config: unknown option(s) sandbox; allowed: sandbox_image",
        ),
        (
            "1.5.0",
            {},
            "containerd_config: containerd 1.5.0 is not supported; allowed: containerd 1.6, 1.7 or 2.x",
        ),
        ("2.1.9", {"cni_bin_dir": "bin"}, "containerd_config: cni_bin_dir 'bin' is not allowed"),
    ],
)
def test_errors_are_filter_errors_prefixed_with_the_filter_name(value, kw, message):
    with pytest.raises(AnsibleFilterError) as exc:
        containerd_config(value, **kw)
    assert str(exc.value).startswith(message)

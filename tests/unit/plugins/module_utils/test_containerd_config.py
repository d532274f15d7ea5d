# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd_config: which layout each containerd version reads, and the text written.

The layouts are checked here as text and parsed TOML; that the real containerd 1.6, 1.7 and
2.1 binaries read them as meant is tests/integration/containerd. Facts: containerd's
RELEASES.md (configuration version table) and docs/cri/config.md at v1.7.24, v2.1.9, v2.3.4.
"""

import tomllib

import pytest

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.containerd_config import (
    ContainerdConfigError,
    layout_for,
    render_config,
    version_from_text,
)

PAUSE = "registry.k8s.io/pause:3.10"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2.3.4", (2, 3, 4)),
        ("v2.1.9", (2, 1, 9)),
        ("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3", (1, 6, 20)),
        ("containerd github.com/containerd/containerd/v2 2.1.9+unknown ", (2, 1, 9)),
        ("containerd containerd.io v1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da", (1, 7, 27)),
    ],
)
def test_version_from_text_reads_versions_and_version_lines(text, expected):
    assert tuple(version_from_text(text)[:3]) == expected


@pytest.mark.parametrize("text", ["", "containerd", "2.1", None, 2.1])
def test_version_from_text_refuses_what_names_no_version(text):
    with pytest.raises(ContainerdConfigError, match="names no containerd version; allowed: X.Y.Z"):
        version_from_text(text)


@pytest.mark.parametrize(
    "version,config_version,images,runtime",
    [
        ("1.6.20", 2, "io.containerd.grpc.v1.cri", "io.containerd.grpc.v1.cri"),
        ("1.7.24", 2, "io.containerd.grpc.v1.cri", "io.containerd.grpc.v1.cri"),
        ("2.0.0", 3, "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"),
        ("2.1.9", 3, "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"),
        ("2.2.7", 3, "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"),
        ("2.3.4", 4, "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"),
    ],
)
def test_layout_per_version(version, config_version, images, runtime):
    layout = layout_for(version)
    assert (layout.config_version, layout.images_plugin, layout.runtime_plugin) == (
        config_version,
        images,
        runtime,
    )


@pytest.mark.parametrize("version", ["1.5.18", "1.8.0", "3.0.0", "0.2.0"])
def test_unsupported_versions_are_refused_naming_what_is_allowed(version):
    with pytest.raises(ContainerdConfigError) as exc:
        layout_for(version)
    assert str(
        exc.value
    ) == "containerd %s is not supported; allowed: containerd 1.6, 1.7 or 2.x" % (version)


def _toml(version, **kw):
    return tomllib.loads(render_config(version, **kw))


def test_version_2_layout_for_containerd_1():
    doc = _toml("1.7.24", sandbox_image=PAUSE)
    cri = doc["plugins"]["io.containerd.grpc.v1.cri"]
    assert doc["version"] == 2
    assert cri["sandbox_image"] == PAUSE
    assert cri["registry"] == {"config_path": "/etc/containerd/certs.d"}
    assert cri["cni"] == {"bin_dir": "/opt/cni/bin", "conf_dir": "/etc/cni/net.d"}
    runc = cri["containerd"]["runtimes"]["runc"]
    assert runc == {"runtime_type": "io.containerd.runc.v2", "options": {"SystemdCgroup": True}}
    assert sorted(doc["plugins"]) == ["io.containerd.grpc.v1.cri"]


@pytest.mark.parametrize("version,config_version", [("2.0.6", 3), ("2.1.9", 3), ("2.3.4", 4)])
def test_version_3_and_4_layout_for_containerd_2(version, config_version):
    doc = _toml(version, sandbox_image=PAUSE, registry_config_path="/etc/mirrors")
    images = doc["plugins"]["io.containerd.cri.v1.images"]
    runtime = doc["plugins"]["io.containerd.cri.v1.runtime"]
    assert doc["version"] == config_version
    assert sorted(doc["plugins"]) == ["io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"]
    assert images == {
        "pinned_images": {"sandbox": PAUSE},
        "registry": {"config_path": "/etc/mirrors"},
    }
    runc = runtime["containerd"]["runtimes"]["runc"]
    assert runc == {"runtime_type": "io.containerd.runc.v2", "options": {"SystemdCgroup": True}}
    assert "sandbox_image" not in runtime and "sandbox_image" not in images


def test_cni_bin_dir_is_a_list_from_2_1_on():
    assert (
        _toml("2.0.6")["plugins"]["io.containerd.cri.v1.runtime"]["cni"]["bin_dir"]
        == "/opt/cni/bin"
    )
    cni = _toml("2.1.0", cni_bin_dir="/usr/lib/cni")["plugins"]["io.containerd.cri.v1.runtime"][
        "cni"
    ]
    assert cni == {"bin_dirs": ["/usr/lib/cni"], "conf_dir": "/etc/cni/net.d"}


def test_no_sandbox_image_leaves_containerd_default():
    assert "sandbox" not in render_config("2.1.9")
    assert "sandbox_image" not in render_config("1.6.20")


def test_output_is_byte_stable_and_starts_with_the_layout_comment():
    text = render_config("2.3.4", sandbox_image=PAUSE)
    assert text == render_config("v2.3.4", sandbox_image=PAUSE)
    assert text.splitlines()[:2] == [
        "# containerd 2.3 reads configuration version 4",
        "version = 4",
    ]
    assert text.endswith("SystemdCgroup = true\n")


def test_strings_are_toml_quoted():
    doc = _toml("2.1.9", registry_config_path='/etc/a "b"\\c')
    assert (
        doc["plugins"]["io.containerd.cri.v1.images"]["registry"]["config_path"] == '/etc/a "b"\\c'
    )


@pytest.mark.parametrize(
    "kw,message",
    [
        (
            {"sandbox_image": "pause 3.10"},
            "sandbox_image 'pause 3.10' is not allowed; allowed: an image reference",
        ),
        ({"sandbox_image": '"x"'}, "sandbox_image '\"x\"' is not allowed"),
        (
            {"registry_config_path": "certs.d"},
            "registry_config_path 'certs.d' is not allowed; allowed: an absolute path",
        ),
        ({"cni_bin_dir": ""}, "cni_bin_dir '' is not allowed; allowed: an absolute path"),
        ({"cni_conf_dir": None}, "cni_conf_dir None is not allowed; allowed: an absolute path"),
    ],
)
def test_bad_options_are_refused_with_the_option_name(kw, message):
    with pytest.raises(ContainerdConfigError) as exc:
        render_config("2.1.9", **kw)
    assert str(exc.value).startswith(message)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's configuration file for a kubeadm node, in the layout its version reads.

Which layout a containerd version reads (facts from containerd's RELEASES.md "Daemon
Configuration" table and docs/cri/config.md at the tags v1.7.24, v2.1.9 and v2.3.4):

* 1.6 and 1.7 read configuration version 2; the CRI plugin is ``io.containerd.grpc.v1.cri``
  with ``sandbox_image`` and the runc options under ``containerd.runtimes.runc.options``.
  1.7 refuses ``version = 3``; 1.6 silently ignores the 2.x plugin names.
* 2.0, 2.1 and 2.2 read version 3: images in ``io.containerd.cri.v1.images`` (the sandbox
  image is ``pinned_images.sandbox``), runtimes in ``io.containerd.cri.v1.runtime``. They
  still read version 2, but migrate it at every start with a warning.
* 2.3 introduced version 4: the same CRI sections as version 3; only the server sections
  (grpc, ttrpc, debug, metrics), which this file does not set, moved into plugins. 2.3
  migrates a version 3 file at every start with a warning, so 2.3 and later get version 4.
* the CNI binary directory is ``bin_dir`` up to 2.0 and the list ``bin_dirs`` from 2.1 on
  (``bin_dir`` is deprecated there).

``render_config`` returns the whole file body: the role writes exactly these bytes (after
its ``ansible_managed`` comment line), and tests/integration/containerd feeds the same
bytes to the real containerd 1.6, 1.7 and 2.1 binaries.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from collections import namedtuple

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.mesh_rules import (
    RuleError,
    parse_version,
)

SUPPORTED_TEXT = "containerd 1.6, 1.7 or 2.x"

Layout = namedtuple(
    "Layout", "config_version images_plugin runtime_plugin sandbox_table sandbox_key cni_list"
)

_V2 = Layout(
    2, "io.containerd.grpc.v1.cri", "io.containerd.grpc.v1.cri", "", "sandbox_image", False
)

# An X.Y.Z token, as `containerd --version` prints it (v2.1.9, 1.6.20~ds1, 2.1.9+unknown).
_VERSION_TOKEN_RE = re.compile(r"(?:^|\s)v?(\d+\.\d+\.\d+)")
_IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$")


class ContainerdConfigError(ValueError):
    """A version or an option the configuration cannot be written for; says what is allowed."""


def version_from_text(text):
    """'2.1.9', 'v2.1.9' or a `containerd --version` line -> mesh_rules.Version."""
    match = _VERSION_TOKEN_RE.search(str(text)) if isinstance(text, str) else None
    if match is None:
        raise ContainerdConfigError(
            "%r names no containerd version; allowed: X.Y.Z or the output of "
            "`containerd --version`" % (text,)
        )
    try:
        return parse_version(match.group(1))
    except RuleError as exc:
        raise ContainerdConfigError(str(exc))


def layout_for(version):
    """The configuration layout containerd ``version`` (text or Version) reads."""
    ver = version_from_text(version) if isinstance(version, str) else version
    if ver.major == 1 and ver.minor in (6, 7):
        return _V2
    if ver.major == 2:
        return Layout(
            4 if ver.minor >= 3 else 3,
            "io.containerd.cri.v1.images",
            "io.containerd.cri.v1.runtime",
            ".pinned_images",
            "sandbox",
            ver.minor >= 1,
        )
    raise ContainerdConfigError(
        "containerd %d.%d.%d is not supported; allowed: %s"
        % (ver.major, ver.minor, ver.patch, SUPPORTED_TEXT)
    )


def _path(name, value):
    if not isinstance(value, str) or not value.startswith("/"):
        raise ContainerdConfigError(
            "%s %r is not allowed; allowed: an absolute path" % (name, value)
        )
    return json.dumps(value)


def _image(value):
    if not isinstance(value, str) or not _IMAGE_RE.match(value):
        raise ContainerdConfigError(
            "sandbox_image %r is not allowed; allowed: an image reference such as "
            "registry.k8s.io/pause:3.10, or empty for containerd's default" % (value,)
        )
    return json.dumps(value)


def _section(name, lines):
    return ["", "[plugins.%s]" % name] + ["  " + line for line in lines]


def render_config(
    version,
    sandbox_image="",
    registry_config_path="/etc/containerd/certs.d",
    cni_bin_dir="/opt/cni/bin",
    cni_conf_dir="/etc/cni/net.d",
):
    """The configuration text for containerd ``version``: systemd cgroups for runc, the
    registry hosts directory, the CNI directories and (when given) the sandbox image."""
    ver = version_from_text(version)
    layout = layout_for(ver)
    images, runtime = json.dumps(layout.images_plugin), json.dumps(layout.runtime_plugin)
    cni_bin = _path("cni_bin_dir", cni_bin_dir)
    lines = [
        "# containerd %d.%d reads configuration version %d"
        % (ver.major, ver.minor, layout.config_version),
        "version = %d" % layout.config_version,
    ]
    if sandbox_image:
        lines += _section(
            images + layout.sandbox_table,
            ["%s = %s" % (layout.sandbox_key, _image(sandbox_image))],
        )
    lines += _section(
        images + ".registry",
        ["config_path = %s" % _path("registry_config_path", registry_config_path)],
    )
    lines += _section(
        runtime + ".cni",
        [
            ("bin_dirs = [%s]" if layout.cni_list else "bin_dir = %s") % cni_bin,
            "conf_dir = %s" % _path("cni_conf_dir", cni_conf_dir),
        ],
    )
    lines += _section(
        runtime + ".containerd.runtimes.runc", ['runtime_type = "io.containerd.runc.v2"']
    )
    lines += _section(runtime + ".containerd.runtimes.runc.options", ["SystemdCgroup = true"])
    return "\n".join(lines) + "\n"

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeadm role's containerd configuration, read by the real containerd binaries.

For Debian's containerd 1.6 (bookworm), 1.7 (trixie) and 2.1 (unstable) the file the role
writes (its template, rendered with the role's defaults and the containerd_config filter)
is given to the real binary:

* ``containerd --config FILE config dump`` must exit 0 with an empty stderr, and the dump
  must hold ``SystemdCgroup = true`` for runc, the sandbox image, ``config_path`` and the CNI
  binary directory at the places that version reads them (the places are written here, from
  containerd's docs/cri/config.md of v1.7.24 and v2.1.9, not taken from the code under test);
* the daemon itself boots on the file (private mount namespace, temporary root/state/socket:
  nothing of this machine is touched) with no warning or error in its log other than the
  missing CNI network (Cilium writes it later) and 1.6's unconfigured devmapper, and
  ``ctr deprecations list`` (1.7+) reports nothing.

The other direction proves the checks can fail: the 1.x layout given to 2.1 is migrated with
a warning at every start, the 2.0 layout (``bin_dir``) given to 2.1 is a deprecation, the
2.x layout given to 1.7 is refused and given to 1.6 is silently ignored (no systemd cgroups).
"""

import os
import pathlib
import re
import shutil
import subprocess
import tomllib

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.edgemesh.cluster_mesh.plugins.filter.containerd_config import (
    containerd_config,
)

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "kubeadm"
# Not any version's default, so the dump shows where the role's value went.
PAUSE = "mirror.example/k8s/pause:3.10"
CERTS = "/etc/containerd/certs.d"
CNI_BIN = "/opt/cni/bin"
V2_CRI = ("io.containerd.grpc.v1.cri",)
V3_IMAGES = ("io.containerd.cri.v1.images",)
V3_RUNTIME = ("io.containerd.cri.v1.runtime",)
RUNC = ("containerd", "runtimes", "runc", "options", "SystemdCgroup")
# Where each containerd minor reads what the role sets (docs/cri/config.md of that version).
EXPECTED = {
    "1.6": {
        V2_CRI + ("sandbox_image",): PAUSE,
        V2_CRI + ("registry", "config_path"): CERTS,
        V2_CRI + RUNC: True,
        V2_CRI + ("cni", "bin_dir"): CNI_BIN,
    },
    "2.1": {
        V3_IMAGES + ("pinned_images", "sandbox"): PAUSE,
        V3_IMAGES + ("registry", "config_path"): CERTS,
        V3_RUNTIME + RUNC: True,
        V3_RUNTIME + ("cni", "bin_dirs"): [CNI_BIN],
    },
}
EXPECTED["1.7"] = EXPECTED["1.6"]
# Log lines that come from this machine, not from the configuration.
ENVIRONMENT_NOISE = re.compile(
    r"failed to load cni during init|no network config found in /etc/cni/net.d"
    r"|devmapper not configured"
)


def role_config(version_line, sandbox_image=PAUSE):
    """The bytes the role writes: its template with its defaults, filled by the filter."""
    loader = DataLoader()
    defaults = loader.load_from_file(str(ROLE / "defaults" / "main.yml"))
    text = containerd_config(
        version_line,
        sandbox_image=sandbox_image,
        registry_config_path=defaults["kubeadm_containerd_registry_config_path"],
        cni_bin_dir=defaults["kubeadm_containerd_cni_bin_dir"],
    )
    templar = Templar(
        loader=loader,
        variables={"ansible_managed": "Ansible managed", "_kubeadm_containerd_config": text},
    )
    source = (ROLE / "templates" / "containerd-config.toml.j2").read_text(encoding="utf-8")
    return templar.template(trust_as_template(source))


def minor(found):
    return found.version_line.split()[2].lstrip("v")[:3]


def dump(found, config_path):
    return subprocess.run(
        [str(found.containerd), "--config", str(config_path), "config", "dump"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def dump_problems(text, expected):
    """What in a `config dump` differs from ``expected`` ({key path: value})."""
    doc = tomllib.loads(text)
    problems = []
    for path, want in sorted(expected.items()):
        node = doc.get("plugins", {})
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node != want:
            problems.append("plugins.%s = %r, want %r" % (".".join(path), node, want))
    return problems


def boot(found, config_path, tmp):
    """Start the real daemon on the file until it reports being booted; its log lines and
    (1.7+) `ctr deprecations list`. A private mount namespace with tmpfs over /run, /opt
    and /etc/cni keeps the sockets and directories containerd makes by default off this
    machine; root, state and the socket are under ``tmp``."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("booting containerd needs root and unshare(1) for a private mount namespace")
    cni_existed = os.path.isdir("/etc/cni")
    script = r"""
mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /opt || exit 90
if [ -d /etc/cni ]; then mount -t tmpfs tmpfs /etc/cni || exit 90; fi
"$1" --config "$2" --root "$3/root" --state "$3/state" --address "$3/c.sock" >"$3/log" 2>&1 &
pid=$!
i=0
until grep -q 'successfully booted' "$3/log"; do
  i=$((i + 1)); if [ $i -gt 300 ] || ! kill -0 $pid 2>/dev/null; then break; fi; sleep 0.1
done
if [ "$5" = yes ]; then
  "$4" --address "$3/c.sock" deprecations list >"$3/deprecations" 2>&1; echo $? >"$3/deprecations.rc"
fi
kill $pid 2>/dev/null; wait $pid
exit 0
"""
    done = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            script,
            "boot",
            str(found.containerd),
            str(config_path),
            str(tmp),
            str(found.ctr),
            "no" if minor(found) == "1.6" else "yes",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if not cni_existed:
        for leftover in ("/etc/cni/net.d", "/etc/cni"):
            if os.path.isdir(leftover) and not os.listdir(leftover):
                os.rmdir(leftover)
    assert done.returncode == 0, done.stderr
    log = (tmp / "log").read_text()
    assert "successfully booted" in log, log[-3000:]
    if minor(found) == "1.6":  # `ctr deprecations` came with 1.7
        return log, None
    listing = (tmp / "deprecations").read_text()
    assert (tmp / "deprecations.rc").read_text().strip() == "0", listing
    return log, listing


def complaints(log):
    lines = re.findall(r"(?m)^.*level=(?:warning|error|fatal).*$", log)
    return [line for line in lines if not ENVIRONMENT_NOISE.search(line)]


def deprecation_ids(listing):
    return re.findall(r"io\.containerd\.deprecation/\S+", listing or "")


def write(tmp, name, text):
    path = tmp / name
    path.write_text(text)
    return path


def test_config_dump_reads_the_role_file_where_each_version_expects_it(debian_containerd, tmp_path):
    config = write(tmp_path, "config.toml", role_config(debian_containerd.version_line))
    done = dump(debian_containerd, config)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert dump_problems(done.stdout, EXPECTED[minor(debian_containerd)]) == []
    assert tomllib.loads(done.stdout)["version"] == (3 if minor(debian_containerd) == "2.1" else 2)


def test_daemon_boots_on_the_role_file_without_warnings(debian_containerd, tmp_path):
    config = write(tmp_path, "config.toml", role_config(debian_containerd.version_line))
    log, deprecations = boot(debian_containerd, config, tmp_path)
    assert complaints(log) == []
    assert deprecation_ids(deprecations) == []
    if deprecations is not None:
        assert deprecations.strip() == "", deprecations


def test_role_file_without_sandbox_image_keeps_containerd_default(debian_containerd, tmp_path):
    config = write(tmp_path, "config.toml", role_config(debian_containerd.version_line, ""))
    done = dump(debian_containerd, config)
    assert done.returncode == 0, done.stderr
    problems = dump_problems(done.stdout, EXPECTED[minor(debian_containerd)])
    assert (
        len(problems) == 1 and "sandbox" in problems[0] and "'registry.k8s.io/pause:" in problems[0]
    )


def test_the_1x_layout_makes_containerd_2_warn_at_every_start(containerd_of, tmp_path):
    new, old = containerd_of("unstable"), containerd_of("trixie")
    config = write(tmp_path, "v2.toml", role_config(old.version_line))
    log = boot(new, config, tmp_path)[0]
    assert any("Configuration migrated from version 2" in line for line in complaints(log))


def test_the_2_0_layout_is_a_deprecation_for_containerd_2_1(containerd_of, tmp_path):
    new = containerd_of("unstable")
    config = write(tmp_path, "v2.0.toml", role_config("2.0.6"))
    log, deprecations = boot(new, config, tmp_path)
    assert deprecation_ids(deprecations) == ["io.containerd.deprecation/cri-cni-bin-dir"]
    assert any("bin_dir" in line for line in complaints(log))


def test_the_2x_layout_is_refused_by_containerd_1_7(containerd_of, tmp_path):
    new, old = containerd_of("unstable"), containerd_of("trixie")
    done = dump(old, write(tmp_path, "v3.toml", role_config(new.version_line)))
    assert done.returncode != 0
    assert "unsupported config version `3`" in done.stderr


def test_the_2x_layout_is_silently_ignored_by_containerd_1_6(containerd_of, tmp_path):
    new, old = containerd_of("unstable"), containerd_of("bookworm")
    done = dump(old, write(tmp_path, "v3.toml", role_config(new.version_line)))
    assert done.returncode == 0 and done.stderr == ""
    problems = dump_problems(done.stdout, EXPECTED["1.6"])
    assert (
        "plugins.io.containerd.grpc.v1.cri.containerd.runtimes.runc.options.SystemdCgroup = False, want True"
        in problems
    )

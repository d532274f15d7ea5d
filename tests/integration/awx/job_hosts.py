# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nodes for the AWX job tests: real systemd containers of the test-host image
(tests/hosts/build-image.sh), booted as tests/hosts/create.yml boots Molecule's, on a podman
network of their own, each running a real sshd that the jobs reach with a key, the way an
AWX job reaches nodes with a Machine credential.

The containers share this machine's kernel, so, as in molecule/firewall, each node carries a
stated kernel config that is ready for the features the test asks for
(node_prep_kernel_config_path) and only per-namespace net.* sysctls are applied.
"""

import concurrent.futures
import os
import pathlib
import subprocess
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

ROOT = pathlib.Path(__file__).resolve().parents[3]
CONTAINERS_CONF = ROOT / "tests" / "hosts" / "containers.conf"
LABEL = "edgemesh.test=awx-jobs"
KERNEL_CONFIG = "/var/lib/edgemesh/kernel-config"
# base + vxlan built in, no loadable modules (docs/node_prep.md lists what each needs).
KERNEL_OPTIONS = (
    "BPF BPF_SYSCALL NET_CLS_BPF BPF_JIT NET_CLS_ACT NET_SCH_INGRESS CRYPTO_SHA1 "
    "CRYPTO_USER_API_HASH CGROUPS CGROUP_BPF PERF_EVENTS SCHEDSTATS VXLAN FIB_RULES"
).split()


class HostsUnavailable(Exception):
    """podman or the test-host image is missing."""


def podman_env():
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    return env


def podman(*argv, check=True, timeout=600, stdin=None):
    done = subprocess.run(
        ["podman", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        env=podman_env(),
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(
            "podman %s failed (rc %d): %s"
            % (" ".join(argv[:3]), done.returncode, (done.stderr or done.stdout).strip())
        )
    return done


def ssh_keypair():
    """An ed25519 key pair in OpenSSH formats: (private PEM text, public line)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return private, public


def remove(names, network):
    if names:
        podman("rm", "--force", "--time", "5", *names, check=False)
    podman("network", "rm", "--force", network, check=False)


def _boot(name, network, image):
    argv = (
        "run", "--detach", "--privileged", "--systemd=always", "--name", name,
        "--hostname", name, "--network", network, "--label", LABEL, image, "/sbin/init",
    )  # fmt: skip
    for _attempt in range(3):
        # podman 4.3 can lose a network that was just created while other podman commands
        # (another test's network rm) run at the same time: create it again and retry.
        if podman("network", "exists", network, check=False).returncode != 0:
            podman("network", "create", network, check=False)
        done = podman(*argv, check=False)
        if done.returncode == 0:
            return
        podman("rm", "--force", name, check=False)
    raise RuntimeError("podman run %s failed: %s" % (name, (done.stderr or done.stdout).strip()))


def _wait_booted(name, timeout=120):
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = podman("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    raise RuntimeError("%s did not boot within %ds (systemd: %r)" % (name, timeout, state))


def _provision(name, public_key):
    """sshd from the Debian mirror, the job's key for root, the stated kernel config."""
    kernel_config = "".join("CONFIG_%s=y\n" % option for option in KERNEL_OPTIONS)
    script = """set -eu
export DEBIAN_FRONTEND=noninteractive
# The image's apt-daily units may run at boot and hold apt's locks: stop them, wait for them.
systemctl stop apt-daily.timer apt-daily-upgrade.timer apt-daily.service \
  apt-daily-upgrade.service >/dev/null 2>&1 || true
while pgrep -x apt-get >/dev/null || pgrep -x apt >/dev/null || pgrep -x dpkg >/dev/null; do
  sleep 1
done
apt-get -q -o DPkg::Lock::Timeout=300 update >/dev/null
apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends openssh-server >/dev/null
install -d -m 0700 /root/.ssh
printf '%%s\\n' '%s' > /root/.ssh/authorized_keys
chmod 0600 /root/.ssh/authorized_keys
install -d -m 0755 /var/lib/edgemesh
printf '# CONFIG_MODULES is not set\\n%s' > %s
systemctl enable --now ssh >/dev/null 2>&1
systemctl is-active ssh
""" % (
        public_key,
        kernel_config.replace("\n", "\\n"),
        KERNEL_CONFIG,
    )
    podman("exec", "-i", name, "sh", "-s", stdin=script, timeout=900)


def address(name, network):
    fmt = '{{ (index .NetworkSettings.Networks "%s").IPAddress }}' % network
    return podman("inspect", "--format", fmt, name).stdout.strip()


def start(names, network, public_key, image="localhost/edgemesh-debian12"):
    """Boot and provision the nodes in parallel; return {name: IPv4 address}."""
    if podman("image", "exists", image, check=False).returncode != 0:
        raise HostsUnavailable("image %s is missing: run tests/hosts/build-image.sh" % image)
    remove(names, network)
    podman("network", "create", network)
    for name in names:
        _boot(name, network, image)
    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(_wait_booted, names))
        list(pool.map(lambda n: _provision(n, public_key), names))
    return {name: address(name, network) for name in names}

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX job-template playbooks run the way AWX runs them: ansible-runner, inside the
execution environment image that ansible-builder built here (tests/integration/ee/), with a
private data directory holding the inventory, the extra vars and the files and variables
the credentials inject (awx_jobs.py says which parts of AWX are emulated), against real
systemd nodes reached over SSH (job_hosts.py).

The state backend is the file store (edgemesh_state_backend: file_store) on a directory
mounted into every job container: it stands in for the Kubernetes Secret of a real AWX
setup (no API server runs here) and is itself a supported backend (a shared volume).

Checked: the plan job gives the same plan.json and mesh-state.json as plain
ansible-playbook on the same inventory; a fresh job pulls them back; two slices of the
prepare job run at the same time over disjoint halves of the nodes and leave the nodes as
one run does (an unsliced run and a plain ansible-playbook run afterwards change nothing)
and the stored plan and state untouched; no secret (mesh CA key, kubeconfig tokens, the
SSH key) appears in any job event.
"""

import datetime
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
BIN = pathlib.Path(sys.executable).parent


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


awx_jobs = _load("edgemesh_awx_jobs", HERE / "awx_jobs.py")
job_hosts = _load("edgemesh_awx_job_hosts", HERE / "job_hosts.py")
injectors = _load(
    "edgemesh_awx_injectors", ROOT / "tests" / "integration" / "test_awx_credential_injectors.py"
)

NETWORK = "edgemesh-awxjobs"
STORE_IN_CONTAINER = "/edgemesh-store"
CLUSTERS = {
    "cluster_awx_eu": {
        "vars": {
            "edgemesh_cluster_name": "awx-eu",
            "edgemesh_region": "eu-west",
            "edgemesh_distribution": "k3s",
        },
        "hosts": {"awxjobs-eu-1": {"edgemesh_node_role": "server"}, "awxjobs-eu-2": {}},
    },
    "cluster_awx_us": {
        "vars": {
            "edgemesh_cluster_name": "awx-us",
            "edgemesh_region": "us-east",
            "edgemesh_distribution": "kubeadm",
        },
        "hosts": {"awxjobs-us-1": {"edgemesh_node_role": "server"}, "awxjobs-us-2": {}},
    },
}
NODES = sorted(name for cluster in CLUSTERS.values() for name in cluster["hosts"])
# As molecule/firewall: a stated ready kernel config, net.* sysctls only.
NODE_VARS = {
    "node_prep_features": ["base", "vxlan"],
    "node_prep_kernel_config_path": job_hosts.KERNEL_CONFIG,
    "node_prep_sysctls_system": {},
}
# The bearer tokens in the credential kubeconfig of test_awx_credential_injectors.kubeconfig().
TOKENS = ("eu-token", "us-token", "mgmt-token")


def unavailable(reason):
    """Under CI these tests must run: a missing prerequisite fails instead of skipping."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def mesh_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "awxjobs mesh CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


class Setup:
    """Everything the jobs of this module share."""

    def __init__(self, base, image, addresses, private_key):
        self.base = base
        self.image = image
        self.addresses = addresses
        self.private_key = private_key
        self.store_dir = base / "store"
        self.store_dir.mkdir()
        self.ca_cert, self.ca_key = mesh_ca()
        with open(ROOT / "awx" / "credential_type.yml", encoding="utf-8") as handle:
            self.cred_type = yaml.safe_load(handle)
        self.jobs = []

    @property
    def store_file(self):
        return self.store_dir / "mesh-state-store.json"

    def job(self, ident, keep=None, credential=True, machine=False):
        job = awx_jobs.Job(self.base / "jobs", ident)
        job.set_inventory(awx_jobs.inventory(CLUSTERS, self.addresses, keep, NODE_VARS))
        if credential:
            job.inject(
                injectors.awx_inject,
                self.cred_type,
                {
                    "kubeconfig": injectors.kubeconfig(),
                    "state_context": "management",
                    "mesh_ca_cert": self.ca_cert,
                    "mesh_ca_key": self.ca_key,
                },
            )
        if machine:
            job.set_ssh_key(self.private_key)
        # The file store stands in for the credential's Kubernetes Secret backend.
        job.extravars.update(
            {
                "edgemesh_state_backend": "file_store",
                "edgemesh_state_store": STORE_IN_CONTAINER + "/mesh-state-store.json",
                "edgemesh_output_dir": awx_jobs.IN_CONTAINER + "/edgemesh",
            }
        )
        self.jobs.append(job)
        return job

    def mounts(self):
        return ["%s:%s:Z" % (self.store_dir, STORE_IN_CONTAINER)]

    def run(self, job, playbook):
        result = job.run(playbook, self.image, NETWORK, self.mounts())
        assert result.ok, result.explain()
        return result


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    if shutil.which("podman") is None:
        unavailable("podman is not installed (tests/hosts/build-image.sh installs it)")
    try:
        ee_image = _load("edgemesh_ee_image", ROOT / "tests" / "integration" / "ee" / "ee_image.py")
        image = ee_image.ensure_image()
    except Exception as exc:  # pylint: disable=broad-exception-caught
        unavailable("the execution environment image could not be built: %s" % exc)
    private_key, public_key = job_hosts.ssh_keypair()
    try:
        addresses = job_hosts.start(NODES, NETWORK, public_key)
    except job_hosts.HostsUnavailable as exc:
        unavailable(str(exc))
    try:
        yield Setup(tmp_path_factory.mktemp("awxjobs"), image, addresses, private_key)
    finally:
        job_hosts.remove(NODES, NETWORK)


def plain_playbook(playbook, inventory_file, out_dir, private_key_file=None):
    """The same playbook under plain ansible-playbook on this machine."""
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory_file), playbook]
    argv += ["-e", "edgemesh_output_dir=%s" % out_dir]
    if private_key_file:
        argv += ["--private-key", str(private_key_file)]
    env = dict(
        os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_HOST_KEY_CHECKING="False"
    )
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".collections")
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    return done.stdout


ANSI = re.compile(r"\x1b\[[0-9;]*m")
TASK = re.compile(r"^TASK \[(?P<name>.*)\] \*+$")
CHANGED = re.compile(r"^changed: \[(?P<host>[^\]]+)\]")
# Tasks that write into the job's own output directory on the controller, which is new in
# every AWX job (and in every container): their "changed" is not a change of a node.
CONTROLLER_TASKS = (
    "edgemesh.cluster_mesh.node_prep : Write the readiness reports on the controller",
)


def node_changes(stdout):
    """{node: [tasks that changed it]} from ansible's default output (localhost and the
    controller-side tasks left out)."""
    changes = {}
    task = None
    for line in ANSI.sub("", stdout or "").splitlines():
        found = TASK.match(line)
        if found:
            task = found.group("name")
            continue
        found = CHANGED.match(line)
        if found and found.group("host") != "localhost" and task not in CONTROLLER_TASKS:
            changes.setdefault(found.group("host"), []).append(task)
    return changes


def test_plan_job_in_the_ee_equals_plain_ansible_playbook(setup):
    plan = setup.job("plan")
    setup.run(plan, "playbooks/awx/plan.yml")
    ee_out = plan.pdd / "edgemesh"

    plain_out = setup.base / "plain"
    plain_playbook("playbooks/plan.yml", plan.pdd / "inventory" / "hosts.yml", plain_out)
    for name in ("plan.json", "mesh-state.json"):
        assert (ee_out / name).read_bytes() == (plain_out / name).read_bytes(), name
    stored = setup.store_file.read_text(encoding="utf-8")
    assert "awx-eu" in stored and "awx-us" in stored
    assert oct(setup.store_file.stat().st_mode & 0o777) == "0o600"


def test_a_fresh_job_pulls_the_plan_and_the_state(setup):
    pull = setup.job("pull")
    setup.run(pull, "playbooks/awx/state_pull.yml")
    plan_out = setup.base / "jobs" / "plan" / "edgemesh"
    out = pull.pdd / "edgemesh"
    for name in ("plan.json", "mesh-state.json"):
        assert (out / name).read_bytes() == (plan_out / name).read_bytes(), name
    assert (out / "mesh-ca" / "ca.key").read_text(encoding="utf-8") == setup.ca_key
    assert oct((out / "mesh-ca" / "ca.key").stat().st_mode & 0o777) == "0o600"


def test_two_prepare_slices_at_once_equal_one_run(setup):
    before = setup.store_file.read_bytes()
    slices = []
    for number in (1, 2):
        keep = awx_jobs.slice_hosts(NODES, number, 2)
        job = setup.job("prepare-slice-%d" % number, keep=keep, machine=True)
        slices.append((job, keep))
    started = time.monotonic()
    running = [
        (job, keep, *job.start("playbooks/awx/prepare.yml", setup.image, NETWORK, setup.mounts()))
        for job, keep in slices
    ]
    for job, keep, proc, log in running:
        proc.wait(timeout=1800)
        log.close()
        result = job.finish(proc.returncode)
        assert result.ok, result.explain()
        changed = result.changed()
        assert set(changed) - {"localhost"} == set(keep), changed
        assert all(changed[host] > 0 for host in keep), changed
    print("two prepare slices in parallel: %.0f s" % (time.monotonic() - started))
    assert setup.store_file.read_bytes() == before, "a prepare slice rewrote the stored plan/state"

    whole = setup.job("prepare-whole", machine=True)
    result = setup.run(whole, "playbooks/awx/prepare.yml")
    assert node_changes(result.stdout) == {}
    assert setup.store_file.read_bytes() == before

    key_file = setup.base / "ssh_key"
    key_file.write_text(setup.private_key, encoding="utf-8")
    key_file.chmod(0o600)
    stdout = plain_playbook(
        "playbooks/prepare.yml",
        whole.pdd / "inventory" / "hosts.yml",
        setup.base / "plain",
        private_key_file=key_file,
    )
    assert node_changes(stdout) == {}, stdout[-4000:]


def test_no_secret_in_any_job_event(setup):
    assert len(setup.jobs) >= 5
    secrets = [setup.ca_key.splitlines()[1], *TOKENS]
    secrets += [line for line in setup.private_key.splitlines()[1:-1] if len(line) > 20]
    for job in setup.jobs:
        assert job.result is not None and job.result.event_texts, job.ident
        texts = job.result.event_texts + [job.result.stdout or ""]
        for secret in secrets:
            leaks = [i for i, text in enumerate(texts) if secret in text]
            assert not leaks, "%s: a secret appears in job events %s" % (job.ident, leaks)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX jobs as AWX runs them: ansible-runner inside the execution environment (EE) image.

What is real: ansible-runner 2.4 (the engine AWX runs every job with), its private data
directory layout (project/, inventory/, env/extravars, env/envvars, env/ssh_key,
artifacts/<ident>/job_events/), the EE image built by ansible-builder, podman as the
container engine, and SSH to real nodes.

What is an EMULATION of AWX (no AWX server runs here), each written from AWX's documented
behaviour:
- the project sync is a copy of this checkout's playbooks/ into project/ (AWX clones the
  repository);
- the inventory AWX hands a job is written as one YAML file with every host, group and
  variable (AWX flattens an SCM inventory source into its database, then gives the job all
  of it);
- job slicing: slice k of n gets the inventory with every n-th host (hosts sorted by
  name, starting at the k-th), groups and variables unchanged — AWX's "special type of
  limit" (docs: userguide/job_slicing);
- the Machine credential becomes env/ssh_key (ansible-runner loads it into an ssh-agent
  inside the container); the custom credential type's injectors are rendered by
  ``awx_inject`` of tests/integration/test_awx_credential_injectors.py;
- the container runs as the engine's user (rootful podman here; AWX's execution nodes run
  rootless podman, whose container root is that user);
- AWX's job environment: ANSIBLE_HOST_KEY_CHECKING=False (AWX's default setting
  "AWX_TASK_ENV"/host key checking off for fresh nodes), ANSIBLE_FORCE_COLOR=0.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
RUNNER = pathlib.Path(sys.executable).parent / "ansible-runner"
IN_CONTAINER = "/runner"


def slice_hosts(hosts, number, count):
    """Slice `number` (1-based) of `count`: every count-th host of the sorted names."""
    return sorted(hosts)[number - 1 :: count]


def inventory(clusters, addresses, keep=None, node_vars=None):
    """The inventory AWX gives a job: clusters = {group: {"vars": {...}, "hosts": {name: vars}}}.
    keep: only these host names (a slice). node_vars: variables of every node host."""
    children = {}
    for group, cluster in clusters.items():
        hosts = {}
        for name, host_vars in cluster["hosts"].items():
            if keep is not None and name not in keep:
                continue
            hosts[name] = dict(host_vars, ansible_host=addresses[name], ansible_user="root")
        children[group] = {"vars": dict(cluster["vars"]), "hosts": hosts}
    return {
        "all": {
            "hosts": {
                "localhost": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                }
            },
            "children": {
                "edgemesh_clusters": {"vars": dict(node_vars or {}), "children": children}
            },
        }
    }


class Job:
    """One job's private data directory and its ansible-runner run."""

    def __init__(self, base, ident):
        self.ident = ident
        self.pdd = pathlib.Path(base) / ident
        if self.pdd.exists():
            shutil.rmtree(self.pdd)
        (self.pdd / "env").mkdir(parents=True)
        shutil.copytree(ROOT / "playbooks", self.pdd / "project" / "playbooks")
        (self.pdd / "inventory").mkdir()
        self.extravars = {}
        self.envvars = {"ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_FORCE_COLOR": "0"}
        self.result = None

    def container_path(self, host_path):
        """Where a file of the private data directory is inside the EE container."""
        rel = pathlib.Path(host_path).resolve().relative_to(self.pdd.resolve())
        return "%s/%s" % (IN_CONTAINER, rel.as_posix())

    def set_inventory(self, data):
        path = self.pdd / "inventory" / "hosts.yml"
        path.write_text(yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
        return path

    def set_ssh_key(self, private_key):
        path = self.pdd / "env" / "ssh_key"
        path.write_text(private_key, encoding="utf-8")
        path.chmod(0o600)

    def inject(self, awx_inject, cred_type, inputs):
        """The custom credential: files in env/, paths as the container sees them."""
        env, extra_vars = awx_inject(cred_type, inputs, str(self.pdd))
        prefix = str(self.pdd)

        def mapped(value):
            if isinstance(value, str) and value.startswith(prefix + os.sep):
                return self.container_path(value)
            return value

        self.envvars.update({k: mapped(v) for k, v in env.items()})
        self.extravars.update({k: mapped(v) for k, v in extra_vars.items()})

    def command(self, playbook, image, network, mounts=()):
        (self.pdd / "env" / "extravars").write_text(json.dumps(self.extravars), encoding="utf-8")
        (self.pdd / "env" / "envvars").write_text(json.dumps(self.envvars), encoding="utf-8")
        argv = [
            str(RUNNER), "run", str(self.pdd), "--playbook", playbook, "--ident", self.ident,
            "--process-isolation", "--process-isolation-executable", "podman",
            "--container-image", image, "--container-option=--network=%s" % network,
            # The job's user is the user running the engine, as ansible-runner does for
            # docker (--user=<uid>) and rootless podman does by its user namespace: the
            # private data directory is theirs.
            "--container-option=--user=%d" % os.getuid(),
        ]  # fmt: skip
        for mount in mounts:
            argv += ["--container-volume-mount", mount]
        return argv

    def start(self, playbook, image, network, mounts=()):
        log = open(self.pdd / "runner.log", "w", encoding="utf-8")  # noqa: SIM115
        env = dict(os.environ)
        env.setdefault("CONTAINERS_CONF", str(ROOT / "tests" / "hosts" / "containers.conf"))
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            self.command(playbook, image, network, mounts),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        return proc, log

    def run(self, playbook, image, network, mounts=(), timeout=1200):
        proc, log = self.start(playbook, image, network, mounts)
        try:
            proc.wait(timeout=timeout)
        finally:
            log.close()
        return self.finish(proc.returncode)

    def finish(self, returncode):
        self.result = JobResult(self, returncode)
        return self.result


class JobResult:
    """rc, status, the playbook_on_stats counters and every job event's text."""

    def __init__(self, job, runner_rc):
        artifacts = job.pdd / "artifacts" / job.ident
        self.runner_rc = runner_rc
        self.log = (job.pdd / "runner.log").read_text(encoding="utf-8", errors="replace")
        self.status = _read(artifacts / "status")
        self.rc = _read(artifacts / "rc")
        self.stdout = _read(artifacts / "stdout")
        self.event_texts = []
        self.stats = {}
        events_dir = artifacts / "job_events"
        for path in sorted(events_dir.glob("*.json")) if events_dir.is_dir() else []:
            text = path.read_text(encoding="utf-8")
            self.event_texts.append(text)
            event = json.loads(text)
            if event.get("event") == "playbook_on_stats":
                self.stats = event.get("event_data", {})

    @property
    def ok(self):
        return self.status == "successful" and self.rc == "0"

    def changed(self):
        return dict(self.stats.get("changed", {}))

    def explain(self):
        return "status=%s rc=%s (ansible-runner exit %s)\n%s" % (
            self.status,
            self.rc,
            self.runner_rc,
            (self.stdout or self.log)[-6000:],
        )


def _read(path):
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None

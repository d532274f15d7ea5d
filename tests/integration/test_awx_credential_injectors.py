# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The 'edgemesh cluster mesh' credential type (awx/credential_type.yml), end to end as far
as this machine allows: no AWX server exists here.

``awx_inject`` below is an EMULATION of what AWX does when a job starts with a credential
of a custom type, written from AWX's documented behaviour: each ``file`` injector template
is rendered with Jinja2 in a sandbox against the credential's inputs and written to its own
file in the job's private data directory, mode 0600; ``template.<name>`` files are
addressed as ``tower.filename.<name>``; then the ``env`` and ``extra_vars`` templates are
rendered against the inputs plus ``tower.filename``; inputs left empty render as empty
strings. ``awx_validate`` emulates the check AWX makes when the credential type is saved
(every template must render with every field defined). The emulation is the edge of the
test; what runs after it is the collection's real playbooks/awx/state_pull.yml and
state_push.yml under ansible-playbook, fed the emulated env and extra vars.
"""

import json
import os
import pathlib
import stat
import subprocess
import sys
import tempfile

import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
CA_CERT = "-----BEGIN CERTIFICATE-----\nMIIBcredentialCA\n-----END CERTIFICATE-----\n"
CA_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIcredentialKey\n-----END EC PRIVATE KEY-----\n"


def kubeconfig(management_server="https://192.0.2.100:6443"):
    def cluster(name, server):
        return {"name": name, "cluster": {"server": server, "certificate-authority-data": "Q0EK"}}

    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                cluster("eu-core", "https://192.0.2.11:6443"),
                cluster("us-core", "https://198.51.100.11:6443"),
                cluster("mgmt", management_server),
            ],
            "users": [
                {"name": "eu-core-admin", "user": {"token": "eu-token"}},
                {"name": "us-core-admin", "user": {"token": "us-token"}},
                {"name": "mgmt-admin", "user": {"token": "mgmt-token"}},
            ],
            "contexts": [
                {"name": "eu-core", "context": {"cluster": "eu-core", "user": "eu-core-admin"}},
                {"name": "us-core", "context": {"cluster": "us-core", "user": "us-core-admin"}},
                {"name": "management", "context": {"cluster": "mgmt", "user": "mgmt-admin"}},
            ],
            "current-context": "management",
        }
    )


@pytest.fixture(scope="module")
def cred_type():
    with open(ROOT / "awx" / "credential_type.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --- the emulation of AWX (edge of the test) -----------------------------------------


class _Namespace:
    pass


def awx_inject(cred_type, inputs, private_data_dir):
    """Emulation of AWX's credential injection (see the module docstring)."""
    env_dir = os.path.join(private_data_dir, "env")
    os.makedirs(env_dir, exist_ok=True)
    sandbox = ImmutableSandboxedEnvironment()
    namespace = {f["id"]: "" for f in cred_type["inputs"]["fields"]}
    namespace.update(inputs)
    tower = _Namespace()
    tower.filename = _Namespace()
    for label, template in cred_type["injectors"].get("file", {}).items():
        data = sandbox.from_string(template).render(**namespace)
        fd, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(fd, "w") as handle:
            handle.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        setattr(tower.filename, label.split(".", 1)[1], path)
    namespace["tower"] = tower
    env = {
        k: sandbox.from_string(v).render(**namespace)
        for k, v in cred_type["injectors"].get("env", {}).items()
    }
    extra_vars = {
        k: sandbox.from_string(v).render(**namespace) if isinstance(v, str) else v
        for k, v in cred_type["injectors"].get("extra_vars", {}).items()
    }
    return env, extra_vars


def awx_validate(cred_type):
    """Emulation of AWX's save-time check: every template renders, strictly, with every field."""
    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    namespace = {f["id"]: "x" for f in cred_type["inputs"]["fields"]}
    tower = _Namespace()
    tower.filename = _Namespace()
    for label in cred_type["injectors"].get("file", {}):
        assert label.startswith("template."), label
        setattr(tower.filename, label.split(".", 1)[1], "/x")
    for kind in ("file", "env", "extra_vars"):
        for template in cred_type["injectors"].get(kind, {}).values():
            sandbox.from_string(template).render(tower=tower, **namespace)


# --- the credential type itself ---------------------------------------------------------


def test_credential_type_shape(cred_type):
    fields = {f["id"]: f for f in cred_type["inputs"]["fields"]}
    assert cred_type["kind"] == "cloud"
    assert set(cred_type["inputs"]["required"]) <= set(fields)
    assert fields["kubeconfig"].get("secret") and fields["kubeconfig"].get("multiline")
    assert fields["mesh_ca_key"].get("secret") and fields["mesh_ca_key"].get("multiline")
    for field in fields.values():
        assert set(field) <= {"id", "type", "label", "multiline", "secret", "help_text"}, field
        assert field["type"] == "string"
    env = cred_type["injectors"]["env"]
    assert not [k for k in env if k.startswith("ANSIBLE_")]  # reserved by AWX
    # a context variable in env would leak into every kubernetes.core call
    assert "K8S_AUTH_CONTEXT" not in env
    extra = cred_type["injectors"]["extra_vars"]
    assert all(k.startswith("edgemesh_") for k in extra)
    # the cilium playbook reads edgemesh_kubeconfig as ONE cluster's kubeconfig: not ours
    assert "edgemesh_kubeconfig" not in extra
    awx_validate(cred_type)


def test_awx_validation_emulation_catches_a_typo(cred_type):
    broken = json.loads(json.dumps(cred_type))
    broken["injectors"]["extra_vars"]["edgemesh_state_context"] = "{{ state_contxt }}"
    with pytest.raises(Exception, match="state_contxt"):
        awx_validate(broken)


def test_injected_files_are_private_and_referenced(cred_type, tmp_path):
    inputs = {
        "kubeconfig": kubeconfig(),
        "state_context": "management",
        "mesh_ca_cert": CA_CERT,
        "mesh_ca_key": CA_KEY,
    }
    env, extra = awx_inject(cred_type, inputs, str(tmp_path))
    files = sorted((tmp_path / "env").iterdir())
    assert len(files) == 3
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pathlib.Path(env["K8S_AUTH_KUBECONFIG"]).read_text() == inputs["kubeconfig"]
    assert (
        env["KUBECONFIG"] == env["K8S_AUTH_KUBECONFIG"] == extra["edgemesh_credential_kubeconfig"]
    )
    assert pathlib.Path(extra["edgemesh_mesh_ca_cert_file"]).read_text() == CA_CERT
    assert pathlib.Path(extra["edgemesh_mesh_ca_key_file"]).read_text() == CA_KEY
    assert extra["edgemesh_state_backend"] == "kubernetes"
    assert extra["edgemesh_state_context"] == "management"
    assert extra["edgemesh_state_namespace"] == "edgemesh-system"  # defaults when left empty
    assert extra["edgemesh_state_secret"] == "edgemesh-state"


# --- the real playbooks, fed what the emulated AWX injected -----------------------------


def run_playbook(playbook, env_vars, extra_files, extra_args=(), cwd=ROOT, inventory="localhost,"):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    env.pop("KUBECONFIG", None)
    env.update(env_vars)
    argv = [str(BIN / "ansible-playbook"), "-i", inventory, str(playbook)]
    for path in extra_files:
        argv += ["-e", "@%s" % path]
    argv += list(extra_args)
    return subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False
    )


def inject_for_job(cred_type, tmp_path, inputs):
    env, extra = awx_inject(cred_type, inputs, str(tmp_path / "private"))
    extra_file = tmp_path / "private" / "extravars.json"
    extra_file.write_text(json.dumps(extra))
    return env, extra_file


def test_state_pull_lays_out_one_kubeconfig_per_cluster_and_the_ca(cred_type, tmp_path):
    env, extra_file = inject_for_job(
        cred_type,
        tmp_path,
        {
            "kubeconfig": kubeconfig(),
            "state_context": "management",
            "mesh_ca_cert": CA_CERT,
            "mesh_ca_key": CA_KEY,
        },
    )
    out = tmp_path / "build"
    job = {"edgemesh_output_dir": str(out), "edgemesh_state_backend": "file"}  # no API server here
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job))
    run = run_playbook(ROOT / "playbooks" / "awx" / "state_pull.yml", env, [extra_file, job_file])
    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("eu-core", "us-core", "management"):
        path = out / name / "kubeconfig"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        doc = yaml.safe_load(path.read_text())
        assert doc["current-context"] == name
        assert [c["name"] for c in doc["contexts"]] == [name]
        assert len(doc["clusters"]) == 1 and len(doc["users"]) == 1
    eu = yaml.safe_load((out / "eu-core" / "kubeconfig").read_text())
    assert eu["clusters"][0]["cluster"]["server"] == "https://192.0.2.11:6443"
    assert eu["users"][0]["user"]["token"] == "eu-token"
    for name, text in (("ca.crt", CA_CERT), ("ca.key", CA_KEY)):
        path = out / "mesh-ca" / name
        assert path.read_text() == text
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "eu-token" not in run.stdout and "credentialKey" not in run.stdout  # no_log
    # a second pull changes nothing
    again = run_playbook(ROOT / "playbooks" / "awx" / "state_pull.yml", env, [extra_file, job_file])
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout


def test_state_pull_without_a_ca_writes_none(cred_type, tmp_path):
    env, extra_file = inject_for_job(
        cred_type, tmp_path, {"kubeconfig": kubeconfig(), "state_context": "management"}
    )
    out = tmp_path / "build"
    run = run_playbook(
        ROOT / "playbooks" / "awx" / "state_pull.yml",
        env,
        [extra_file],
        ["-e", "edgemesh_state_backend=file", "-e", "edgemesh_output_dir=%s" % out],
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (out / "us-core" / "kubeconfig").is_file()
    assert not (out / "mesh-ca").exists()


def test_unreachable_management_cluster_is_a_clear_error(cred_type, tmp_path):
    env, extra_file = inject_for_job(
        cred_type,
        tmp_path,
        {"kubeconfig": kubeconfig("https://127.0.0.1:1"), "state_context": "management"},
    )
    run = run_playbook(
        ROOT / "playbooks" / "awx" / "state_pull.yml",
        env,
        [extra_file],
        ["-e", "edgemesh_output_dir=%s" % (tmp_path / "build")],
    )
    assert run.returncode != 0
    text = run.stdout + run.stderr
    assert (
        "mesh_state get: reading Secret edgemesh-system/edgemesh-state: the API server could not be reached"
        in text
    )
    assert "Traceback" not in text


def test_bad_backend_and_missing_context_are_clear_errors(tmp_path):
    run = run_playbook(
        ROOT / "playbooks" / "awx" / "state_push.yml",
        {},
        [],
        ["-e", "edgemesh_state_backend=s3", "-e", "edgemesh_output_dir=%s" % tmp_path],
    )
    assert run.returncode != 0
    assert (
        "edgemesh_state_backend is 's3'; allowed: file (the output directory is the state, on a "
        "laptop), kubernetes (a Secret in a management cluster; the AWX credential sets it), "
        "file_store (one JSON file at edgemesh_state_store" in " ".join(run.stdout.split())
    ), run.stdout
    run = run_playbook(
        ROOT / "playbooks" / "awx" / "state_push.yml",
        {},
        [],
        ["-e", "edgemesh_state_backend=kubernetes", "-e", "edgemesh_output_dir=%s" % tmp_path],
    )
    assert run.returncode != 0 and "needs edgemesh_state_context" in run.stdout
    run = run_playbook(
        ROOT / "playbooks" / "awx" / "state_push.yml",
        {},
        [],
        ["-e", "edgemesh_state_backend=file_store", "-e", "edgemesh_state_store=state.json"],
    )
    assert run.returncode != 0
    assert (
        "edgemesh_state_backend 'file_store' needs edgemesh_state_store, the absolute path of one "
        "JSON file (got 'state.json')" in " ".join(run.stdout.split())
    ), run.stdout


def test_mesh_state_recover_from_recorded_configmaps(tmp_path):
    """mesh_state action=recover under ansible-playbook, on the recorded cilium-config
    fixtures, with a relative state_path resolved against the playbook's working directory."""
    fixtures = ROOT / "tests" / "fixtures" / "cilium-config"
    playbook = tmp_path / "recover.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Recover",
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                    "tasks": [
                        {
                            "name": "Recover the state",
                            "edgemesh.cluster_mesh.mesh_state": {
                                "action": "recover",
                                "clusters": [
                                    {
                                        "cilium_config": "{{ lookup('file', '%s') | from_yaml }}"
                                        % (fixtures / f),
                                        "kubernetes_service_ips": [ip],
                                        "clustermesh_nodeport": 32379,
                                    }
                                    for f, ip in (
                                        ("eu-core-1.18.yaml", "172.16.0.1"),
                                        ("us-core-1.20.yaml", "172.16.32.1"),
                                    )
                                ],
                                "service_cidr_prefix": 20,
                                "state_path": "out/mesh-state.json",
                            },
                        }
                    ],
                }
            ]
        )
    )
    run = run_playbook(playbook, {}, [], cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    path = tmp_path / "out" / "mesh-state.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    state = json.loads(path.read_text())
    assert {
        n: (c["id"], c["pod_cidrs"], c["service_cidrs"]) for n, c in state["clusters"].items()
    } == {
        "eu-core": (1, ["10.1.0.0/16"], ["172.16.0.0/20"]),
        "us-core": (3, ["10.3.0.0/16"], ["172.16.32.0/20"]),
    }
    # check mode on an unchanged file: nothing to do
    again = run_playbook(playbook, {}, [], ["--check"], cwd=tmp_path)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout


def test_plan_job_publishes_the_plan_summary(tmp_path):
    """playbooks/awx/plan.yml (pull -> plan -> push -> set_stats) with the file backend on the
    example inventory: the custom stats AWX shows and hands to later workflow nodes."""
    env = {"ANSIBLE_SHOW_CUSTOM_STATS": "true", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    run = run_playbook(
        ROOT / "playbooks" / "awx" / "plan.yml",
        env,
        [],
        ["-e", "edgemesh_output_dir=%s" % tmp_path],
        inventory=str(ROOT / "inventories" / "example"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    stats = run.stdout.split("CUSTOM STATS:", 1)[1]
    summary = json.loads(stats[stats.index("{") : stats.rindex("}") + 1])["edgemesh_plan_summary"]
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert summary["cilium_version"] == plan["mesh"]["cilium_version"]
    assert [c["name"] for c in summary["clusters"]] == [c["name"] for c in plan["clusters"]]
    for short, full in zip(summary["clusters"], plan["clusters"]):
        assert sorted(short) == sorted(
            [
                "name",
                "id",
                "region",
                "distribution",
                "pod_cidrs",
                "service_cidrs",
                "clustermesh_nodeport",
            ]
        )
        assert all(short[k] == full[k] for k in short)

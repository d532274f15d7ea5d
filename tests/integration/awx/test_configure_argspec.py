# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/awx/configure.yml against the real awx.awx modules, without an AWX server.

No AWX runs here, and the awx.awx modules have no offline check mode: every one of them
asks the controller for a token before it decides anything. What does run:

* the real ``ansible-playbook`` on configure.yml (a copy whose play only adds
  ``ignore_errors: true``, so one run reaches every task) with example settings, the
  controller pointed at a closed loopback port. Every awx.awx task therefore runs the real
  module: AnsibleModule checks its arguments against the module's real argument_spec
  first, and only arguments it accepts get as far as the token request, which then fails
  with "Connection refused";
* a recorder callback (test-only, written below) keeps the arguments exactly as Ansible
  templated them and handed them to each module (``task_fields['args']``);
* each module's own ``argument_spec`` (and its mutually_exclusive/required_* rules) is
  taken from the module: its ``main()`` runs until it constructs its AnsibleModule, where
  the constructor is intercepted. The recorded arguments are validated against it with
  ansible-core's ArgumentSpecValidator - this also covers the no_log tasks, whose result
  message Ansible hides. ``workflow_nodes`` is a list of plain dicts in the module's
  argument_spec (a misspelt link would be dropped silently), so the nodes are validated
  against the suboptions the module documents;
* rules the AWX server applies when the objects are saved, re-expressed from AWX 24.6.1's
  source: survey specs (awx/api/views/__init__.py, JobTemplateSurveySpec._validate_spec_data;
  question types from awx/main/constants.py SURVEY_TYPE_MAPPING), notification
  configurations (awx/api/serializers.py NotificationTemplateSerializer.validate with the
  backends' init_parameters in awx/main/notifications/{webhook,email}_backend.py),
  credential type kinds (CredentialTypeSerializer: 'cloud' or 'net'), which files AWX
  offers as playbooks (awx/main/utils/ansible.py could_be_playbook/skip_directory);
* the workflow graph, the job templates' playbooks, the survey variables against what the
  playbooks read (the confirmation asserts evaluated with Ansible's own templating), and
  that no secret reaches a task without no_log.
"""

import copy
import functools
import importlib
import json
import os
import pathlib
import re
import socket
import subprocess
import sys

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = pathlib.Path(sys.executable).parent
CONFIGURE = ROOT / "playbooks" / "awx" / "configure.yml"
SETTINGS = ROOT / "playbooks" / "awx" / "vars" / "configure.yml"
CREDENTIAL_TYPE = ROOT / "awx" / "credential_type.yml"
PREFIX = "edgemesh"
ORG = "Default"
# Fake secrets of the example settings: none may reach a task without no_log, nor the output.
SECRETS = {
    "kubeconfig": "edgemesh-test-secret-kubeconfig-token",
    "ca_key": "edgemesh-test-secret-mesh-ca-key",
    "webhook": "edgemesh-test-secret-webhook-token",
}
# The message of a module that accepted its arguments and then met the closed port.
REACHED_CONTROLLER = "Failed to get token"

RECORDER = '''
"""Test-only recorder: the arguments Ansible handed to each module, after templating."""
import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_module_args"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.rows = []

    def _record(self, result, status):
        fields = result.task_fields
        res = result.result
        args = {k: v for k, v in (fields.get("args") or {}).items() if not k.startswith("_ansible_")}
        self.rows.append({
            "task": result.task.get_name(),
            "action": fields.get("action"),
            "no_log": bool(fields.get("no_log")),
            "args": args,
            "status": status,
            "msg": str(res.get("msg", "")),
            "item": res.get("_ansible_item_label"),
            "loop_summary": "results" in res,
        })

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_item_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_item_on_failed(self, result):
        self._record(result, "failed")

    def v2_playbook_on_stats(self, stats):
        path = os.environ["EDGEMESH_RECORD_FILE"]
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(self.rows, handle)
'''


# ---------------------------------------------------------------------------------------
# The modules' own argument specs


class _Captured(Exception):
    def __init__(self, spec, kwargs):
        super().__init__("argument_spec captured")
        self.spec = spec
        self.kwargs = kwargs


CONSTRAINTS = (
    "mutually_exclusive",
    "required_together",
    "required_one_of",
    "required_if",
    "required_by",
)


def awx_module(name):
    return importlib.import_module("ansible_collections.awx.awx.plugins.modules.%s" % name)


@functools.lru_cache(maxsize=None)
def module_argument_spec(name):
    """(argument_spec, constraints) exactly as the module's main() builds its AnsibleModule."""
    module = awx_module(name)
    original = basic.AnsibleModule.__init__

    def capture(self, argument_spec=None, **kwargs):
        raise _Captured(argument_spec, kwargs)

    basic.AnsibleModule.__init__ = capture
    try:
        module.main()
    except _Captured as captured:
        unknown = set(captured.kwargs) - set(CONSTRAINTS) - {"supports_check_mode"}
        assert not unknown, "awx.awx.%s passes %s to AnsibleModule: teach this test" % (
            name,
            unknown,
        )
        return captured.spec, {k: v for k, v in captured.kwargs.items() if k in CONSTRAINTS}
    finally:
        basic.AnsibleModule.__init__ = original
    raise AssertionError("awx.awx.%s.main() never constructed its AnsibleModule" % name)


def _spec_from_doc(options):
    """An argument spec from DOCUMENTATION suboptions (description dropped)."""
    spec = {}
    for key, option in options.items():
        entry = {
            k: option[k]
            for k in ("type", "choices", "required", "elements", "aliases", "default")
            if k in option
        }
        if "suboptions" in option:
            entry["options"] = _spec_from_doc(option["suboptions"])
        spec[key] = entry
    return spec


@functools.lru_cache(maxsize=None)
def documented_suboptions(name, option):
    doc = yaml.safe_load(awx_module(name).DOCUMENTATION)
    return _spec_from_doc(doc["options"][option]["suboptions"])


def argspec_errors(module_name, params):
    """What the module's argument_spec refuses in params (+ the documented workflow nodes)."""
    spec, constraints = module_argument_spec(module_name)
    result = ArgumentSpecValidator(spec, **constraints).validate(copy.deepcopy(params))
    errors = ["awx.awx.%s: %s: %s" % (module_name, type(e).__name__, e) for e in result.errors]
    if module_name == "workflow_job_template":
        node_spec = documented_suboptions(module_name, "workflow_nodes")
        for index, node in enumerate(params.get("workflow_nodes") or []):
            node_result = ArgumentSpecValidator(node_spec).validate(copy.deepcopy(node))
            errors += [
                "awx.awx.%s: workflow_nodes[%d] (%s): %s: %s"
                % (module_name, index, node.get("identifier"), type(e).__name__, e)
                for e in node_result.errors
            ]
    return errors


# ---------------------------------------------------------------------------------------
# Rules of the AWX 24.6.1 server (see the module docstring for where each comes from)

SURVEY_TYPES = {
    "text": (str,),
    "textarea": (str,),
    "password": (str,),
    "multiplechoice": (str,),
    "multiselect": (str,),
    "integer": (int,),
    "float": (float, int),
}
# Keys of a survey question AWX and its UI use; AWX stores others silently, so a misspelt
# key (say 'requried') would simply be lost - refused here.
SURVEY_QUESTION_KEYS = {
    "question_name",
    "question_description",
    "variable",
    "type",
    "required",
    "default",
    "min",
    "max",
    "choices",
    "new_question",
}
# init_parameters of AWX's notification backends: (type, has a default).
NOTIFICATION_FIELDS = {
    "webhook": {
        "url": ("string", False),
        "http_method": ("string", True),
        "disable_ssl_verification": ("bool", True),
        "username": ("string", True),
        "password": ("password", True),
        "headers": ("object", False),
    },
    "email": {
        "host": ("string", False),
        "port": ("int", False),
        "username": ("string", False),
        "password": ("password", False),
        "use_tls": ("bool", False),
        "use_ssl": ("bool", False),
        "sender": ("string", False),
        "recipients": ("list", False),
        "timeout": ("int", True),
    },
}
NOTIFICATION_TYPES = {
    "string": (str,),
    "int": (int,),
    "bool": (bool,),
    "list": (list,),
    "password": (str,),
    "object": (dict,),
}


def survey_problems(survey):
    where = "survey '%s'" % survey.get("name")
    problems = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(survey.get(field), kind):
            problems.append("%s: '%s' must be a %s" % (where, field, kind.__name__))
    questions = survey.get("spec") if isinstance(survey.get("spec"), list) else []
    if not questions:
        problems.append("%s: 'spec' has no questions" % where)
    seen = set()
    for index, question in enumerate(questions):
        label = "%s question %d (%s)" % (where, index, question.get("variable"))
        for field, kind in (
            ("type", str),
            ("question_name", str),
            ("variable", str),
            ("required", bool),
        ):
            if not isinstance(question.get(field), kind):
                problems.append("%s: '%s' must be a %s" % (label, field, kind.__name__))
        unknown = sorted(set(question) - SURVEY_QUESTION_KEYS)
        if unknown:
            problems.append(
                "%s: unknown keys %s; allowed: %s" % (label, unknown, sorted(SURVEY_QUESTION_KEYS))
            )
        if question.get("variable") in seen:
            problems.append("%s: variable used twice" % label)
        seen.add(question.get("variable"))
        qtype = question.get("type")
        if qtype not in SURVEY_TYPES:
            problems.append("%s: type '%s' is not one of %s" % (label, qtype, sorted(SURVEY_TYPES)))
            continue
        default = question.get("default", "")
        if default != "" and (
            isinstance(default, bool) or not isinstance(default, SURVEY_TYPES[qtype])
        ):
            problems.append("%s: default %r does not fit type %s" % (label, default, qtype))
        for key in ("min", "max"):
            if question.get(key) is not None and (
                isinstance(question[key], bool) or not isinstance(question[key], int)
            ):
                problems.append("%s: %s must be an integer" % (label, key))
        if qtype in ("multiplechoice", "multiselect") and "choices" not in question:
            problems.append("%s: type %s needs choices" % (label, qtype))
    return problems


def notification_problems(notification_type, configuration):
    fields = NOTIFICATION_FIELDS.get(notification_type)
    if fields is None:
        return [
            "notification type '%s': no AWX rules in this test (webhook, email)" % notification_type
        ]
    problems = []
    for field, (kind, has_default) in fields.items():
        if field not in configuration:
            if not has_default:
                problems.append("%s: missing required field '%s'" % (notification_type, field))
            continue
        value = configuration[field]
        if isinstance(value, bool) != (kind == "bool") or not isinstance(
            value, NOTIFICATION_TYPES[kind]
        ):
            problems.append(
                "%s: field '%s' must be of type %s, got %r"
                % (notification_type, field, kind, value)
            )
        elif kind == "list" and not value:
            problems.append("%s: field '%s' lists nothing" % (notification_type, field))
    method = configuration.get("http_method", "POST")
    if notification_type == "webhook" and str(method).lower() not in ("post", "put"):
        problems.append("webhook: http_method must be POST or PUT, got %r" % method)
    unknown = sorted(set(configuration) - set(fields))
    if unknown:
        problems.append(
            "%s: unknown fields %s (AWX would ignore them)" % (notification_type, unknown)
        )
    return problems


# AWX's test whether a project file is a playbook (awx/main/utils/ansible.py).
AWX_PLAYBOOK_LINE = re.compile(
    r"^\s*?-?\s*?(?:hosts|(ansible\.builtin\.)?include|(ansible\.builtin\.)?import_playbook):\s*?.*?$"
)


def awx_lists_playbook(relative):
    parts = pathlib.PurePosixPath(relative).parent.parts
    if "roles" in parts or "tasks" in parts or "group_vars" in parts or "host_vars" in parts:
        return False
    if any(part.startswith(".") for part in parts) or pathlib.PurePosixPath(
        relative
    ).suffix not in (".yml", ".yaml"):
        return False
    return any(AWX_PLAYBOOK_LINE.match(line) for line in (ROOT / relative).read_text().splitlines())


# ---------------------------------------------------------------------------------------
# The real ansible-playbook runs


def closed_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure_play():
    return yaml.safe_load(CONFIGURE.read_text())


def static_tasks():
    return configure_play()[0]["tasks"]


def awx_action(task):
    return next((key for key in task if key.startswith("awx.awx.")), None)


def example_settings(directory):
    """The example settings of docs/awx.md step 5, with fake secrets in real files."""
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "management", "cluster": {"server": "https://192.0.2.10:6443"}}],
        "users": [{"name": "awx", "user": {"token": SECRETS["kubeconfig"]}}],
        "contexts": [{"name": "management", "context": {"cluster": "management", "user": "awx"}}],
        "current-context": "management",
    }
    files = {
        "kubeconfig": yaml.safe_dump(kubeconfig),
        "ca.crt": "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n",
        "ca.key": "-----BEGIN EC PRIVATE KEY-----\n%s\n-----END EC PRIVATE KEY-----\n"
        % SECRETS["ca_key"],
    }
    for name, text in files.items():
        (directory / name).write_text(text)
        (directory / name).chmod(0o600)
    return {
        "edgemesh_awx_scm_url": "https://git.example/platform/edgemesh-mesh.git",
        "edgemesh_awx_ee_image": "registry.example/edgemesh-ee:0.1.0",
        "edgemesh_awx_machine_credential": "nodes-ssh",
        "edgemesh_awx_kubeconfig_file": str(directory / "kubeconfig"),
        "edgemesh_awx_state_context": "management",
        "edgemesh_awx_mesh_ca_cert_file": str(directory / "ca.crt"),
        "edgemesh_awx_mesh_ca_key_file": str(directory / "ca.key"),
        "edgemesh_awx_notification_type": "webhook",
        "edgemesh_awx_notification_configuration": {
            "url": "https://chat.example/hooks/edgemesh",
            "http_method": "POST",
            "headers": {"Authorization": "Bearer %s" % SECRETS["webhook"]},
        },
    }


def run_configure(directory, name, settings, tasks=None, mutate=None):
    """Run a copy of configure.yml (play + ignore_errors; optionally only some tasks, or
    mutated) with the real ansible-playbook; return (records, completed process)."""
    root = directory / "tree"
    (root / "playbooks" / "awx").mkdir(parents=True, exist_ok=True)
    for link, target in (
        (root / "awx", ROOT / "awx"),
        (root / "playbooks" / "awx" / "vars", SETTINGS.parent),
    ):
        if not link.exists():
            link.symlink_to(target)
    (directory / "callbacks").mkdir(exist_ok=True)
    (directory / "callbacks" / "record_module_args.py").write_text(RECORDER)
    data = configure_play()
    play = data[0]
    play["ignore_errors"] = True
    if tasks is not None:
        play["tasks"] = [t for t in play["tasks"] if t["name"] in tasks]
        assert [t["name"] for t in play["tasks"]] == list(tasks)
    if mutate:
        mutate(play)
    playbook = root / "playbooks" / "awx" / name
    playbook.write_text("---\n" + yaml.safe_dump(data, sort_keys=False, width=1000))
    settings_file = directory / ("%s.settings.json" % name)
    settings_file.write_text(json.dumps(settings))
    record_file = directory / ("%s.record.json" % name)
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CALLBACK_PLUGINS=str(directory / "callbacks"),
        ANSIBLE_CALLBACKS_ENABLED="record_module_args",
        EDGEMESH_RECORD_FILE=str(record_file),
        CONTROLLER_HOST="https://127.0.0.1:%d" % closed_port(),
        CONTROLLER_USERNAME="admin",
        CONTROLLER_PASSWORD="not-a-password",
        CONTROLLER_VERIFY_SSL="false",
    )
    for key in (
        "CONTROLLER_OAUTH_TOKEN",
        "TOWER_HOST",
        "TOWER_OAUTH_TOKEN",
        "CONTROLLER_CONFIG_FILE",
    ):
        env.pop(key, None)
    completed = subprocess.run(
        [str(BIN / "ansible-playbook"), str(playbook), "-e", "@%s" % settings_file],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert record_file.exists(), completed.stdout[-3000:] + completed.stderr[-3000:]
    return json.loads(record_file.read_text()), completed


def module_calls(records):
    """One entry per module invocation (loop items separately, not the loop's summary)."""
    return [r for r in records if not r["loop_summary"] and r["status"] != "skipped"]


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("awx-configure")
    settings = example_settings(directory)
    records, completed = run_configure(directory, "configure.yml", settings)
    return {"settings": settings, "records": records, "completed": completed}


def calls_of(example_run, task_name):
    return [r for r in module_calls(example_run["records"]) if r["task"] == task_name]


def the_call(example_run, task_name, item=None):
    found = [r for r in calls_of(example_run, task_name) if item is None or r["item"] == item]
    assert len(found) == 1, "%s %s: %d calls recorded" % (task_name, item or "", len(found))
    return found[0]["args"]


AWX_TASKS = [t["name"] for t in static_tasks() if awx_action(t)]


# ---------------------------------------------------------------------------------------
# Every awx.awx task: the real module and its argument spec


def test_configure_calls_the_awx_modules_it_is_expected_to():
    modules = sorted({awx_action(t) for t in static_tasks() if awx_action(t)})
    assert modules == [
        "awx.awx.credential",
        "awx.awx.credential_type",
        "awx.awx.execution_environment",
        "awx.awx.inventory",
        "awx.awx.inventory_source",
        "awx.awx.job_template",
        "awx.awx.notification_template",
        "awx.awx.project",
        "awx.awx.workflow_job_template",
    ]


@pytest.mark.parametrize("task_name", AWX_TASKS)
def test_awx_task_is_accepted_by_the_real_module(example_run, task_name):
    calls = calls_of(example_run, task_name)
    assert calls, "%s did not run with the example settings" % task_name
    for call in calls:
        label = "%s %s" % (task_name, call["item"] or "")
        assert call["status"] == "failed"  # no controller: nothing can succeed
        if call["no_log"]:
            assert call["msg"] == "", label  # hidden; the argument spec check below covers it
        else:
            assert REACHED_CONTROLLER in call["msg"] and "Connection refused" in call["msg"], (
                label,
                call["msg"],
            )


@pytest.mark.parametrize("task_name", AWX_TASKS)
def test_awx_task_arguments_match_the_module_argument_spec(example_run, task_name):
    calls = calls_of(example_run, task_name)
    assert calls, "%s did not run with the example settings" % task_name
    problems = []
    for call in calls:
        module = call["action"].rsplit(".", 1)[-1]
        problems += [
            "%s %s: %s" % (task_name, call["item"] or "", e)
            for e in argspec_errors(module, call["args"])
        ]
    assert not problems, "\n".join(problems)


def test_a_wrong_key_or_choice_is_refused(tmp_path, example_run):
    """A deliberately broken copy: the real modules refuse a wrong choice and a wrong key;
    the misspelt workflow link passes the module (its nodes are unchecked dicts) and is
    caught by the documented suboptions; the same checker that passes configure.yml names
    all three."""

    def breaks(play):
        tasks = {t["name"]: t for t in play["tasks"]}
        tasks["Execution environment"]["awx.awx.execution_environment"]["pull"] = "sometimes"
        job_templates = tasks["Job templates"]
        job_templates["awx.awx.job_template"]["job_slices"] = job_templates[
            "awx.awx.job_template"
        ].pop("job_slice_count")
        job_templates["loop"] = "{{ edgemesh_awx_steps[:1] }}"
        prepare = tasks[
            "Workflow sync -> plan -> prepare -> bootstrap -> cilium -> verify, with failure paths"
        ]
        node = [
            n
            for n in prepare["awx.awx.workflow_job_template"]["workflow_nodes"]
            if n["identifier"] == "prepare"
        ][0]
        node["related"]["failure_node"] = node["related"].pop("failure_nodes")

    names = ["Execution environment", "Job templates", AWX_TASKS[-1]]
    records = run_configure(
        tmp_path, "broken.yml", example_run["settings"], tasks=names, mutate=breaks
    )[0]
    calls = {r["task"]: r for r in module_calls(records)}
    assert (
        "value of pull must be one of: always, missing, never, got: sometimes"
        in calls["Execution environment"]["msg"]
    )
    assert (
        "Unsupported parameters" in calls["Job templates"]["msg"]
        and "job_slices" in calls["Job templates"]["msg"]
    )
    assert (
        REACHED_CONTROLLER in calls[AWX_TASKS[-1]]["msg"]
    )  # the module itself lets the typo through

    ee = argspec_errors("execution_environment", calls["Execution environment"]["args"])
    assert len(ee) == 1 and "pull" in ee[0] and "sometimes" in ee[0]
    jt = argspec_errors("job_template", calls["Job templates"]["args"])
    assert len(jt) == 1 and "UnsupportedError: job_slices." in jt[0]
    wf = argspec_errors("workflow_job_template", calls[AWX_TASKS[-1]]["args"])
    assert (
        len(wf) == 1
        and "workflow_nodes[3] (prepare): UnsupportedError" in wf[0]
        and "failure_node" in wf[0]
    ), wf


# ---------------------------------------------------------------------------------------
# What AWX itself checks when the objects are saved


def test_credential_type_and_credential_are_what_awx_accepts(example_run):
    source = yaml.safe_load(CREDENTIAL_TYPE.read_text())
    cred_type = the_call(example_run, "Credential type")
    assert cred_type["kind"] in ("cloud", "net")
    # Passed through as data: AWX renders the injector templates, Ansible must not.
    assert cred_type["inputs"] == source["inputs"] and cred_type["injectors"] == source["injectors"]
    assert "{{ kubeconfig }}" in cred_type["injectors"]["file"].values()

    credential = the_call(example_run, "Credential with the kubeconfigs (and the mesh CA)")
    assert credential["credential_type"] == source["name"]
    fields = {f["id"] for f in source["inputs"]["fields"]}
    assert set(credential["inputs"]) <= fields
    assert set(source["inputs"]["required"]) <= set(credential["inputs"])
    settings = example_run["settings"]
    assert credential["inputs"]["kubeconfig"] == pathlib.Path(
        settings["edgemesh_awx_kubeconfig_file"]
    ).read_text().rstrip("\n")
    assert credential["inputs"]["mesh_ca_key"].startswith("-----BEGIN EC PRIVATE KEY-----")


def test_surveys_are_what_awx_accepts(example_run):
    surveyed = 0
    for call in calls_of(example_run, "Job templates"):
        args = call["args"]
        assert args["survey_enabled"] == ("survey_spec" in args), call["item"]
        if "survey_spec" in args:
            surveyed += 1
            assert not survey_problems(args["survey_spec"]), survey_problems(args["survey_spec"])
    assert surveyed == 3  # plan, reset, drill


def test_the_survey_rules_refuse_what_awx_refuses():
    good = {
        "name": "s",
        "description": "d",
        "spec": [{"question_name": "q", "variable": "v", "type": "text", "required": True}],
    }
    assert survey_problems(good) == []
    cases = {
        "type 'string' is not one of": {"type": "string"},
        "'required' must be a bool": {"required": "yes"},
        "unknown keys ['requried']": {"requried": True},
        "default 60 does not fit type text": {"default": 60},
        "type multiplechoice needs choices": {"type": "multiplechoice"},
        "min must be an integer": {"min": "1"},
    }
    for expected, change in cases.items():
        bad = copy.deepcopy(good)
        bad["spec"][0].update(change)
        assert any(expected in p for p in survey_problems(bad)), (expected, survey_problems(bad))
    assert any("'spec' has no questions" in p for p in survey_problems(dict(good, spec=[])))
    twice = dict(good, spec=good["spec"] * 2)
    assert any("variable used twice" in p for p in survey_problems(twice))


def test_notification_is_what_awx_accepts_and_attached_on_error(example_run):
    args = the_call(example_run, "Notification template for failures")
    assert args["name"] == "%s failure" % PREFIX and args["organization"] == ORG
    assert not notification_problems(args["notification_type"], args["notification_configuration"])
    for call in calls_of(example_run, "Job templates"):
        assert call["args"]["notification_templates_error"] == [args["name"]], call["item"]
    assert the_call(example_run, AWX_TASKS[-1])["notification_templates_error"] == [args["name"]]


def test_the_notification_rules_refuse_what_awx_refuses():
    email = {
        "host": "smtp.example",
        "port": 587,
        "username": "awx",
        "password": "x",
        "use_tls": True,
        "use_ssl": False,
        "sender": "awx@example.org",
        "recipients": ["ops@example.org"],
    }
    assert notification_problems("email", email) == []
    assert any(
        "'recipients' lists nothing" in p
        for p in notification_problems("email", dict(email, recipients=[]))
    )
    assert any(
        "'port' must be of type int" in p
        for p in notification_problems("email", dict(email, port="587"))
    )
    webhook = {"url": "https://chat.example/hook", "headers": {}}
    assert notification_problems("webhook", webhook) == []
    assert any(
        "missing required field 'headers'" in p
        for p in notification_problems("webhook", {"url": "u"})
    )
    assert any(
        "POST or PUT" in p
        for p in notification_problems("webhook", dict(webhook, http_method="GET"))
    )
    assert any(
        "unknown fields ['header']" in p
        for p in notification_problems("webhook", dict(webhook, header={}))
    )


def test_without_notification_settings_nothing_is_created_or_attached(tmp_path, example_run):
    settings = dict(
        example_run["settings"],
        edgemesh_awx_notification_type="",
        edgemesh_awx_notification_configuration={},
    )

    def one_template(play):
        [t for t in play["tasks"] if t["name"] == "Job templates"][0][
            "loop"
        ] = "{{ edgemesh_awx_steps[:1] }}"

    names = ["Notification template for failures", "Job templates", AWX_TASKS[-1]]
    records = run_configure(tmp_path, "quiet.yml", settings, tasks=names, mutate=one_template)[0]
    assert [r["status"] for r in records if r["task"] == names[0]] == ["skipped"]
    calls = module_calls(records)
    assert [c["task"] for c in calls] == names[1:]
    for call in calls:
        assert "notification_templates_error" not in call["args"]
        assert not argspec_errors(call["action"].rsplit(".", 1)[-1], call["args"])


def test_bad_settings_are_refused_by_name(tmp_path, example_run):
    settings = dict(
        example_run["settings"],
        edgemesh_awx_prepare_slices="two",
        edgemesh_awx_notification_configuration={},
    )
    names = ["Check the number of prepare slices", "Check the failure notification"]
    records = run_configure(tmp_path, "bad.yml", settings, tasks=names)[0]
    messages = {r["task"]: r["msg"] for r in records if r["status"] == "failed"}
    assert (
        "edgemesh_awx_prepare_slices is 'two'; allowed: a whole number of 1 or more"
        in messages[names[0]]
    )
    assert (
        "edgemesh_awx_notification_type 'webhook' needs edgemesh_awx_notification_configuration"
        in messages[names[1]]
    )


# ---------------------------------------------------------------------------------------
# The workflow, the job templates and their playbooks

EXPECTED_EDGES = {
    ("sync-project", "success_nodes", "sync-inventory"),
    ("sync-inventory", "success_nodes", "plan"),
    ("plan", "success_nodes", "prepare"),
    ("prepare", "success_nodes", "bootstrap"),
    ("bootstrap", "success_nodes", "cilium"),
    ("cilium", "success_nodes", "verify"),
    ("prepare", "failure_nodes", "diagnose"),
    ("bootstrap", "failure_nodes", "diagnose"),
    ("cilium", "failure_nodes", "diagnose"),
}


def graph_problems(nodes, job_templates):
    """Nodes, their templates and the links of the deploy workflow against EXPECTED_EDGES."""
    problems = []
    by_id = {n["identifier"]: n for n in nodes}
    expected_nodes = {edge[0] for edge in EXPECTED_EDGES} | {edge[2] for edge in EXPECTED_EDGES}
    if len(by_id) != len(nodes) or set(by_id) != expected_nodes:
        problems.append(
            "nodes %s, expected %s"
            % (sorted(n["identifier"] for n in nodes), sorted(expected_nodes))
        )
    edges = set()
    for node in nodes:
        for kind, targets in (node.get("related") or {}).items():
            edges.update((node["identifier"], kind, t.get("identifier")) for t in targets)
    if edges != EXPECTED_EDGES:
        problems.append(
            "links missing %s, unexpected %s"
            % (sorted(EXPECTED_EDGES - edges), sorted(edges - EXPECTED_EDGES))
        )
    expected_templates = {
        "sync-project": ("project", "%s cluster mesh" % PREFIX),
        "sync-inventory": ("inventory_source", "%s inventory from the project" % PREFIX),
    }
    for identifier, node in by_id.items():
        ujt = node.get("unified_job_template") or {}
        kind, name = expected_templates.get(
            identifier, ("job_template", "%s %s" % (PREFIX, identifier))
        )
        if (ujt.get("type"), ujt.get("name")) != (kind, name):
            problems.append(
                "node %s runs %s %r, expected %s %r"
                % (identifier, ujt.get("type"), ujt.get("name"), kind, name)
            )
        if ujt.get("type") == "job_template" and ujt.get("name") not in job_templates:
            problems.append(
                "node %s: no job template %r is created" % (identifier, ujt.get("name"))
            )
        scope = ujt.get("inventory", {}) if kind == "inventory_source" else ujt
        if scope.get("organization", {}).get("name") != ORG:
            problems.append(
                "node %s: template looked up outside organization %s" % (identifier, ORG)
            )
    return problems


def test_workflow_graph(example_run):
    workflow = the_call(example_run, AWX_TASKS[-1])
    job_templates = {c["args"]["name"]: c["args"] for c in calls_of(example_run, "Job templates")}
    assert graph_problems(workflow["workflow_nodes"], job_templates) == []
    assert workflow["name"] == "%s deploy" % PREFIX and workflow["allow_simultaneous"] is False
    assert workflow["destroy_current_nodes"] is True  # the module cannot drop links it is not given


def test_the_graph_check_sees_a_broken_graph(example_run):
    workflow = the_call(example_run, AWX_TASKS[-1])
    job_templates = {c["args"]["name"] for c in calls_of(example_run, "Job templates")}
    no_failure_path = copy.deepcopy(workflow["workflow_nodes"])
    del [n for n in no_failure_path if n["identifier"] == "bootstrap"][0]["related"][
        "failure_nodes"
    ]
    assert (
        "('bootstrap', 'failure_nodes', 'diagnose')"
        in graph_problems(no_failure_path, job_templates)[0]
    )
    wrong_template = copy.deepcopy(workflow["workflow_nodes"])
    [n for n in wrong_template if n["identifier"] == "verify"][0]["unified_job_template"][
        "name"
    ] = ("%s verfy" % PREFIX)
    problems = graph_problems(wrong_template, job_templates)
    assert any("node verify runs job_template" in p for p in problems)
    assert any("no job template 'edgemesh verfy'" in p for p in problems)


def test_slices_and_simultaneous_runs(example_run):
    templates = {c["item"]: c["args"] for c in calls_of(example_run, "Job templates")}
    default_slices = yaml.safe_load(SETTINGS.read_text())["edgemesh_awx_prepare_slices"]
    assert default_slices >= 2 and templates["prepare"]["job_slice_count"] == default_slices
    for step, args in templates.items():
        # one run of a template at a time; AWX lets the slices of one run start together
        assert args["allow_simultaneous"] is False, step
        if step != "prepare":
            assert args["job_slice_count"] == 1, step
    # One commit and one inventory per workflow run: nothing syncs on its own at launch.
    assert the_call(example_run, "Project")["scm_update_on_launch"] is False
    assert the_call(example_run, "Inventory source from the project")["update_on_launch"] is False


def test_job_templates_and_their_playbooks(example_run):
    templates = {c["item"]: c["args"] for c in calls_of(example_run, "Job templates")}
    assert sorted(templates) == sorted(
        ["plan", "prepare", "bootstrap", "cilium", "verify", "diagnose", "reset", "drill"]
    )
    for step, args in templates.items():
        assert args["playbook"] == "playbooks/awx/%s.yml" % step
        assert (ROOT / args["playbook"]).is_file(), args["playbook"]
        assert awx_lists_playbook(args["playbook"]), (
            "AWX would not offer %s as a playbook" % args["playbook"]
        )
        assert args["extra_vars"]["edgemesh_output_dir"] == "/runner/edgemesh"
        nodes = "nodes-ssh" in args["credentials"]
        assert nodes == (step in ("prepare", "bootstrap", "reset", "drill")), step
        assert args["ask_limit_on_launch"] == (step in ("prepare", "bootstrap", "reset")), step
    assert not awx_lists_playbook("playbooks/awx/tasks/check_backend.yml")


# ---------------------------------------------------------------------------------------
# Surveys against what the playbooks read

LOADER = DataLoader()


def _tasks(items):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def playbook_chain(path):
    """[(file, play, [(file, task)])] in the order the playbook runs them, following static
    import_playbook / import_tasks / include_tasks with literal paths."""
    chain = []
    for entry in LOADER.load_from_file(str(path), trusted_as_template=True):
        target = entry.get("ansible.builtin.import_playbook") or entry.get("import_playbook")
        if target:
            chain += playbook_chain((path.parent / target).resolve())
            continue
        tasks = []
        for section in ("pre_tasks", "tasks", "post_tasks"):
            for task in _tasks(entry.get(section)):
                tasks += _with_included(path.parent, path, task)
        chain.append((path, entry, tasks))
    return chain


def _with_included(base, path, task):
    found = [(path, task)]
    for key in (
        "ansible.builtin.import_tasks",
        "ansible.builtin.include_tasks",
        "import_tasks",
        "include_tasks",
    ):
        target = task.get(key)
        if isinstance(target, str) and "{{" not in target:
            # as Ansible looks: beside the including file first, then in the playbook's dir
            candidates = [(path.parent / target).resolve(), (base / target).resolve()]
            included = next((c for c in candidates if c.is_file()), candidates[-1])
            for sub in _tasks(LOADER.load_from_file(str(included), trusted_as_template=True)):
                found += _with_included(base, included, sub)
    return found


def chain_files(chain):
    return {link[0] for link in chain} | {task[0] for link in chain for task in link[2]}


def confirmations(chain, variables):
    """[(play index, file, condition)] of the asserts that read any of the variables."""
    words = re.compile(r"\b(%s)\b" % "|".join(map(re.escape, variables)))
    found = []
    for index, (_path, _play, tasks) in enumerate(chain):
        for path, task in tasks:
            spec = task.get("ansible.builtin.assert") or task.get("assert")
            if not spec:
                continue
            that = spec["that"] if isinstance(spec["that"], list) else [spec["that"]]
            found += [(index, path, condition) for condition in that if words.search(condition)]
    return found


def holds(condition, answers):
    return Templar(loader=LOADER, variables=answers).evaluate_conditional(condition)


def survey_of(example_run, step):
    return the_call(example_run, "Job templates", item=step)["survey_spec"]["spec"]


@pytest.mark.parametrize("step", ["plan", "reset", "drill"])
def test_survey_variables_are_read_by_the_playbook(example_run, step):
    chain = playbook_chain(ROOT / "playbooks" / "awx" / ("%s.yml" % step))
    text = "\n".join(p.read_text() for p in chain_files(chain))
    for question in survey_of(example_run, step):
        assert re.search(r"\b%s\b" % question["variable"], text), "%s: nothing reads %s" % (
            step,
            question["variable"],
        )


# The answer each confirmation wants, and answers it must refuse before any node is touched.
CONFIRM = {
    "reset": (
        {"edgemesh_reset_confirm": "RESET"},
        [
            {"edgemesh_reset_confirm": "reset"},
            {"edgemesh_reset_confirm": ""},
            {"edgemesh_reset_confirm": "yes"},
        ],
    ),
    "drill": (
        {
            "edgemesh_drill_region": "eu-west",
            "edgemesh_drill_confirm": "eu-west",
            "edgemesh_drill_hold": 60,
        },
        [
            {
                "edgemesh_drill_region": "eu-west",
                "edgemesh_drill_confirm": "us-east",
                "edgemesh_drill_hold": 60,
            },
            {"edgemesh_drill_region": "", "edgemesh_drill_confirm": "", "edgemesh_drill_hold": 60},
        ],
    ),
}


def first_node_play(chain):
    hosts = [str(link[1].get("hosts", "")) for link in chain]
    return next((i for i, h in enumerate(hosts) if h not in ("localhost", "127.0.0.1")), len(hosts))


@pytest.mark.parametrize(
    "step",
    [
        "reset",
        "drill",
    ],
)
def test_the_survey_answer_passes_every_confirmation(example_run, step):
    chain = playbook_chain(ROOT / "playbooks" / "awx" / ("%s.yml" % step))
    variables = [q["variable"] for q in survey_of(example_run, step)]
    checks = confirmations(chain, variables)
    assert checks, "%s: no confirmation reads %s" % (step, variables)
    accept = CONFIRM[step][0]
    assert set(accept) == set(variables)
    failing = [
        (str(path.relative_to(ROOT)), c) for _index, path, c in checks if not holds(c, accept)
    ]
    assert not failing, "%s: the answer %s fails %s" % (step, accept, failing)


@pytest.mark.parametrize("step", ["reset", "drill"])
def test_a_wrong_survey_answer_stops_before_any_node(example_run, step):
    chain = playbook_chain(ROOT / "playbooks" / "awx" / ("%s.yml" % step))
    checks = confirmations(chain, [q["variable"] for q in survey_of(example_run, step)])
    before_nodes = first_node_play(chain)
    for answers in CONFIRM[step][1]:
        refusing = [index for index, _path, condition in checks if not holds(condition, answers)]
        assert (
            refusing and min(refusing) < before_nodes
        ), "%s: %s is not refused before the nodes" % (step, answers)


# ---------------------------------------------------------------------------------------
# Secrets


def test_no_secret_in_a_task_without_no_log(example_run):
    checked = 0
    for record in example_run["records"]:
        text = json.dumps(record["args"])
        leaked = [name for name, marker in SECRETS.items() if marker in text]
        if leaked:
            checked += 1
            assert record["no_log"], "%s carries the %s without no_log" % (record["task"], leaked)
    assert checked == 2  # the credential and the notification template
    output = example_run["completed"].stdout + example_run["completed"].stderr
    assert not [name for name, marker in SECRETS.items() if marker in output]


def test_every_task_handling_a_secret_is_no_log_in_the_playbook():
    no_log = {t["name"] for t in static_tasks() if t.get("no_log") is True}
    assert no_log == {
        "Credential with the kubeconfigs (and the mesh CA)",
        "Notification template for failures",
    }


def test_docs_name_only_real_settings():
    settings = set(yaml.safe_load(SETTINGS.read_text()))
    surveyed = {
        q["variable"]
        for step in yaml.safe_load(SETTINGS.read_text())["edgemesh_awx_steps"]
        for q in step["survey"]
    }
    named = set(re.findall(r"\bedgemesh_awx_\w+", (ROOT / "docs" / "awx.md").read_text()))
    assert named and not named - settings - surveyed, sorted(named - settings - surveyed)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""House-style rules that hold for every role and plugin of the collection."""

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())
PHASES = ["preflight.yml", "install.yml", "configure.yml", "service.yml"]


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_defaults_match_argument_specs(role):
    defaults = _load(role / "defaults" / "main.yml")
    specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    optional = {k for k, spec in specs.items() if not spec.get("required")}
    assert set(defaults) - set(specs) == set(), f"{role.name}: defaults without a spec"
    assert optional - set(defaults) == set(), f"{role.name}: optional options without a default"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_variables_are_prefixed(role):
    specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]
    for entry in specs.values():
        for option in entry.get("options", {}):
            assert option.startswith(
                role.name + "_"
            ), f"{role.name}: option {option} lacks the prefix"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_main_only_includes_phases_in_order(role):
    tasks = _load(role / "tasks" / "main.yml")
    files = []
    for task in tasks:
        action = [k for k in task if k.startswith("ansible.builtin.")]
        assert action and action[0] in (
            "ansible.builtin.include_tasks",
            "ansible.builtin.import_tasks",
        ), f"{role.name}: tasks/main.yml must only include phase files, found {task}"
        target = task[action[0]]
        files.append(target["file"] if isinstance(target, dict) else target)
    assert files[0] == "preflight.yml", f"{role.name}: preflight must come first"
    order = [PHASES.index(f) for f in files if f in PHASES]
    assert order == sorted(order), f"{role.name}: phases out of order: {files}"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_preflight_changes_nothing(role):
    allowed = {
        "ansible.builtin.assert",
        "ansible.builtin.fail",
        "ansible.builtin.stat",
        "ansible.builtin.set_fact",
        "ansible.builtin.debug",
        "ansible.builtin.include_tasks",
        "ansible.builtin.command",  # read-only probes must set changed_when: false
        "ansible.builtin.slurp",
        "ansible.builtin.getent",
        "ansible.builtin.package_facts",
        "ansible.builtin.service_facts",
        "ansible.builtin.setup",
        "ansible.builtin.include_role",
        "ansible.builtin.meta",  # end_host / end_play only
    }
    tasks = _load(role / "tasks" / "preflight.yml")

    def walk(items):
        for task in items:
            for block in ("block", "rescue", "always"):
                if block in task:
                    yield from walk(task[block])
            yield task

    for task in walk(tasks):
        if any(b in task for b in ("block", "rescue", "always")):
            continue
        action = [k for k in task if "." in k and not k.startswith("ansible.builtin.include_")]
        action = action or [k for k in task if k.startswith("ansible.builtin.include_")]
        assert action, f"{role.name}: cannot tell the action of {task.get('name')}"
        name = action[0]
        assert name in allowed or name.startswith(
            "edgemesh.cluster_mesh."
        ), f"{role.name}: preflight task '{task.get('name')}' uses {name}, which may change the host"
        if name == "ansible.builtin.command":
            assert (
                task.get("changed_when") is False
            ), f"{role.name}: probe '{task.get('name')}' needs changed_when: false"


def test_every_python_plugin_has_the_license_header():
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "GNU General Public License v3.0+" in text.split("\n\n")[0] + text[:400], path


def test_handlers_are_capitalised_and_listen():
    for path in sorted(ROOT.glob("roles/*/handlers/main.yml")):
        for handler in _load(path):
            assert re.match(r"^[A-Z]", handler["name"]), f"{path}: {handler['name']}"
            assert (
                "listen" in handler and handler["listen"] == handler["listen"].lower()
            ), f"{path}: {handler['name']}"

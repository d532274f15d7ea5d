# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: render role variables with Ansible's own Templar.

The role's defaults/main.yml and vars/main.yml are loaded as Ansible loads them, so a test
renders exactly what a task's ``content: "{{ ... }}"`` gets. Collection filters and tests
(``edgemesh.cluster_mesh.*``) need Ansible's collection finder: tests/unit/roles/conftest.py
installs it for the tests there.
"""

import pathlib

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = pathlib.Path(__file__).resolve().parents[3]
LOADER = DataLoader()


def role_variables(role):
    variables = {}
    for part in ("defaults", "vars"):
        path = ROOT / "roles" / role / part / "main.yml"
        variables.update(LOADER.load_from_file(str(path), trusted_as_template=True))
    return variables


def templar(role, *layers):
    variables = role_variables(role)
    for layer in layers:
        variables.update(layer)
    return Templar(loader=LOADER, variables=variables)


def render(role, expression, *layers):
    return templar(role, *layers).template(trust_as_template(expression))


def holds(role, conditions, *layers):
    engine = templar(role, *layers)
    return all(engine.evaluate_conditional(trust_as_template(c)) for c in conditions)


def _walk(tasks):
    for task in tasks or []:
        for key in ("block", "rescue", "always"):
            yield from _walk(task.get(key))
        yield task


def task_content(role, task_file, name):
    """The ``content`` expression of the copy task ``name`` in roles/<role>/tasks/<file>."""
    path = ROOT / "roles" / role / "tasks" / task_file
    for task in _walk(LOADER.load_from_file(str(path), trusted_as_template=True)):
        if task.get("name") == name:
            return task["ansible.builtin.copy"]["content"]
    raise AssertionError("no task %r in %s" % (name, path))

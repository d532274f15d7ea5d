# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan the mesh and write its files in one task (see plugins/modules/mesh_plan.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import subprocess
import sys
import time

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.plugins.action import ActionBase

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    bootstrap_files,
    live_config,
    mesh_artifacts,
    mesh_paths,
    mesh_planner,
    role_inputs,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.plugin_utils import (
    inventory_sources,
    known_vars,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.plugin_utils.file_sync import sync_owned
from ansible_collections.edgemesh.cluster_mesh.plugins.plugin_utils.play_inventory import (
    play_inventory,
    variable_sources,
)

# Host variables the bootstrap previews read (the k3s/kubeadm role knobs).
BOOTSTRAP_KEYS = tuple(
    sorted(
        set((role_inputs.PIN_VAR,) + bootstrap_files.ROLE_KEYS["k3s"])
        | set(bootstrap_files.ROLE_KEYS["kubeadm"])
    )
)

# Facts the collection's own playbooks set during a run; not settings.
RUN_FACTS = frozenset(["edgemesh_plan"])

ARGUMENT_SPEC = {
    "output_dir": {"type": "path"},
    "state_file": {"type": "path"},
    "inventory_sources": {"type": "list", "elements": "str"},
}


def read_inventory(sources, config_file):
    """The parsed output of ``ansible-inventory --list`` on ``sources``."""
    argv = [sys.executable, "-m", "ansible.cli.inventory", "--list"]
    argv += ["--inventory=%s" % source for source in sources]
    env = dict(os.environ)
    if config_file:
        env["ANSIBLE_CONFIG"] = config_file
    proc = subprocess.run(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        check=False,
    )
    if proc.returncode != 0:
        raise AnsibleActionFail(
            "mesh_plan: ansible-inventory --list failed on %s: %s"
            % (", ".join(sources), to_text(proc.stderr).strip()[-2000:])
        )
    try:
        return json.loads(to_text(proc.stdout))
    except ValueError as exc:
        raise AnsibleActionFail("mesh_plan: ansible-inventory gave no JSON (%s)" % exc)


def read_state(path):
    if not os.path.exists(path):
        return ""
    try:
        with open(path, "r") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise AnsibleActionFail("mesh_plan: cannot read the state file %s: %s" % (path, exc))


# --diff shows at most this many files (a first plan of 511 clusters writes 14,000).
MAX_DIFF_FILES = 50


class Refused(Exception):
    """The plan cannot start; the message says why (file and line where known)."""


def read_previous_plan(output_dir):
    """The plan.json an earlier run wrote, or None (none there, or not a plan)."""
    path = os.path.join(output_dir, "plan.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "r") as handle:
            plan = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    return plan if isinstance(plan, dict) and isinstance(plan.get("clusters"), list) else None


# Written by playbooks/awx/tasks/credential_files.yml: the files an AWX credential laid out
# in the output directory (per-context kubeconfigs, the mesh CA). They are inputs, not
# outputs of an earlier plan.
CREDENTIAL_FILES = "credential-files.json"


def credential_files(output_dir):
    """Absolute paths the credential provided, from <output_dir>/credential-files.json."""
    try:
        with open(os.path.join(output_dir, CREDENTIAL_FILES), "r") as handle:
            listed = json.load(handle).get("files")
    except (IOError, OSError, ValueError, AttributeError):
        return set()
    if not isinstance(listed, list):
        return set()
    return set(os.path.normpath(p) for p in listed if isinstance(p, str))


def earlier_artifacts(output_dir):
    """Outputs of an earlier plan in output_dir: plan.json, mesh-ca/, <cluster>/kubeconfig;
    files an AWX credential provided do not count."""
    found = [os.path.join(output_dir, n) for n in ("plan.json", "mesh-ca")]
    found = [path for path in found if os.path.exists(path)]
    found += sorted(glob.glob(os.path.join(output_dir, "*", "kubeconfig")))
    provided = credential_files(output_dir)
    return [path for path in found if os.path.normpath(path) not in provided]


def read_live_files(output_dir):
    """{cluster: cilium-config data or None} from <output_dir>/live/*.json (adopt_live.yml);
    a file that cannot be read is Refused, naming it."""
    found = {}
    pattern = os.path.join(output_dir, live_config.LIVE_DIR, "*.json")
    for path in sorted(glob.glob(pattern)):
        try:
            with open(path, "r") as handle:
                cluster, data = live_config.parse_live_file(handle.read(), path)
        except (IOError, OSError) as exc:
            raise Refused("cannot read the live file %s: %s" % (path, exc))
        except live_config.LiveConfigError as exc:
            raise Refused(str(exc))
        stem = os.path.basename(path)[: -len(".json")]
        if cluster != stem:
            raise Refused(
                "the live file %s is for cluster %r; allowed: live/<cluster>.json as "
                "playbooks/adopt_live.yml writes it (re-run it)" % (path, cluster)
            )
        found[cluster] = data
    return found


def capped_diffs(diffs):
    if diffs is None or len(diffs) <= MAX_DIFF_FILES:
        return diffs
    more = len(diffs) - MAX_DIFF_FILES
    return diffs[:MAX_DIFF_FILES] + [
        {"prepared": "... and %d more changed file(s), listed in changed_files\n" % more}
    ]


def _has_template(value):
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_template(v) for v in value)
    return False


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def _value(self, value):
        return mesh_planner.plain(self._templar.template(value))

    def _settings(self, task_vars):
        return dict(
            (key, self._value(task_vars[key]))
            for key in task_vars
            if key.startswith("edgemesh_") and key not in RUN_FACTS
        )

    def _resolver(self, task_vars):
        hostvars = task_vars.get("hostvars") or {}

        def resolve(host, key, raw):
            # What a play on that host sees: templated (only where a template is), extra
            # vars applied.
            if not _has_template(raw):
                return mesh_planner.plain(raw)
            try:
                return mesh_planner.plain(hostvars[host][key])
            except (KeyError, TypeError):
                return raw

        return resolve

    def _bootstrap_vars(self, inventory, task_vars):
        """{host: {k3s_*/kubeadm_* knob: value as the play sees it}} for the previews."""
        resolve = self._resolver(task_vars)
        result = {}
        for host, raw in ((inventory.get("_meta") or {}).get("hostvars") or {}).items():
            result[host] = dict(
                (key, resolve(host, key, raw[key])) for key in BOOTSTRAP_KEYS if key in raw
            )
        return result

    def _check_sources(self, args, task_vars):
        """The inventory sources, every one of them parsed (else Refused, naming the file)."""
        sources = args["inventory_sources"] or task_vars.get("ansible_inventory_sources") or []
        if isinstance(sources, str):
            sources = [sources]
        manager = getattr(task_vars.get("hostvars"), "_inventory", None)
        if manager is None:
            return sources
        processed = None
        if not args["inventory_sources"]:
            processed = getattr(getattr(manager, "_inventory", None), "processed_sources", None)
        problems = inventory_sources.source_problems(manager, self._loader, sources, processed)
        if problems:
            raise Refused(
                "%d inventory problem(s); nothing planned, nothing written:\n- %s"
                % (len(problems), "\n- ".join(problems))
            )
        return sources

    def _inventory(self, args, task_vars):
        try:
            return self._read_inventory(args, task_vars)
        except AnsibleActionFail:
            raise
        except AnsibleError as exc:
            raise Refused(
                "reading the inventory's variables failed: %s" % inventory_sources.describe(exc)
            )

    def _read_inventory(self, args, task_vars):
        if not args["inventory_sources"]:
            keys = mesh_planner.INVENTORY_KEYS + BOOTSTRAP_KEYS
            found = play_inventory(task_vars.get("hostvars"), keys, known_vars.PREFIXES)
            if found is not None:
                return found
        sources = args["inventory_sources"] or task_vars.get("ansible_inventory_sources") or []
        return read_inventory(sources, task_vars.get("ansible_config_file"))

    def _check_names(self, inventory, task_vars):
        """Refuse prefixed variables that nothing reads (plugin_utils/known_vars.py)."""
        meta = inventory.get("_meta") or {}
        names = meta.get("variable_names")
        if names is None:  # ansible-inventory --list: every host's variables are listed
            names = set(key for hv in (meta.get("hostvars") or {}).values() for key in hv)
        hostvars = task_vars.get("hostvars")

        def locate(wanted, hosts):
            return variable_sources(hostvars, wanted, hosts)

        allow = self._value(task_vars.get(known_vars.ALLOW_VAR))
        known_vars.check_names(names, [k for k in task_vars if k not in RUN_FACTS], locate, allow)

    def _message(self, output_dir, changed, removed, unchanged):
        check = self._task.check_mode
        text = "%s %d of %d file(s) under %s" % (
            "would write" if check else "wrote",
            len(changed),
            len(changed) + unchanged,
            output_dir,
        )
        if removed:
            text += "; %s %d file(s) of clusters no longer planned: %s" % (
                "would remove" if check else "removed",
                len(removed),
                ", ".join(removed[:5]) + (" ..." if len(removed) > 5 else ""),
            )
        return text

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        timings = {}
        started = time.perf_counter()
        try:
            sources = self._check_sources(args, task_vars)
            output_dir = mesh_paths.output_dir(sources, args["output_dir"])
            inventory = self._inventory(args, task_vars)
        except (Refused, mesh_paths.OutputDirError) as exc:
            result.update(failed=True, msg="mesh_plan: %s" % to_native(exc))
            return result
        state_file = os.path.realpath(
            args["state_file"] or os.path.join(output_dir, "mesh-state.json")
        )
        timings["inventory"] = time.perf_counter() - started
        previous = read_previous_plan(output_dir)
        try:
            live = read_live_files(output_dir)
        except Refused as exc:
            result.update(failed=True, msg="mesh_plan: %s" % to_native(exc))
            return result
        try:
            started = time.perf_counter()
            self._check_names(inventory, task_vars)
            clusters = mesh_planner.clusters_from_inventory(inventory, self._resolver(task_vars))
            planned = mesh_planner.plan_mesh(
                clusters,
                self._settings(task_vars),
                read_state(state_file),
                previous_plan=previous,
                artifacts=earlier_artifacts(output_dir),
                live=live,
            )
            timings["plan"] = time.perf_counter() - started
            started = time.perf_counter()
            files = mesh_artifacts.render_artifacts(
                planned["plan"],
                state_file=state_file,
                bootstrap_hostvars=self._bootstrap_vars(inventory, task_vars),
            )
            timings["render"] = time.perf_counter() - started
        except (
            mesh_planner.PlanError,
            mesh_artifacts.ArtifactError,
            known_vars.UnknownVariables,
        ) as exc:
            # The planner sees the state's text, not its place: name the file here.
            text = to_native(exc).replace(
                "the state file is missing", "the state file %s is missing" % state_file, 1
            )
            result.update(failed=True, msg="mesh_plan: %s" % text)
            return result
        started = time.perf_counter()
        changes = mesh_artifacts.plan_changes(previous, planned["plan"])
        diffs = [] if self._task.diff else None
        changed, removed, unchanged = sync_owned(
            output_dir, files, check_mode=bool(self._task.check_mode), diffs=diffs
        )
        timings["write"] = time.perf_counter() - started
        if diffs is not None:
            result["diff"] = capped_diffs(diffs)
        if self._task.check_mode:
            # Nothing was written: later plays of this run take the plan from here. After
            # a real run they read plan.json (tasks/load_plan.yml); handing a plan of 511
            # clusters (6 MB) through the task result costs seconds.
            result["plan"] = planned["plan"]
        result.update(
            changed=bool(changed or removed),
            summary=files["summary.txt"].splitlines(),
            changes=changes,
            change_summary=mesh_artifacts.change_lines(changes),
            changed_files=changed,
            removed_files=removed,
            output_dir=output_dir,
            timings=dict((k, round(v, 3)) for k, v in timings.items()),
            msg=self._message(output_dir, changed, removed, unchanged),
        )
        return result

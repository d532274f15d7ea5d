# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which variables with the collection's prefixes exist, and the refusal of the others.

A typo such as ``edgemesh_distrbution`` or ``cilium_hubbel_ui`` would otherwise be ignored
and the default planned. The known set is, at run time:

* the planner's inventory keys and mesh-wide settings (``mesh_planner``);
* every option of every entry point in ``roles/*/meta/argument_specs.yml``, read from the
  collection's root relative to this file (once per process), so a role option added there
  is known without an edit here;
* ``PLAYBOOK_VARS``: the extra vars and run facts the playbooks read or set themselves
  (tests/unit/plugins/plugin_utils/test_known_vars.py checks that every prefixed name in
  playbooks/ is known, and every key of roles/*/defaults).

Options of the roles that run on the control node only (``CONTROL_NODE_ROLES``) are read
there only: set on a cluster's group or host they would be ignored, so they are refused
too, unless the control node sees them (group_vars/all, extra vars) and no group but
``all`` sets them. The opt-out is ``edgemesh_allow_unknown_vars``: ``true`` or a list of
names the user means.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import glob
import os

import yaml

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import (
    bootstrap_files,
    mesh_planner,
)

PREFIXES = (
    "edgemesh_",
    "cilium_",
    "k3s_",
    "kubeadm_",
    "node_prep_",
    "cluster_common_",
    "global_services_",
    "verify_",
    "mesh_ca_",
)
ALLOW_VAR = "edgemesh_allow_unknown_vars"

# Variables the playbooks read (extra vars, docs/*.md) or set during a run (facts, the
# in-memory hosts of playbooks/tasks/mesh_release_hosts.yml), listed in no argument spec.
PLAYBOOK_VARS = frozenset(
    [
        "edgemesh_plan",
        "edgemesh_plan_summary",
        "edgemesh_release_cluster",
        "edgemesh_reset_confirm",
        "edgemesh_reset_hosts",
        "edgemesh_remove_nodes",
        "edgemesh_kubeadm_upgrade_order",
        "edgemesh_cilium_upgrade_version",
        "edgemesh_cilium_upgrade_accept_policy_change",
        "edgemesh_cilium_preflight_timeout",
        "edgemesh_cilium_upgrade",
        "edgemesh_upgrade_step",
        "edgemesh_mesh_ca_dir",
        "edgemesh_mesh_ca_cert_file",
        "edgemesh_mesh_ca_key_file",
        "edgemesh_credential_kubeconfig",
        "edgemesh_state_backend",
        "edgemesh_state_context",
        "edgemesh_state_force",
        "edgemesh_state_namespace",
        "edgemesh_state_recover_contexts",
        "edgemesh_state_secret",
        "edgemesh_state_store",
        "edgemesh_awx_ee_image",
        "edgemesh_awx_ee_pull_credential",
        "edgemesh_awx_extra_vars",
        "edgemesh_awx_inventory_path",
        "edgemesh_awx_kubeconfig_file",
        "edgemesh_awx_machine_credential",
        "edgemesh_awx_mesh_ca_cert_file",
        "edgemesh_awx_mesh_ca_key_file",
        "edgemesh_awx_notification_configuration",
        "edgemesh_awx_notification_type",
        "edgemesh_awx_output_dir",
        "edgemesh_awx_prepare_slices",
        "edgemesh_awx_organization",
        "edgemesh_awx_prefix",
        "edgemesh_awx_release_clusters",
        "edgemesh_awx_scm_branch",
        "edgemesh_awx_scm_credential",
        "edgemesh_awx_scm_url",
        "edgemesh_awx_state_context",
        "edgemesh_awx_state_namespace",
        "edgemesh_awx_state_secret",
        "edgemesh_awx_steps",
        "verify_checks",
        "verify_probe_log",
        "edgemesh_remove_etcdctl",
        "edgemesh_drill",
        "edgemesh_drill_problems",
        "edgemesh_drill_table",
        "edgemesh_drill_confirm",
        "edgemesh_drill_heal_margin",
        "edgemesh_drill_hold",
        "edgemesh_drill_kubernetes",
        "edgemesh_drill_probe_port",
        "edgemesh_drill_region",
        "edgemesh_drill_times",
    ]
)
# Inventory groups the playbooks target or create: names, not variables.
PLAYBOOK_GROUPS = frozenset(
    [
        "edgemesh_clusters",
        "edgemesh_cilium_releases",
        "edgemesh_k3s",
        "edgemesh_k3s_agent",
        "edgemesh_k3s_init",
        "edgemesh_k3s_remove",
        "edgemesh_k3s_server",
        "edgemesh_k3s_upgrade_agent",
        "edgemesh_k3s_upgrade_server",
        "edgemesh_kubeadm",
        "edgemesh_remove",
        "edgemesh_drill_cut",
    ]
)
# Roles that run on the control node (their options are read there, never per cluster).
CONTROL_NODE_ROLES = ("cilium", "global_services", "mesh_ca", "verify")

_CACHE = {}


class UnknownVariables(ValueError):
    """Variables that would be ignored; the message names each one, where and the fix."""


def collection_root():
    """The collection's root: plugins/plugin_utils/ is two levels below it."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def role_options(root=None):
    """{role: frozenset(option names of every entry point)} from roles/*/meta/argument_specs.yml."""
    root = root or collection_root()
    if root not in _CACHE:
        found = {}
        pattern = os.path.join(root, "roles", "*", "meta", "argument_specs.yml")
        for path in sorted(glob.glob(pattern)):
            role = os.path.basename(os.path.dirname(os.path.dirname(path)))
            with open(path) as handle:
                specs = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
            names = set()
            for entry in specs.values():
                names.update((entry or {}).get("options") or {})
            found[role] = frozenset(names)
        _CACHE[root] = found
    return _CACHE[root]


def known_names(root=None):
    """Every variable name with one of PREFIXES that the collection reads or sets."""
    names = set(mesh_planner.INVENTORY_KEYS) | set(mesh_planner.MESH_KEYS) | PLAYBOOK_VARS
    for keys in bootstrap_files.ROLE_KEYS.values():
        names.update(keys)
    for options in role_options(root).values():
        names.update(options)
    return frozenset(n for n in names if n.startswith(PREFIXES))


def control_node_options(root=None):
    """Options read on the control node only (the Cilium values options are per cluster)."""
    options = role_options(root)
    names = set()
    for role in CONTROL_NODE_ROLES:
        names.update(options.get(role, ()))
    return frozenset(names - set(mesh_planner.CILIUM_KEYS))


def prefixed(names):
    return sorted(n for n in names if isinstance(n, str) and n.startswith(PREFIXES))


def allowed_unknown(value):
    """True (allow every name) or the frozenset of names from edgemesh_allow_unknown_vars."""
    if value is True:
        return True
    if value in (None, False, ""):
        return frozenset()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(x, str) for x in items):
        raise UnknownVariables(
            "%s %r is not allowed; allowed: true or a list of variable names" % (ALLOW_VAR, value)
        )
    return frozenset(items)


def check_names(host_names, control_names, locate=None, allow=None, root=None):
    """Refuse (UnknownVariables) prefixed names nobody reads.

    ``host_names``: names the cluster hosts see; ``control_names``: names the control node
    sees (play, extra vars, group_vars/all); ``locate(names, hosts)`` -> {name: [where]}
    (optional) names the groups/hosts that set them.
    """
    allowed = allowed_unknown(allow)
    if allowed is True:
        return
    known = known_names(root)
    seen = set(prefixed(host_names)) | set(prefixed(control_names))
    unknown = sorted(n for n in seen - known - allowed)
    misplaced = _misplaced(host_names, control_names, locate, root)
    wheres = locate(unknown, True) if (locate and unknown) else {}
    problems = [_unknown_problem(n, known, wheres.get(n), n in control_names) for n in unknown]
    problems += [
        "%s is set for %s, but the role that reads it runs on the control node and reads it "
        "there only; allowed: set it in group_vars/all or as an extra var" % (name, where)
        for name, where in misplaced
        if name not in allowed
    ]
    if problems:
        raise UnknownVariables("; ".join(problems))


def _unknown_problem(name, known, where, on_control):
    places = ", ".join(where or []) or (
        "the control node (play, extra vars or group_vars/all)" if on_control else "a host"
    )
    close = difflib.get_close_matches(name, sorted(known), n=3)
    hint = "did you mean %s? " % " or ".join("'%s'" % c for c in close) if close else ""
    return (
        "unknown variable '%s' (set for %s): no role, playbook or planner reads it; %sallowed: "
        "a variable of roles/*/meta/argument_specs.yml or docs/planner.md, or list it in %s "
        "if you mean it" % (name, places, hint, ALLOW_VAR)
    )


def _misplaced(host_names, control_names, locate, root):
    """(name, where) of control-node options set for a cluster's group or host."""
    options = control_node_options(root)
    wanted = sorted(set(host_names) & options)
    if not wanted:
        return []
    result = []
    absent = [n for n in wanted if n not in control_names]
    present = [n for n in wanted if n in control_names]
    wheres = dict(locate(absent, True)) if (locate and absent) else {}
    for name in absent:
        result.append((name, ", ".join(wheres.get(name) or []) or "hosts only"))
    if locate and present:
        for name, where in sorted(locate(present, False).items()):
            others = [w for w in where if w not in ("group all", "extra vars")]
            if others:
                result.append((name, ", ".join(others)))
    return result

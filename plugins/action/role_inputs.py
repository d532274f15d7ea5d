# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan + cluster + host -> role variables, on the controller (plugins/modules/role_inputs.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_paths, role_inputs

ARGUMENT_SPEC = {
    "distribution": {"type": "str", "choices": sorted(role_inputs.INPUTS)},
    "cluster_data_var": {"type": "str", "default": "__edgemesh_cluster_data"},
    "plan": {"type": "dict"},
}
# Inventory variables the mapping reads from the host (templated before use).
HOST_VARS = ("edgemesh_output_dir", role_inputs.PIN_VAR)


def initialised_servers(cluster, hostvars, var):
    """Servers of ``cluster`` whose registered stat ``var`` found cluster data."""
    found = []
    for host in cluster.server_hosts:
        if host not in hostvars:
            continue
        result = hostvars[host].get(var)
        stat = result.get("stat") if isinstance(result, Mapping) else None
        if isinstance(stat, Mapping) and stat.get("exists"):
            found.append(host)
    return found


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def _plan(self, args, task_vars):
        if args.get("plan") is not None:
            return args["plan"]
        localhost = task_vars.get("hostvars", {}).get("localhost") or {}
        plan = localhost.get("edgemesh_plan")
        if not isinstance(plan, Mapping):
            raise AnsibleActionFail(
                "role_inputs: localhost has no fact edgemesh_plan; run playbooks/plan.yml (or "
                "include playbooks/tasks/load_plan.yml on localhost) first"
            )
        return plan

    def _host_vars(self, task_vars):
        found = dict(
            (key, self._templar.template(task_vars[key])) for key in HOST_VARS if key in task_vars
        )
        # Unset: .edgemesh beside the inventory, as plan.yml (module_utils/mesh_paths.py).
        try:
            found["edgemesh_output_dir"] = mesh_paths.output_dir(
                task_vars.get("ansible_inventory_sources") or [],
                found.get("edgemesh_output_dir"),
            )
        except mesh_paths.OutputDirError as exc:
            raise AnsibleActionFail("role_inputs: %s" % exc)
        return found

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        host = task_vars["inventory_hostname"]
        try:
            place = role_inputs.locate(dict(self._plan(args, task_vars)), host)
            result.update(
                changed=False,
                cluster=place.cluster.name if place.cluster else "",
                distribution=place.distribution,
                node_role=place.role,
                data_path=place.data_path(),
            )
            if place.cluster is None:
                result["warnings"] = [
                    "host %s is in no cluster of the plan; run playbooks/plan.yml after "
                    "changing the inventory" % host
                ]
            if not args.get("distribution"):
                return result
            if place.cluster is None:
                raise role_inputs.RoleInputError("host %s is in no cluster of the plan" % host)
            found = initialised_servers(
                place.cluster, task_vars.get("hostvars", {}), args["cluster_data_var"]
            )
            values = role_inputs.role_inputs(
                args["distribution"], place.cluster, host, self._host_vars(task_vars), found
            )
        except role_inputs.RoleInputError as exc:
            raise AnsibleActionFail("role_inputs: %s" % exc)
        result.update(
            initialised_servers=found,
            step=role_inputs.bootstrap_step(host, values),
            vars=values,
        )
        return result

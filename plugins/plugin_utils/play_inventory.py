# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory a play already loaded, in the shape of ``ansible-inventory --list``.

A play sees group membership (``groups``) but not which groups are children of which;
the planner needs that tree. Running ``ansible-inventory --list`` parses every inventory
source a second time: measured on 511 clusters x 20 nodes (10,220 hosts, YAML) that costs
7.7-11.5 s on a 2-core machine, against about 2.5 s to read the same data from the
inventory the play has in memory (benchmarks/plan_e2e_bench.py prints the split). So the
``mesh_plan`` action reads the play's InventoryManager (reached through ``hostvars``,
whose ``_inventory`` and ``_variable_manager`` attributes ansible-core has had since 2.0)
and falls back to ``ansible-inventory --list`` when they are not there.

Only the variables the planner reads are collected, raw (as the inventory sets them, extra
vars applied, precedence resolved by ansible-core's VariableManager); templating is left
to the caller for the few values it keeps.

VariableManager.get_vars costs about 1 ms a host (vars plugins, fact cleaning), 10 s for
10,220 hosts. Hosts with the same groups share their group-level variables, so it runs
once per group set, on the host that sets the fewest of the wanted variables itself; every
other host of the set whose own (host-level) wanted variables include that host's gets the
same result with its own host-level variables and the extra vars laid over it, exactly as
get_vars would order them; any other host gets its own get_vars call.
tests/unit/plugins/plugin_utils/test_play_inventory.py checks the result equals one
get_vars call per host on inventories built to break the shortcut.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.vars.plugins import get_vars_from_inventory_sources


def play_inventory(hostvars, keys):
    """{group: {"hosts", "children"}, "_meta": {"hostvars": {host: {key: raw}}}} or None."""
    inventory = getattr(hostvars, "_inventory", None)
    variables = getattr(hostvars, "_variable_manager", None)
    if inventory is None or variables is None:
        return None
    result = {}
    for name, group in inventory.groups.items():
        result[name] = {
            "hosts": [host.name for host in group.hosts],
            "children": [child.name for child in group.child_groups],
        }
    wanted = frozenset(keys)
    result["_meta"] = {"hostvars": host_variables(inventory, variables, wanted)}
    return result


def _pick(data, wanted):
    return dict((key, data[key]) for key in wanted.intersection(data))


def exact_variables(variables, host, wanted):
    """The wanted variables of one host, as a play sees them (raw, untemplated)."""
    return _pick(variables.get_vars(host=host, include_hostvars=False), wanted)


def _host_level(host, loader, sources, wanted):
    """Variables the host sets itself: inventory host vars, then host_vars/ files."""
    data = _pick(host.get_vars(), wanted)
    data.update(_pick(get_vars_from_inventory_sources(loader, sources, [host], "task"), wanted))
    return data


def host_variables(inventory, variables, wanted):
    """{host: {key: raw}} for every host, one get_vars call per group set where exact."""
    loader = getattr(variables, "_loader", None)
    sources = [s for s in (getattr(inventory, "_sources", None) or []) if s]
    extra = _pick(variables.extra_vars, wanted)
    by_groups = {}
    for host in inventory.get_hosts(ignore_limits=True, ignore_restrictions=True):
        key = tuple(sorted(group.name for group in host.get_groups()))
        by_groups.setdefault(key, []).append(host)
    result = {}
    for hosts in by_groups.values():
        own = dict((host.name, _host_level(host, loader, sources, wanted)) for host in hosts)
        rep = min(hosts, key=lambda host: (len(own[host.name]), host.name))
        shared = exact_variables(variables, rep, wanted)
        rep_keys = set(own[rep.name])
        for host in hosts:
            if host is rep:
                result[host.name] = shared
            elif rep_keys.issubset(own[host.name]):
                merged = dict(shared)
                merged.update(own[host.name])
                merged.update(extra)
                result[host.name] = merged
            else:
                result[host.name] = exact_variables(variables, host, wanted)
    return result

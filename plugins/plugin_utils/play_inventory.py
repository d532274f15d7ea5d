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

``_meta.variable_names`` also lists every variable name with one of ``prefixes`` that any
host sees (keys only, from the same get_vars calls), for the unknown-variable check
(plugin_utils/known_vars.py); ``variable_sources`` says which groups and hosts set given
names, asked only for the few names a refusal reports.

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


def play_inventory(hostvars, keys, prefixes=()):
    """{group: {"hosts", "children"}, "_meta": {"hostvars": {host: {key: raw}},
    "variable_names": [names with one of prefixes]}} or None."""
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
    names = set()
    found = host_variables(inventory, variables, wanted, names, tuple(prefixes))
    result["_meta"] = {"hostvars": found, "variable_names": sorted(names)}
    return result


def _pick(data, wanted):
    return dict((key, data[key]) for key in wanted.intersection(data))


def _names(data, names, prefixes):
    if prefixes:
        names.update(key for key in data if isinstance(key, str) and key.startswith(prefixes))


def exact_variables(variables, host, wanted, names=None, prefixes=()):
    """The wanted variables of one host, as a play sees them (raw, untemplated)."""
    data = variables.get_vars(host=host, include_hostvars=False)
    if names is not None:
        _names(data, names, prefixes)
    return _pick(data, wanted)


def _own_variables(entity, loader, sources):
    """Variables a host or group sets itself: inventory vars, then host_vars/group_vars files."""
    data = dict(entity.get_vars())
    data.update(get_vars_from_inventory_sources(loader, sources, [entity], "task"))
    return data


def _host_level(host, loader, sources, wanted, names=None, prefixes=()):
    """Variables the host sets itself: inventory host vars, then host_vars/ files."""
    data = _own_variables(host, loader, sources)
    if names is not None:
        _names(data, names, prefixes)
    return _pick(data, wanted)


def variable_sources(hostvars, names, hosts=True):
    """{name: ["extra vars" | "group G" | "host H", ...]}: who sets each of ``names``
    (groups' inventory vars and group_vars/ files; with ``hosts`` also host vars and
    host_vars/ files). One vars-plugin read per group (and host): for refusals only."""
    inventory = getattr(hostvars, "_inventory", None)
    variables = getattr(hostvars, "_variable_manager", None)
    wanted = frozenset(names)
    found = dict((name, []) for name in sorted(wanted))
    if inventory is None or variables is None or not wanted:
        return found
    loader = getattr(variables, "_loader", None)
    sources = [s for s in (getattr(inventory, "_sources", None) or []) if s]
    for name in sorted(wanted.intersection(variables.extra_vars)):
        found[name].append("extra vars")
    entities = [("group", g) for _n, g in sorted(inventory.groups.items())]
    if hosts:
        every = inventory.get_hosts(ignore_limits=True, ignore_restrictions=True)
        entities += [("host", h) for h in sorted(every, key=lambda h: h.name)]
    for kind, entity in entities:
        for name in sorted(wanted.intersection(_own_variables(entity, loader, sources))):
            found[name].append("%s %s" % (kind, entity.name))
    return found


def host_variables(inventory, variables, wanted, names=None, prefixes=()):
    """{host: {key: raw}} for every host, one get_vars call per group set where exact;
    the prefixed variable names every host sees are added to ``names`` when given."""
    loader = getattr(variables, "_loader", None)
    sources = [s for s in (getattr(inventory, "_sources", None) or []) if s]
    extra = _pick(variables.extra_vars, wanted)
    by_groups = {}
    for host in inventory.get_hosts(ignore_limits=True, ignore_restrictions=True):
        key = tuple(sorted(group.name for group in host.get_groups()))
        by_groups.setdefault(key, []).append(host)
    result = {}
    for hosts in by_groups.values():
        own = dict(
            (host.name, _host_level(host, loader, sources, wanted, names, prefixes))
            for host in hosts
        )
        rep = min(hosts, key=lambda host: (len(own[host.name]), host.name))
        shared = exact_variables(variables, rep, wanted, names, prefixes)
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
                result[host.name] = exact_variables(variables, host, wanted, names, prefixes)
    return result

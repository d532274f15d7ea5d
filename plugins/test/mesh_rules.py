# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja tests over the mesh rules, for role preflights (no rule is restated in YAML)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import mesh_rules


def cluster_name(value):
    return mesh_rules.is_cluster_name(value)


def dns_label(value):
    return mesh_rules.is_dns_label(value)


def nodeport(value):
    return mesh_rules.is_nodeport(value)


def k3s_release(value):
    return mesh_rules.k3s_version_problem(value) is None


class TestModule(object):
    def tests(self):
        return {
            "cluster_name": cluster_name,
            "dns_label": dns_label,
            "nodeport": nodeport,
            "k3s_release": k3s_release,
        }

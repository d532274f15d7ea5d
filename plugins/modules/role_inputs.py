#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: role_inputs
short_description: Map the mesh plan to the k3s or kubeadm role variables of a node
version_added: 0.1.0
author:
  - edgemesh maintainers (@edgemesh)
description:
  - Finds the node's cluster in the mesh plan (the fact C(edgemesh_plan) on localhost, set
    by C(playbooks/plan.yml) or C(playbooks/tasks/load_plan.yml)) and returns the variables
    the C(edgemesh.cluster_mesh.k3s) or C(edgemesh.cluster_mesh.kubeadm) role takes from
    the plan, in RV(vars). The playbooks set them with one M(ansible.builtin.set_fact) per
    variable (C(playbooks/tasks/role_inputs.yml)).
  - Without O(distribution) it only locates the node (RV(cluster), RV(distribution),
    RV(node_role), RV(data_path)), so a play can group the nodes by distribution without
    contacting them.
  - The server that initialises a cluster is the pin C(edgemesh_k3s_init_server), else the
    first server by name whose registered stat result O(cluster_data_var) found cluster
    data at RV(data_path), else the plan's C(init_host).
  - The logic lives in C(plugins/module_utils/role_inputs.py). This is an action plugin; it
    runs on the control node and never connects to the node.
options:
  distribution:
    description:
      - Which role's variables to return; the node's cluster must be of this distribution.
      - Omitted, only the node's place in the plan is returned.
    type: str
    choices: [k3s, kubeadm]
  cluster_data_var:
    description:
      - Name of a registered M(ansible.builtin.stat) result that the servers of the cluster
        carry for RV(data_path); a server where it exists already holds cluster data.
    type: str
    default: __edgemesh_cluster_data
  plan:
    description: The plan; default the fact C(edgemesh_plan) of localhost.
    type: dict
attributes:
  action:
    support: full
    description: Runs as an action plugin on the control node.
  check_mode:
    support: full
    description: Changes nothing in any mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: The control node.
notes:
  - Supports C(check_mode).
"""

EXAMPLES = r"""
- name: Find the node in the plan
  edgemesh.cluster_mesh.role_inputs:
  register: node_place

- name: Group the nodes by distribution
  ansible.builtin.group_by:
    key: "edgemesh_{{ node_place.distribution | default('unplanned', true) }}"

- name: Map the plan to the k3s role variables
  edgemesh.cluster_mesh.role_inputs:
    distribution: k3s
  register: node_inputs

- name: Set them for the host
  ansible.builtin.set_fact:
    "{{ item.key }}": "{{ item.value }}"
  loop: "{{ node_inputs.vars | dict2items }}"
  loop_control:
    label: "{{ item.key }}"
"""

RETURN = r"""
cluster:
  description: Name of the node's cluster (empty when the plan does not list the node).
  returned: always
  type: str
  sample: eu-core
distribution:
  description: Distribution of the node's cluster (C(k3s), C(kubeadm) or empty).
  returned: always
  type: str
node_role:
  description: C(server), C(agent) or empty.
  returned: always
  type: str
data_path:
  description: On servers, the path whose presence shows that the node already holds cluster data; empty on agents.
  returned: always
  type: str
  sample: /var/lib/rancher/k3s/server/db/etcd
initialised_servers:
  description: Servers of the cluster found holding cluster data.
  returned: when O(distribution) is given
  type: list
  elements: str
step:
  description: C(init) (initialises the cluster), C(server) (joins as a server) or C(agent).
  returned: when O(distribution) is given
  type: str
vars:
  description: The role variables (k3s_* or kubeadm_*), see C(plugins/module_utils/role_inputs.py).
  returned: when O(distribution) is given
  type: dict
  sample: {k3s_cluster_name: eu-core, k3s_node_role: server, k3s_cluster_init: true}
"""

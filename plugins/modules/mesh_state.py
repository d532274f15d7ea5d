#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: mesh_state
short_description: Keep the mesh planner's state, plan and CA in a state store, or recover the state
version_added: 0.1.0
description:
  - Moves the planner's state file (cluster IDs, CIDRs, released clusters), its plan
    (C(plan.json)), the mesh CA and per-cluster files of bootstrapped clusters (kubeconfig,
    k3s join token) between local files and a state store, so that they outlive an AWX
    execution-environment container. The store is one Opaque Secret in a management
    cluster (O(backend=kubernetes)) or one JSON file, e.g. on a volume every execution
    environment mounts (O(backend=file_store)); both hold the same keys and get the same
    checks.
  - C(action=get) writes what the store holds to local files (mode 0600; the plan 0644, as
    the planner writes it) and, with O(pull_record), records the store's version and a
    digest of each key.
  - C(action=put) writes what this job changed relative to O(pull_record) onto the store's
    current content, with compare-and-swap on its version (re-read and retried when another
    writer got in between); keys it is not given, or did not change, are kept as the store
    has them. A key this job changed that someone else changed too since the pull is
    refused, and nothing is written. It refuses a state that renumbers clusters of the
    stored state (a plan computed from a missing or stale state) unless O(force=true), and
    a plan that does not agree with the state.
  - C(action=recover) rebuilds a state from the C(cilium-config) ConfigMaps of clusters
    that already run Cilium (live through O(contexts), or recorded through O(clusters)),
    merges it into the state at O(state_path) when that file exists, and writes it there.
  - The CA key never appears in the module's arguments or results; only file paths do.
author:
  - edgemesh maintainers (@edgemesh)
requirements:
  - kubernetes (Python library) for O(backend=kubernetes) and O(contexts)
  - the kubernetes.core collection (its client and its authentication options)
  - netaddr (Python library)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    details: Reads the store and the clusters; reports what would change, writes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  action:
    description:
      - What to do.
      - The management cluster (O(action=get), O(action=put)) is reached with the shared
        kubernetes.core authentication options (O(kubeconfig), O(context), O(host),
        O(api_key), O(validate_certs), ...) and their E(K8S_AUTH_*) environment variables,
        exactly as kubernetes.core's own modules read them. O(action=recover) uses the
        same options with each of O(contexts) in turn.
    type: str
    required: true
    choices: [get, put, recover]
  backend:
    description:
      - Where the state is stored by O(action=get) and O(action=put).
      - V(kubernetes) is a Secret O(namespace)/O(name) in the management cluster,
        V(file_store) the JSON file O(store).
    type: str
    default: kubernetes
    choices: [kubernetes, file_store]
  store:
    description:
      - Absolute path of the JSON file of O(backend=file_store) (written 0600, atomically,
        under a lock on C(<store>.lock)). Its directory must exist.
    type: path
  namespace:
    description: Namespace of the state Secret in the management cluster.
    type: str
    default: edgemesh-system
  name:
    description: Name of the state Secret.
    type: str
    default: edgemesh-state
  create_namespace:
    description: Create O(namespace) when the first O(action=put) finds it missing.
    type: bool
    default: true
  state_path:
    description:
      - Local state file. Written by O(action=get) and O(action=recover), read by
        O(action=put).
    type: path
  ca_cert_path:
    description: Local mesh CA certificate (PEM). Written by get, read by put (with O(ca_key_path)).
    type: path
  ca_key_path:
    description: Local mesh CA private key (PEM), written with mode 0600.
    type: path
  plan_path:
    description:
      - Local C(plan.json). Written by O(action=get) when the store holds a plan; read by
        O(action=put), which stores it byte for byte after checking that it is a plan and
        agrees with the state.
    type: path
  require_plan:
    description:
      - O(action=get) fails, writing nothing, when the store holds no plan (a job that uses
        the plan the plan job stored, and never plans by itself).
    type: bool
    default: false
  inventory_hosts:
    description:
      - The hosts of this job's inventory under C(edgemesh_clusters). O(action=get) checks
        them against the stored plan as O(inventory_scope) says and fails, writing nothing,
        when they do not fit (an inventory changed since the plan job, a sliced job).
    type: list
    elements: str
  inventory_scope:
    description:
      - What the job needs of its inventory. V(nodes) every host is a node of the plan;
        V(clusters) also every cluster wholly in or wholly out (bootstrap); V(mesh) every
        node of the plan (jobs acting on every cluster, such as cilium and verify).
    type: str
    default: nodes
    choices: [nodes, clusters, mesh]
  pull_record:
    description:
      - A record of what O(action=get) read (the store, its version, a digest per key),
        written by O(action=get) (mode 0600) and read by O(action=put), which then writes
        only what this job changed since. Without it, put compares with the store as it
        reads it. A missing record is an error at put, except in check mode (the pull wrote nothing).
    type: path
  output_dir:
    description:
      - Directory holding the per-cluster files C(<output_dir>/<cluster>/<file>).
        O(action=get) writes every such file of the store there (mode 0600);
        O(action=put) uploads every one that exists, except O(exclude_keys).
    type: path
  cluster_files:
    description: Names of the per-cluster files kept in the store (key C(<file>.<cluster>)).
    type: list
    elements: str
    default: [kubeconfig, k3s-token]
  exclude_keys:
    description:
      - Store keys (C(<file>.<cluster>)) O(action=put) does not upload, e.g. kubeconfigs
        that come from an AWX credential.
    type: list
    elements: str
    default: []
  force:
    description:
      - Let O(action=put) replace a stored state that the new one was not planned from.
      - It does not override the refusal of a key someone else changed since the pull.
    type: bool
    default: false
  contexts:
    description:
      - O(action=recover) reads C(cilium-config), the C(default/kubernetes) Service and the
        C(clustermesh-apiserver) Service through each of these contexts of O(kubeconfig).
    type: list
    elements: str
  clusters:
    description:
      - O(action=recover) from recorded data instead of (or besides) live contexts.
    type: list
    elements: dict
    suboptions:
      cilium_config:
        description: The C(cilium-config) ConfigMap (whole object or its C(data)).
        type: dict
        required: true
      source:
        description: A label naming where the data came from, used in messages.
        type: str
      pod_cidrs:
        description: Pod CIDRs, needed when Cilium does not use C(cluster-pool) IPAM.
        type: list
        elements: str
      service_cidrs:
        description: Service CIDRs of the cluster.
        type: list
        elements: str
      kubernetes_service_ips:
        description:
          - ClusterIP(s) of the C(default/kubernetes) Service; with O(service_cidr_prefix)
            they give the service CIDRs.
        type: list
        elements: str
      clustermesh_nodeport:
        description: NodePort of the C(clustermesh-apiserver) Service.
        type: int
  cilium_namespace:
    description: Namespace Cilium runs in on the clusters of O(contexts).
    type: str
    default: kube-system
  service_cidr_prefix:
    description: Prefix length of each cluster's IPv4 service CIDR (C(edgemesh_service_cidr_prefix)).
    type: int
  service_cidr_prefix_v6:
    description: Prefix length of each cluster's IPv6 service CIDR.
    type: int
  prefer:
    description:
      - When a recovered cluster's ID or CIDRs differ from the state at O(state_path),
        V(fail) stops with both values, V(live) takes the running cluster's values.
    type: str
    default: fail
    choices: [fail, live]
notes:
  - The state is checked by the collection's one state schema (C(mesh_state_schema)) both
    when it is stored and when it is read; a state it refuses is an error naming the
    cluster, the key, the value and what is allowed.
  - Without O(kubeconfig), O(host) or their environment variables, kubernetes.core first
    tries the in-cluster configuration (a pod's service account), then E(KUBECONFIG) or
    C(~/.kube/config).
  - The Secret carries the label C(app.kubernetes.io/managed-by=edgemesh.cluster_mesh); a
    Secret of that name without it is never read or overwritten. Likewise a file store
    without the C(managed_by) mark of this collection.
  - Writes carry the version that was read (the Secret's C(resourceVersion), the file's
    version counter, checked under the lock), so no update is ever lost; disjoint changes
    of jobs running at once all land; the same key changed by two of them is refused for
    the second, naming the key.
seealso:
  - name: AWX guide of this collection
    description: docs/awx.md walks through the state backend in AWX.
    link: https://example.invalid/edgemesh/cluster_mesh/docs
"""

EXAMPLES = r"""
- name: Pull the mesh state and CA from the management cluster
  edgemesh.cluster_mesh.mesh_state:
    action: get
    context: management
    state_path: build/mesh-state.json
    plan_path: build/plan.json
    ca_cert_path: build/mesh-ca/ca.crt
    ca_key_path: build/mesh-ca/ca.key
    output_dir: build
    pull_record: build/state-pulled.json

- name: Push the kubeconfigs a bootstrap wrote to a file store on a shared volume
  edgemesh.cluster_mesh.mesh_state:
    action: put
    backend: file_store
    store: /mnt/edgemesh/state.json
    output_dir: build
    pull_record: build/state-pulled.json

- name: Push the state the planner wrote
  edgemesh.cluster_mesh.mesh_state:
    action: put
    context: management
    state_path: build/mesh-state.json
    ca_cert_path: build/mesh-ca/ca.crt
    ca_key_path: build/mesh-ca/ca.key

- name: Recover IDs and pod CIDRs of running clusters
  edgemesh.cluster_mesh.mesh_state:
    action: recover
    kubeconfig: "{{ edgemesh_kubeconfig }}"
    contexts: [eu-core, us-core]
    service_cidr_prefix: 20
    state_path: build/mesh-state.json
"""

RETURN = r"""
state:
  description: The state that was read, stored or recovered (no secret material).
  returned: when there is one
  type: dict
  sample: {"format": 1, "max_connected_clusters": 255, "clusters": {"eu-core": {"id": 1, "pod_cidrs": ["10.1.0.0/16"], "active": true}}}
found:
  description: Whether the store exists (get, put).
  returned: action is get or put
  type: bool
ca_present:
  description: Whether the store holds a mesh CA (get).
  returned: action is get
  type: bool
plan_found:
  description: Whether the store holds a plan (get).
  returned: action is get
  type: bool
plan:
  description:
    - The stored plan, in check mode only (nothing is written, so later plays take the plan
      from here).
  returned: action is get, in check mode, when the store holds a plan and plan_path is given
  type: dict
where:
  description: The store, for messages (C(Secret ns/name) or C(state store /path)).
  returned: action is get or put
  type: str
version:
  description: The store's version that was read (get) or written (put); null when there is none.
  returned: action is get or put
  type: str
cluster_file_keys:
  description: Per-cluster file keys the store holds (get) or that were given to store (put).
  returned: action is get or put
  type: list
  elements: str
  sample: [k3s-token.eu-core, kubeconfig.eu-core]
files:
  description: Local files that were (or in check mode would be) written.
  returned: action is get or recover
  type: list
  elements: str
changed_keys:
  description: Store keys that were (or would be) written.
  returned: action is put
  type: list
  elements: str
missing:
  description: Per recovered cluster, the state keys that could not be recovered (the planner allocates them).
  returned: action is recover
  type: dict
"""

import copy
import glob
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils import state_backend as sb


def _auth(module, **override):
    """The kubernetes.core authentication options the task gave (others: their defaults)."""
    auth = dict((key, module.params.get(key)) for key in AUTH_ARG_SPEC)
    auth.update(override)
    return auth


def _backend(module):
    """The store of O(backend): a file store, or the Secret through kubernetes.core."""
    p = module.params
    if p["backend"] == "file_store":
        return sb.FileStateBackend(p["store"])
    backend_where = "Secret %s/%s" % (p["namespace"], p["name"])
    client = sb.connect(_auth(module), "reading " + backend_where)
    return sb.SecretStateBackend(client, p["namespace"], p["name"])


def do_get(module):
    p = module.params
    backend = _backend(module)
    payload, version = backend.read()
    parts = sb.split_payload(payload, backend.where)
    if p["require_plan"] and parts["plan"] is None:
        module.fail_json(
            msg="mesh_state get: %s holds no plan: launch the edgemesh plan job first (it "
            "stores plan.json beside mesh-state.json; this job does not plan by itself)"
            % backend.where
        )
    if p["inventory_hosts"] is not None and parts["plan"] is not None:
        problems = sb.inventory_problems(
            json.loads(parts["plan"]), p["inventory_hosts"], p["inventory_scope"]
        )
        if problems:
            module.fail_json(
                msg="mesh_state get: the plan in %s does not fit this job's inventory: %s"
                % (backend.where, "; ".join(problems))
            )
    result = {
        "found": version is not None,
        "where": backend.where,
        "version": version,
        "state": parts["state"],
        "plan_found": parts["plan"] is not None,
        "ca_present": parts["ca_cert"] is not None,
        "cluster_file_keys": sorted(sb.cluster_file_key(n, c) for n, c in parts["cluster_files"]),
        "files": [],
        "changed": False,
    }
    writes = []
    if parts["state"] is not None and p["state_path"]:
        writes.append((p["state_path"], sb.dump_state(parts["state"]), 0o600))
    if parts["plan"] is not None and p["plan_path"]:
        # The planner writes plan.json 0644 (it holds no secret); the same mode keeps a
        # later plan.yml in this directory from reporting a change of mode only.
        writes.append((p["plan_path"], parts["plan"], 0o644))
        if module.check_mode:  # nothing is written: later plays take the plan from here
            result["plan"] = json.loads(parts["plan"])
    if parts["ca_cert"] is not None:
        if bool(p["ca_cert_path"]) != bool(p["ca_key_path"]):
            module.fail_json(msg="give ca_cert_path and ca_key_path together")
        if p["ca_cert_path"]:
            writes.append((p["ca_cert_path"], parts["ca_cert"], 0o600))
            writes.append((p["ca_key_path"], parts["ca_key"], 0o600))
    if p["output_dir"]:
        for (name, cluster), text in sorted(parts["cluster_files"].items()):
            if name in p["cluster_files"]:
                writes.append((os.path.join(p["output_dir"], cluster, name), text, 0o600))
    if p["pull_record"]:
        record = sb.PullRecord.of(backend.where, payload, version)
        writes.append((p["pull_record"], record.to_text(), 0o600))
    for path, text, mode in writes:
        if sb.write_private_file(path, text, module.check_mode, mode):
            result["changed"] = True
            result["files"].append(path)
    return result


def _local_payload(module):
    p = module.params
    state = None
    if p["state_path"]:
        state = sb.load_state(sb.read_text(p["state_path"], "state file"), p["state_path"])
    plan = None
    if p["plan_path"]:
        plan = sb.read_text(p["plan_path"], "plan")
    ca_cert = ca_key = None
    if bool(p["ca_cert_path"]) != bool(p["ca_key_path"]):
        module.fail_json(msg="give ca_cert_path and ca_key_path together")
    if p["ca_cert_path"]:
        ca_cert = sb.read_text(p["ca_cert_path"], "mesh CA certificate")
        ca_key = sb.read_text(p["ca_key_path"], "mesh CA key")
    files = {}
    if p["output_dir"]:
        for name in p["cluster_files"]:
            pattern = os.path.join(glob.escape(p["output_dir"]), "*", glob.escape(name))
            for path in sorted(glob.glob(pattern)):
                cluster = os.path.basename(os.path.dirname(path))
                if "%s.%s" % (name, cluster) in p["exclude_keys"]:
                    continue
                if not sb.is_cluster_key_name(cluster):
                    module.warn("%s is not under a cluster's directory; not stored" % path)
                    continue
                files[(name, cluster)] = sb.read_text(path, "%s of cluster %r" % (name, cluster))
    payload = sb.build_payload(
        state=state, ca_cert=ca_cert, ca_key=ca_key, cluster_files=files, plan=plan
    )
    return payload, state, sorted(sb.cluster_file_key(n, c) for n, c in files)


def do_put(module):
    p = module.params
    payload, state, keys = _local_payload(module)
    if not payload:
        return {"changed": False, "changed_keys": [], "state": None, "cluster_file_keys": []}
    pulled = None
    if p["pull_record"]:
        pulled = sb.read_pull_record(p["pull_record"], module.check_mode)
    backend = _backend(module)
    outcome = backend.write(
        payload,
        check_mode=module.check_mode,
        force=p["force"],
        create_namespace=p["create_namespace"],
        pulled=pulled,
    )
    return {
        "changed": outcome["changed"],
        "found": not outcome["created"],
        "where": backend.where,
        "version": outcome["version"],
        "changed_keys": outcome["changed_keys"],
        "state": state,
        "cluster_file_keys": keys,
    }


def do_recover(module):
    p = module.params
    facts = [dict((k, v) for k, v in c.items() if v is not None) for c in p["clusters"] or []]
    if p["contexts"]:
        known = sb.kubeconfig_contexts(p["kubeconfig"] or os.environ.get("K8S_AUTH_KUBECONFIG"))
        unknown = [c for c in p["contexts"] if c not in known]
        if unknown:
            module.fail_json(
                msg="contexts %s are not in the kubeconfig (it has: %s)"
                % (", ".join(unknown), ", ".join(known) or "none")
            )
        for context in p["contexts"]:
            source = "context %s" % context
            client = sb.connect(
                _auth(module, context=context), "%s: reading %s" % (source, sb.CILIUM_CONFIG_NAME)
            )
            facts.append(sb.read_cluster_facts(client, source, p["cilium_namespace"]))
    if not facts:
        module.fail_json(msg="recover needs contexts or clusters")
    recovered = sb.state_from_cluster_facts(
        facts, p["service_cidr_prefix"], p["service_cidr_prefix_v6"]
    )
    base = None
    if p["state_path"] and os.path.exists(p["state_path"]):
        base = sb.load_state(sb.read_text(p["state_path"], "state file"), p["state_path"])
    state = sb.merge_states(base, recovered["state"], p["prefer"])
    result = {"changed": False, "state": state, "missing": recovered["missing"], "files": []}
    if p["state_path"] and sb.write_private_file(
        p["state_path"], sb.dump_state(state), module.check_mode
    ):
        result["changed"] = True
        result["files"].append(p["state_path"])
    return result


def main():
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        dict(
            action=dict(type="str", required=True, choices=["get", "put", "recover"]),
            backend=dict(type="str", default="kubernetes", choices=["kubernetes", "file_store"]),
            store=dict(type="path"),
            namespace=dict(type="str", default="edgemesh-system"),
            name=dict(type="str", default="edgemesh-state"),
            create_namespace=dict(type="bool", default=True),
            state_path=dict(type="path"),
            ca_cert_path=dict(type="path"),
            ca_key_path=dict(type="path"),
            plan_path=dict(type="path"),
            pull_record=dict(type="path"),
            require_plan=dict(type="bool", default=False),
            inventory_hosts=dict(type="list", elements="str"),
            inventory_scope=dict(
                type="str", default="nodes", choices=["nodes", "clusters", "mesh"]
            ),
            output_dir=dict(type="path"),
            cluster_files=dict(type="list", elements="str", default=["kubeconfig", "k3s-token"]),
            exclude_keys=dict(type="list", elements="str", default=[], no_log=False),
            force=dict(type="bool", default=False),
            contexts=dict(type="list", elements="str"),
            clusters=dict(
                type="list",
                elements="dict",
                options=dict(
                    cilium_config=dict(type="dict", required=True),
                    source=dict(type="str"),
                    pod_cidrs=dict(type="list", elements="str"),
                    service_cidrs=dict(type="list", elements="str"),
                    kubernetes_service_ips=dict(type="list", elements="str"),
                    clustermesh_nodeport=dict(type="int"),
                ),
            ),
            cilium_namespace=dict(type="str", default="kube-system"),
            service_cidr_prefix=dict(type="int"),
            service_cidr_prefix_v6=dict(type="int"),
            prefer=dict(type="str", default="fail", choices=["fail", "live"]),
        )
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("backend", "file_store", ["store"])],
    )
    handlers = {"get": do_get, "put": do_put, "recover": do_recover}
    try:
        result = handlers[module.params["action"]](module)
    except sb.StateBackendError as exc:
        module.fail_json(msg="mesh_state %s: %s" % (module.params["action"], exc))
    # The state is plain data; make it JSON-clean for the result.
    if result.get("state") is not None:
        result["state"] = json.loads(sb.dump_state(result["state"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# STAND-IN for k3s, kubectl, etcdctl, kubeadm and the kubelet, used only by the Molecule
# scenario molecule/remove_node (prepare.yml installs it under each of those names with an
# interpreter line). None of them can run here: the binaries cannot be downloaded and no
# Kubernetes API server or etcd runs on the test hosts. It does only what the scenario
# observes:
#   * records every call (time, host, argv) in /var/lib/edgemesh-standin/calls.jsonl, and a
#     service started as `k3s server` / `kubelet` records SIGTERM as {"event": "stop"}, so the
#     order of the removal steps across hosts can be asserted (the hosts share one clock);
#   * kubectl reads and changes the cluster model in /var/lib/edgemesh-standin/cluster.json
#     (Nodes and etcd members, written by prepare.yml on the server that stays): get nodes,
#     drain, annotate, delete node, exec etcd-<node> -- etcdctl;
#   * annotating a Node etcd.k3s.cattle.io/remove=true removes its member and records
#     etcd.k3s.cattle.io/removed-node-name, as k3s's etcd member controller does
#     (k3s pkg/etcd/member_controller.go); `kubeadm reset` removes the files kubeadm reset
#     removes (its cleanup-node phase) but, unlike the real one, leaves the etcd member: the
#     playbook's `etcdctl member remove` path is what the scenario tests.
import json
import os
import signal
import socket
import sys
import time

STATE = "/var/lib/edgemesh-standin"
CLUSTER = os.path.join(STATE, "cluster.json")
ETCD_LABELS = {"k3s": ["node-role.kubernetes.io/etcd"], "kubeadm": []}
CP_LABEL = "node-role.kubernetes.io/control-plane"
KUBEADM_FILES = [
    "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/admin.conf",
    "/var/lib/kubelet/config.yaml",
]


def record(entry):
    os.makedirs(STATE, exist_ok=True)
    entry.update({"time": time.time(), "host": socket.gethostname()})
    with open(os.path.join(STATE, "calls.jsonl"), "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def load():
    with open(CLUSTER, encoding="utf-8") as handle:
        return json.load(handle)


def save(cluster):
    with open(CLUSTER, "w", encoding="utf-8") as handle:
        json.dump(cluster, handle, indent=1)


def fail(message):
    sys.stderr.write(message + "\n")
    return 1


def serve():
    """A service (k3s server/agent, kubelet): stays up, records its stop."""

    def stop(_signum, _frame):
        record({"event": "stop"})
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        signal.pause()


def node_items(cluster):
    items = []
    for name, node in sorted(cluster["nodes"].items()):
        labels = {}
        if node["server"]:
            for label in ETCD_LABELS[cluster["distribution"]] + [CP_LABEL]:
                labels[label] = "true"
        items.append(
            {
                "metadata": {"name": name, "labels": labels, "annotations": node["annotations"]},
                "spec": {"unschedulable": node.get("unschedulable", False)},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            }
        )
    return {"apiVersion": "v1", "kind": "List", "items": items}


def etcdctl(args):
    args = [a for a in args if not a.startswith("--") or a.startswith("--write-out")]
    cluster = load()
    if args[:1] == ["version"]:
        print("etcdctl version: 3.5.0 (stand-in)")
        return 0
    if args[:2] == ["member", "list"]:
        print(json.dumps({"header": {"cluster_id": 1}, "members": cluster["members"]}))
        return 0
    if args[:2] == ["member", "remove"] and len(args) == 3:
        wanted = int(args[2], 16)
        left = [m for m in cluster["members"] if m["ID"] != wanted]
        if len(left) == len(cluster["members"]):
            return fail("Error: etcdserver: member not found")
        cluster["members"] = left
        save(cluster)
        print("Member %s removed from cluster 1" % args[2])
        return 0
    return fail("etcdctl stand-in: unsupported %r" % (args,))


def remove_member_of(cluster, name):
    """What k3s's etcd member controller does for etcd.k3s.cattle.io/remove=true."""
    for member in cluster["members"]:
        if member["name"].rsplit("-", 1)[0] == name:
            cluster["members"].remove(member)
            return member["name"]
    return ""


def kubectl(args):
    args = [a for a in args if not a.startswith("--kubeconfig") and a != "--namespace=kube-system"]
    cluster = load()
    nodes = cluster["nodes"]
    if args[:1] == ["exec"] and "--" in args:
        return etcdctl(args[args.index("--") + 2 :])
    if args[:2] == ["get", "nodes"]:
        print(json.dumps(node_items(cluster)))
        return 0
    verb = args[0] if args else ""
    if verb == "drain" and len(args) > 1:
        name = args[1]
    elif "node" in args[:-1]:
        name = args[args.index("node") + 1]
    else:
        return fail("kubectl stand-in: unsupported %r" % (args,))
    if verb == "delete" and name not in nodes and "--ignore-not-found" in args:
        return 0
    if name not in nodes:
        return fail('Error from server (NotFound): nodes "%s" not found' % name)
    if verb == "drain":
        nodes[name]["unschedulable"] = True
        print("node/%s drained" % name)
    elif verb == "annotate" and "etcd.k3s.cattle.io/remove=true" in args:
        nodes[name]["annotations"]["etcd.k3s.cattle.io/remove"] = "true"
        removed = remove_member_of(cluster, name)
        nodes[name]["annotations"]["etcd.k3s.cattle.io/removed-node-name"] = removed
        print("node/%s annotated" % name)
    elif verb == "delete":
        del nodes[name]
        print('node "%s" deleted' % name)
    else:
        return fail("kubectl stand-in: unsupported %r" % (args,))
    save(cluster)
    return 0


def main(argv):
    program = os.path.basename(argv[0])
    record({"argv": [program] + argv[1:]})
    if program == "k3s" and argv[1:2] == ["--version"]:
        print("k3s version v1.35.0+k3s1 (stand-in)")
        return 0
    if program in ("k3s", "kubelet") and argv[1:2] in (["server"], ["agent"], []):
        serve()
    if program == "k3s" and argv[1:2] == ["kubectl"]:
        return kubectl(argv[2:])
    if program == "kubectl":
        return kubectl(argv[1:])
    if program == "etcdctl":
        return etcdctl(argv[1:])
    if program == "kubeadm" and argv[1:2] == ["reset"]:
        for path in KUBEADM_FILES:
            if os.path.exists(path):
                os.remove(path)
        return 0
    return fail("%s stand-in: unsupported %r" % (program, argv[1:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

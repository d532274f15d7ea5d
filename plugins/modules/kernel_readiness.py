#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kernel_readiness
short_description: Check whether a Linux host's kernel is ready for the requested Cilium features
version_added: "0.1.0"
description:
  - Gathers the kernel release, distribution, kernel configuration, BTF, cgroup and bpffs
    mounts, memlock limit, iptables backend and systemd-networkd presence of the target.
  - Judges each requested Cilium feature against the kernel requirements Cilium publishes
    for its minor version (1.18, 1.19, 1.20) and returns a verdict per feature
    (C(ready), C(missing) with the missing options or kernel version, or C(unknown) when no
    kernel configuration could be found).
  - Never changes anything on the host; the role M(edgemesh.cluster_mesh.node_prep) acts
    on the verdict.
options:
  features:
    description:
      - Cilium features to check. C(base) (the eBPF datapath) is always checked.
    type: list
    elements: str
    default: [base]
    choices:
      - base
      - vxlan
      - geneve
      - wireguard
      - ipsec
      - kube_proxy_replacement
      - bpf_host_routing
      - bandwidth_manager
      - l7_proxy
      - iptables_masquerade
      - netkit
      - ipv6
      - big_tcp
  cilium_version:
    description:
      - Cilium version (V(1.19), V(1.19.6) or V(v1.19.6)); its minor selects the requirement table.
    type: str
    required: true
  kernel_config_path:
    description:
      - Read this kernel configuration file (gzip or plain) instead of the running kernel's.
      - Its C(# Linux/... Kernel Configuration) header, when present, gives the kernel
        version judged, unless O(kernel_release) is set.
    type: path
  kernel_release:
    description:
      - Kernel release to judge instead of the running one (for planning hosts not yet reachable).
    type: str
  host_facts:
    description:
      - Also return RV(host_facts), the other facts the role M(edgemesh.cluster_mesh.node_prep)
        acts on, so that it needs no M(ansible.builtin.setup), M(ansible.builtin.service_facts)
        or C(ufw status) task of its own.
    type: bool
    default: false
  services:
    description: Systemd units whose state RV(host_facts.services) reports (with O(host_facts)).
    type: list
    elements: str
    default: []
author:
  - edgemesh maintainers (@edgemesh)
attributes:
  check_mode:
    support: full
    description: Reads only; the result is the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
notes:
  - The kernel configuration is looked up in C(/proc/config.gz), C(/boot/config-<release>)
    and C(/lib/modules/<release>/config), in that order.
"""

EXAMPLES = r"""
- name: Check the kernel for the mesh's Cilium features
  edgemesh.cluster_mesh.kernel_readiness:
    features: [base, vxlan, wireguard, kube_proxy_replacement]
    cilium_version: "1.19.6"
  register: readiness

- name: Judge a saved kernel config of a host that is not reachable yet
  edgemesh.cluster_mesh.kernel_readiness:
    features: [base, geneve]
    cilium_version: "1.20"
    kernel_config_path: /srv/configs/config-6.12.0-edge
  delegate_to: localhost
"""

RETURN = r"""
host_facts:
  description: Facts of the host besides the kernel (only with O(host_facts)).
  returned: when O(host_facts) is true
  type: dict
  contains:
    os_family:
      description: V(Debian) or V(RedHat) as Ansible's C(os_family) fact names them (from /etc/os-release ID and ID_LIKE), else the ID.
      type: str
      sample: Debian
    services:
      description: State of each unit of O(services) - V(running), V(stopped) or empty when the unit does not exist.
      type: dict
      sample: {"firewalld.service": "", "systemd-networkd.service": "stopped"}
    swaps:
      description: Active swap devices and files (/proc/swaps).
      type: list
      elements: str
    ufw_status:
      description: Output of C(ufw status), empty where ufw is not installed.
      type: str
readiness:
  description: Host facts and the verdict per feature.
  returned: always
  type: dict
  contains:
    host:
      description: Host name as the target sees it.
      type: str
      sample: eu-core-1
    kernel:
      description: Running kernel release and the version judged.
      type: dict
      sample: {"release": "6.18.44-fc-v669", "version": "6.18.44", "running_release": "6.18.44-fc-v669"}
    distro:
      description: Fields of /etc/os-release.
      type: dict
      sample: {"id": "debian", "version_id": "12", "id_like": "", "pretty_name": "Debian GNU/Linux 12"}
    config:
      description: Which kernel configuration was read (C(source) is null when none was found) and the candidates tried.
      type: dict
      sample: {"found": true, "source": "/proc/config.gz", "candidates": ["/proc/config.gz"]}
    config_options:
      description: Every CONFIG_* option any requested feature names, as V(y), V(m), V(n) (explicitly not set) or V(absent).
      type: dict
      sample: {"CONFIG_BPF": "y", "CONFIG_WIREGUARD": "n"}
    modules_supported:
      description: Whether the kernel can load modules (CONFIG_MODULES=y); null without a config.
      type: bool
    btf:
      description: Whether /sys/kernel/btf/vmlinux exists.
      type: bool
    cgroup:
      description: V(v2), V(hybrid), V(v1) or V(none).
      type: str
    bpffs_mounted:
      description: Whether a bpf filesystem is mounted at /sys/fs/bpf.
      type: bool
    memlock:
      description: RLIMIT_MEMLOCK soft and hard limits in bytes (or V(unlimited)).
      type: dict
    iptables_backend:
      description: V(nf_tables), V(legacy), V(unknown) or V(absent).
      type: str
    networkd:
      description: Whether systemd-networkd is installed.
      type: dict
      sample: {"present": true}
    features:
      description: Verdict per feature with missing options, minimum kernel and modules to load.
      type: dict
    features_requested:
      description: The features judged, C(base) first.
      type: list
      elements: str
    verdict:
      description: V(ready), V(missing) or V(unknown) over all requested features.
      type: str
    ready:
      description: True when every requested feature is ready.
      type: bool
    missing:
      description: One line per feature that is missing something, naming the options and versions.
      type: list
      elements: str
      sample: ["wireguard: CONFIG_WIREGUARD"]
    modules_to_load:
      description: Kernel modules the requested features need (options set to V(m)); empty without CONFIG_MODULES.
      type: list
      elements: str
    cilium_minor:
      description: The Cilium minor version whose table was used.
      type: str
    requirements_source:
      description: Cilium's published system requirements page the table follows.
      type: str
"""

import os
import platform
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_requirements import (
    FEATURES,
    RequirementError,
    requirements_for,
)
from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.kernel_readiness import (
    ReadinessError,
    bpffs_mounted,
    cgroup_mode,
    config_candidates,
    evaluate,
    find_config,
    iptables_backend,
    loaded_modules,
    memlock_limit,
    networkd_present,
    os_family,
    parse_unit_states,
    parse_version,
    read_mounts,
    read_os_release,
    read_swaps,
    version_text,
)


def gather(module):
    params = module.params
    running = platform.release()
    release = params["kernel_release"] or running
    if params["kernel_config_path"]:
        candidates = [params["kernel_config_path"]]
        if not os.path.isfile(candidates[0]):
            raise ReadinessError("kernel_config_path %s: no such file" % candidates[0])
    else:
        candidates = config_candidates(running)
    source, config = find_config(candidates)
    if params["kernel_config_path"] and not params["kernel_release"] and config["version"]:
        release = version_text(config["version"])

    iptables = module.get_bin_path("iptables")
    iptables_out = ""
    if iptables:
        rc, out, err = module.run_command([iptables, "--version"])
        iptables_out = out if rc == 0 else ""
    mounts = read_mounts()
    verdict = evaluate(
        params["features"], params["cilium_version"], release, config, loaded=loaded_modules()
    )
    table = requirements_for(params["cilium_version"])
    named = sorted(
        set(
            item["option"]
            for feature in verdict["features_requested"]
            for item in table["features"][feature]["options"]
        )
        | {"CONFIG_MODULES", "CONFIG_DEBUG_INFO_BTF"}
    )
    options = config["options"] if config else {}
    report = {
        "host": socket.gethostname(),
        "kernel": {
            "release": release,
            "running_release": running,
            "version": verdict["kernel_version"],
        },
        "distro": read_os_release(),
        "config": {"found": source is not None, "source": source, "candidates": candidates},
        "config_options": dict((o, options.get(o, "absent")) for o in named) if config else {},
        "btf": os.path.exists("/sys/kernel/btf/vmlinux"),
        "cgroup": cgroup_mode(mounts),
        "bpffs_mounted": bpffs_mounted(mounts),
        "memlock": memlock_limit(),
        "iptables_backend": iptables_backend(iptables_out),
        "networkd": {"present": networkd_present()},
    }
    report.update(verdict)
    return report


def host_facts(module):
    """The non-kernel facts node_prep acts on (see RETURN host_facts)."""
    facts = {"os_family": os_family(read_os_release()), "swaps": read_swaps(), "ufw_status": ""}
    units = module.params["services"]
    systemctl = module.get_bin_path("systemctl")
    states = {}
    if units and systemctl:
        rc, out, err = module.run_command(
            [systemctl, "show", "--property=Id,LoadState,SubState"] + units
        )
        states = parse_unit_states(out) if rc == 0 else {}
    facts["services"] = dict((unit, states.get(unit, "")) for unit in units)
    ufw = module.get_bin_path("ufw")
    if ufw:
        rc, out, err = module.run_command([ufw, "status"])
        facts["ufw_status"] = out if rc == 0 else ""
    return facts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            features=dict(type="list", elements="str", default=["base"], choices=list(FEATURES)),
            cilium_version=dict(type="str", required=True),
            kernel_config_path=dict(type="path"),
            kernel_release=dict(type="str"),
            host_facts=dict(type="bool", default=False),
            services=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    if module.params["kernel_release"] and parse_version(module.params["kernel_release"]) is None:
        module.fail_json(
            msg="kernel_release %r is not a kernel release like 6.1.0-18-amd64"
            % module.params["kernel_release"]
        )
    try:
        report = gather(module)
    except (ReadinessError, RequirementError) as exc:
        module.fail_json(msg="kernel_readiness: %s" % exc)
    if module.params["host_facts"]:
        module.exit_json(changed=False, readiness=report, host_facts=host_facts(module))
    module.exit_json(changed=False, readiness=report)


if __name__ == "__main__":
    main()

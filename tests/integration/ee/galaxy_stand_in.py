# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A STAND-IN for a Galaxy server, for the local execution-environment build only.

galaxy.ansible.com cannot be reached from this machine. The local build keeps the
definition's collection requirements (name + pinned version) and only changes the server
ansible-galaxy asks: ``--server http://127.0.0.1:<port>/`` (the build argument
ANSIBLE_GALAXY_CLI_COLLECTION_OPTS). This server answers the part of the Galaxy v3 API
that ``ansible-galaxy collection install`` uses, for a fixed set of collection tarballs:

- ``GET /api/``                                             available API versions
- ``GET /api/v3/collections/<ns>/<name>/``                  collection (dates)
- ``GET /api/v3/collections/<ns>/<name>/versions/``         the versions it has
- ``GET /api/v3/collections/<ns>/<name>/versions/<v>/``     download URL, sha256, deps
- ``GET /download/<file>``                                  the tarball

ansible-galaxy checks the downloaded tarball against the sha256 announced here and every
file in it against its FILES.json, as it does with Galaxy. The shapes follow what
ansible-core's ``ansible/galaxy/api.py`` (2.19) reads: ``available_versions``,
``data``/``links.next``, ``download_url``, ``artifact.sha256``,
``metadata.dependencies``, ``namespace.name``, ``collection.name``, ``href``.
Nothing else of Galaxy (search, auth, publishing, signatures) is imitated.
"""

import hashlib
import http.server
import json
import pathlib
import tarfile
import threading
import urllib.parse

API_V3 = "/api/v3/"
UPDATED = "2026-12-01T00:00:00Z"


def read_manifest(tarball):
    """collection_info of a collection tarball's MANIFEST.json."""
    with tarfile.open(tarball, mode="r:gz") as tar:
        member = tar.extractfile("MANIFEST.json")
        if member is None:
            raise ValueError("%s: no MANIFEST.json" % tarball)
        return json.loads(member.read())["collection_info"]


class _Catalog:
    """{(namespace, name): {version: entry}} built from the tarballs."""

    def __init__(self, tarballs):
        self.entries = {}
        for path in map(pathlib.Path, tarballs):
            info = read_manifest(path)
            key = (info["namespace"], info["name"])
            self.entries.setdefault(key, {})[info["version"]] = {
                "path": path,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "dependencies": info.get("dependencies") or {},
            }

    def answer(self, path):
        """(status, JSON-able body or bytes) for a GET of ``path``."""
        if path in ("/api", "/api/"):
            return 200, {"available_versions": {"v3": "v3/"}}
        if path.startswith("/download/"):
            wanted = path[len("/download/") :]
            for versions in self.entries.values():
                for entry in versions.values():
                    if entry["path"].name == wanted:
                        return 200, entry["path"].read_bytes()
            return 404, {"errors": [{"status": "404", "title": "Not found."}]}
        if not path.startswith(API_V3 + "collections/"):
            return 404, {"errors": [{"status": "404", "title": "Not found."}]}
        parts = [p for p in path[len(API_V3 + "collections/") :].split("/") if p]
        versions = self.entries.get(tuple(parts[:2])) if len(parts) >= 2 else None
        if versions is None:
            return 404, {"errors": [{"status": "404", "title": "Not found."}]}
        namespace, name = parts[:2]
        base = "%scollections/%s/%s/" % (API_V3, namespace, name)
        if len(parts) == 2:
            return 200, {
                "namespace": namespace,
                "name": name,
                "href": base,
                "created_at": UPDATED,
                "updated_at": UPDATED,
                "highest_version": {"version": max(versions, key=_version_key)},
            }
        if parts[2] != "versions":
            return 404, {"errors": [{"status": "404", "title": "Not found."}]}
        if len(parts) == 3:
            data = [
                {"version": v, "href": "%sversions/%s/" % (base, v)}
                for v in sorted(versions, key=_version_key, reverse=True)
            ]
            return 200, {"meta": {"count": len(data)}, "links": {"next": None}, "data": data}
        entry = versions.get(parts[3])
        if entry is None or len(parts) > 4:
            return 404, {"errors": [{"status": "404", "title": "Not found."}]}
        return 200, {
            "namespace": {"name": namespace},
            "collection": {"name": name},
            "version": parts[3],
            "href": "%sversions/%s/" % (base, parts[3]),
            "download_url": "/download/%s" % entry["path"].name,
            "artifact": {"filename": entry["path"].name, "sha256": entry["sha256"]},
            "metadata": {"dependencies": entry["dependencies"]},
            "signatures": [],
        }


def _version_key(version):
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("+")[0].split("."))


class GalaxyStandIn:
    """Serve ``tarballs`` on ``host:port`` (port 0: any free port) in a thread.

    Use as a context manager; ``url`` is the ``--server`` value, ``downloads`` lists the
    tarball names ansible-galaxy fetched.
    """

    def __init__(self, tarballs, host="127.0.0.1", port=0):
        self.catalog = _Catalog(tarballs)
        self.downloads = []
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                path = urllib.parse.urlsplit(self.path).path
                status, body = stand_in.catalog.answer(path)
                if isinstance(body, bytes):
                    stand_in.downloads.append(path.rsplit("/", 1)[-1])
                    kind = "application/gzip"
                else:
                    body = json.dumps(body).encode()
                    kind = "application/json"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):  # pylint: disable=redefined-builtin
                return

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return "http://%s:%d/" % (host, port)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

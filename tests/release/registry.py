"""A loopback package registry: PyPI's JSON and Integrity APIs and npm's version and
attestations endpoints, in the shapes their documentation gives.

* PyPI JSON API, ``GET /pypi/{project}/{version}/json``: ``info`` and ``urls``, one entry per
  file with ``filename`` and ``digests`` (PyPI's documentation, "JSON API").
* PyPI Integrity API, ``GET /integrity/{project}/{version}/{filename}/provenance``: the PEP 740
  provenance object, ``404`` with a message when the file has none
  (PyPI's documentation, "Integrity API").
* npm, ``GET /{package}/{version}``: the version document, whose ``dist`` holds the
  tarball's ``integrity`` (``sha512-`` and the base64 digest) and, for a version published
  with provenance, ``attestations``: ``{"url", "provenance": {"predicateType"}}``. npm's CLI
  finds the attestations only through that field, fetching the URL's path from its registry
  (pacote's ``lib/registry.js``): ``GET /-/npm/v1/attestations/{package}@{version}`` answers
  ``{"attestations": [{"predicateType", "bundle"}]}``, the SLSA provenance and npm's publish
  attestation (npm's documentation, "Generating provenance statements").
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, unquote, urlsplit


@dataclass
class Registry:
    files: dict[tuple[str, str], list[tuple[str, bytes]]] = field(default_factory=dict)
    """(project, version) -> the files' names and contents."""
    provenance: dict[str, Any] = field(default_factory=dict)
    """filename -> provenance object."""
    npm_versions: dict[tuple[str, str], Any] = field(default_factory=dict)
    """(package, version) -> the version document (see ``publish_npm``)."""
    npm_attestations: dict[tuple[str, str], Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def publish_npm(
        self, package: str, version: str, tarball: bytes, attestations: Any = None
    ) -> dict[str, Any]:
        """A version of ``package`` as npm serves it once published (with ``attestations``:
        published with provenance)."""
        dist: dict[str, Any] = {
            "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode(),
            "shasum": hashlib.sha1(tarball).hexdigest(),
            "tarball": f"{self.url}/{package}/-/{package.rsplit('/', 1)[-1]}-{version}.tgz",
        }
        if attestations is not None:
            self.npm_attestations[(package, version)] = attestations
            dist["attestations"] = {
                "url": f"{self.url}/-/npm/v1/attestations/{quote(package, safe='@')}@{version}",
                "provenance": {"predicateType": "https://slsa.dev/provenance/v1"},
            }
        document = {"name": package, "version": version, "dist": dist}
        self.npm_versions[(package, version)] = document
        return document

    def answer(self, path: str) -> tuple[int, Any]:
        self.requests.append(path)
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if len(parts) == 4 and parts[0] == "pypi" and parts[3] == "json":
            found = self.files.get((parts[1], parts[2]))
            if found is None:
                return 404, {"message": "Not Found"}
            return 200, {
                "info": {"name": parts[1], "version": parts[2]},
                "urls": [
                    {
                        "filename": name,
                        "packagetype": "bdist_wheel" if name.endswith(".whl") else "sdist",
                        "size": len(data),
                        "digests": {
                            "sha256": hashlib.sha256(data).hexdigest(),
                            "md5": hashlib.md5(data).hexdigest(),
                        },
                        "url": f"{self.url}/files/{name}",
                        "yanked": False,
                    }
                    for name, data in found
                ],
            }
        if len(parts) == 5 and parts[0] == "integrity" and parts[4] == "provenance":
            provenance = self.provenance.get(parts[3])
            if provenance is None:
                return 404, {"message": f"No provenance available for {parts[3]}"}
            return 200, provenance
        if parts[:4] == ["-", "npm", "v1", "attestations"]:
            package, _, version = "/".join(parts[4:]).rpartition("@")
            found = self.npm_attestations.get((package, version))
            return (200, found) if found is not None else (404, {"error": "Not found"})
        package, _, version = "/".join(parts).rpartition("/")
        found = self.npm_versions.get((package, version))
        return (200, found) if found is not None else (404, {"error": "Not found"})


@contextmanager
def serving() -> Iterator[Registry]:
    registry = Registry()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            status, payload = registry.answer(urlsplit(self.path).path)
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    host, port = server.server_address[:2]
    registry.url = f"http://{host!s}:{port}"
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

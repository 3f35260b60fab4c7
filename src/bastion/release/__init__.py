"""`bastion release`: what a release published, from the tag to the registries (docs/release.md).

``chain`` follows the links, ``signatures`` verifies with sigstore-python and
pypi-attestations (the optional extra ``bastion[release]``), ``registries`` reads PyPI and
npm, ``workflows`` says what the files publish, ``audit`` runs it for a repository or an
organisation. It builds on settings/, github/, model/ and rules/; only cli/ imports it.
"""

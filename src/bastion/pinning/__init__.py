"""Pinning: resolve ``uses:`` refs to commits, rewrite them in place, and verify pins online.

``resolver`` answers from git (one ``ls-refs`` per repository) and the on-disk cache;
``rewrite`` finds every ``uses:`` value with its exact span and edits only those bytes;
``verify`` turns online answers into ``impostor-commit``, ``version-comment-mismatch`` and
``unknown-ref`` findings.
"""

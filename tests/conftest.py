"""Hypothesis runs the same way everywhere: no example database (a failure saved by one run
must not turn every later run red), no deadline (a slow first call is not a bug), and
derandomized, so CI and a fresh clone try the same examples. ``HYPOTHESIS_PROFILE=explore``
searches with fresh random examples instead (still without a database)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "deterministic",
    database=None,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore", database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

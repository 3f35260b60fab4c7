"""Tests of the output formats: unit tests and snapshots of whole CLI reports."""

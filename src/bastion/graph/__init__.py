"""The transitive action graph: what every workflow really runs (see :mod:`.model`)."""

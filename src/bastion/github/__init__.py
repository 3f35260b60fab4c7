"""Talking to GitHub: the host (github.com or Enterprise Server), credentials, git and REST."""

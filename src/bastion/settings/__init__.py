"""Repository and organisation settings, audited (`bastion repo`, `bastion org`) and enforced
(`bastion apply`) through the GitHub REST API."""

"""``bastion fix``: edits that remove findings, spliced into the original text."""

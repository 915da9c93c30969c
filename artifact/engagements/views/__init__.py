"""The engagement pages: the auditors' workspace and the staff's (``blueprint`` holds the
blueprint; ``engagements`` and ``requests`` register their pages on it)."""

"""Backup and restore of the database and the data directory.

``flask --app app backup OUT.tar.gz`` writes one archive (mode 0600: it holds the keys):
``database/`` (a SQLite snapshot taken with SQLite's online backup API, or a ``pg_dump``
custom-format dump), ``data/`` (the data directory without the live database file and
transient files) and ``manifest.json`` (versions, Alembic revisions, SHA-256 of every file).
``flask --app app restore ARCHIVE --data-dir DIR`` verifies every hash before anything reaches
DIR, which must be new or empty."""

from artifact.backup.archive import BackupError, Manifest
from artifact.backup.create import create_backup
from artifact.backup.restore import RestoreResult, restore_backup

__all__ = ["BackupError", "Manifest", "RestoreResult", "create_backup", "restore_backup"]

"""A small SQLite database in the chat's data folder, safe to share between threads.

The stores of ratings (:mod:`askculture.feedback`) and of conversations
(:mod:`askculture.web.conversations`) are both one SQLite file with a schema; this is what they
share: the file made with its folder, one connection per call, committed on success.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import ClassVar, Self

from askculture.errors import ConfigError


class LocalDatabase:
    """One SQLite file (created with its folder when missing) with the subclass's schema.

    Args:
        path: The database file.

    Raises:
        ConfigError: The database cannot be created or opened.
    """

    FILE: ClassVar[str]
    """The file's name inside the data folder."""
    SCHEMA: ClassVar[str]
    """The tables, created when missing."""
    WHAT: ClassVar[str]
    """What the database holds, for messages ("feedback", "conversations")."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.executescript(self.SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the {self.WHAT} database {self.path}: {exc}") from exc

    @classmethod
    def in_dir(cls, data_dir: str | Path) -> Self:
        """The database in a data folder (``settings.app.data_dir``)."""
        return cls(Path(data_dir) / cls.FILE)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock, closing(sqlite3.connect(self.path, timeout=10)) as con:
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA foreign_keys = ON")
            with con:  # commit on success, roll back on error
                yield con

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A connection for changes; a failure becomes a :class:`ConfigError`."""
        try:
            with self._connect() as con:
                yield con
        except sqlite3.Error as exc:
            raise ConfigError(
                f"cannot write to the {self.WHAT} database {self.path}: {exc}"
            ) from exc

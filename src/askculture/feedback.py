"""Thumbs up/down on answers, kept in a local SQLite database.

One row per rated answer: a second vote on the same answer replaces the first, and taking the vote
back removes the row (the stored state is always the state the user sees). Every row keeps
what was asked, what was answered and which sources were cited, so that a rating can be judged
later without the index or the chat session.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from askculture.localdb import LocalDatabase

FEEDBACK_FILE = "feedback.sqlite"
"""Name of the database inside the data directory."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT UNIQUE NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    sources TEXT NOT NULL,
    filters TEXT NOT NULL,
    comment TEXT
);
"""


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """One stored rating."""

    id: int
    answer_id: str
    created: str
    updated: str
    rating: int
    question: str
    answer: str
    abstained: bool
    sources: list[dict[str, Any]]
    filters: dict[str, Any]
    comment: str | None

    @property
    def liked(self) -> bool:
        """True for thumbs up."""
        return self.rating > 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackStore(LocalDatabase):
    """Ratings in ``<data_dir>/feedback.sqlite``; safe to share between threads.

    Args:
        path: The database file (created with its folder when missing).

    Raises:
        ConfigError: The database cannot be created or opened.
    """

    FILE = FEEDBACK_FILE
    SCHEMA = SCHEMA
    WHAT = "feedback"

    def record(
        self,
        answer_id: str,
        *,
        liked: bool,
        question: str,
        answer: str,
        sources: Sequence[Mapping[str, Any]] = (),
        abstained: bool = False,
        filters: Mapping[str, Any] | None = None,
        comment: str | None = None,
    ) -> FeedbackRecord:
        """Store (or replace) the rating of one answer.

        Args:
            answer_id: Identifies the answer; a later vote with the same id replaces this one.
            liked: True for thumbs up, False for thumbs down.
            question: The question asked.
            answer: The answer text (with its ``[n]`` markers).
            sources: The cited sources (JSON-ready dicts, e.g. ``Citation.to_dict()``).
            abstained: Whether the answer was an abstention.
            filters: The filters the question was asked with.
            comment: An optional free-text remark.

        Returns:
            The stored record.

        Raises:
            ConfigError: The database cannot be written.
        """
        now = _now()
        row = (
            answer_id, now, now, 1 if liked else -1, question, answer, int(abstained),
            json.dumps(list(sources), ensure_ascii=False, default=str),
            json.dumps(dict(filters or {}), ensure_ascii=False, default=str), comment,
        )  # fmt: skip
        with self._writing() as con:
            con.execute(
                "INSERT INTO feedback (answer_id, created, updated, rating, question, answer,"
                " abstained, sources, filters, comment) VALUES (?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(answer_id) DO UPDATE SET updated = excluded.updated,"
                " rating = excluded.rating, comment = COALESCE(excluded.comment, comment)",
                row,
            )
            stored = con.execute(
                "SELECT * FROM feedback WHERE answer_id = ?", (answer_id,)
            ).fetchone()
        return _record(stored)

    def remove(self, answer_id: str) -> bool:
        """Forget the rating of one answer (the user took the vote back); True if there was one.

        Raises:
            ConfigError: The database cannot be written.
        """
        with self._writing() as con:
            cur = con.execute("DELETE FROM feedback WHERE answer_id = ?", (answer_id,))
        return cur.rowcount > 0

    def comment(self, answer_id: str, text: str) -> FeedbackRecord | None:
        """Attach (or replace) a free-text comment on a rated answer.

        Args:
            answer_id: The rated answer.
            text: The comment (stored as given, stripped).

        Returns:
            The updated record, or None when the answer has no rating.

        Raises:
            ConfigError: The database cannot be written.
        """
        with self._writing() as con:
            con.execute(
                "UPDATE feedback SET comment = ?, updated = ? WHERE answer_id = ?",
                (text.strip(), _now(), answer_id),
            )
            row = con.execute("SELECT * FROM feedback WHERE answer_id = ?", (answer_id,)).fetchone()
        return _record(row) if row is not None else None

    def ratings(self, answer_ids: Sequence[str]) -> dict[str, int]:
        """The stored rating (1 or -1) of each of these answers that has one."""
        if not answer_ids:
            return {}
        marks = ",".join("?" * len(answer_ids))
        with self._connect() as con:
            rows = con.execute(
                f"SELECT answer_id, rating FROM feedback WHERE answer_id IN ({marks})",
                list(answer_ids),
            ).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def all(self) -> list[FeedbackRecord]:
        """Every stored rating, oldest first."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM feedback ORDER BY id").fetchall()
        return [_record(r) for r in rows]

    def get(self, answer_id: str) -> FeedbackRecord | None:
        """The rating of one answer, if any."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM feedback WHERE answer_id = ?", (answer_id,)).fetchone()
        return _record(row) if row is not None else None

    def counts(self) -> dict[str, int]:
        """``{"up": ..., "down": ...}``."""
        with self._connect() as con:
            rows = con.execute("SELECT rating, COUNT(*) FROM feedback GROUP BY rating").fetchall()
        by = {int(r[0]): int(r[1]) for r in rows}
        return {"up": by.get(1, 0), "down": by.get(-1, 0)}


def _record(row: sqlite3.Row) -> FeedbackRecord:
    return FeedbackRecord(
        id=int(row["id"]), answer_id=row["answer_id"], created=row["created"],
        updated=row["updated"], rating=int(row["rating"]), question=row["question"],
        answer=row["answer"], abstained=bool(row["abstained"]), sources=json.loads(row["sources"]),
        filters=json.loads(row["filters"]), comment=row["comment"],
    )  # fmt: skip

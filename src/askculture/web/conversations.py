"""Conversations that survive a reload: kept per browser in ``<data_dir>/conversations.sqlite``.

A browser is known by a random id it keeps in its local storage; it sees only its own
conversations. A turn keeps the question, what was shown (an answer, a refusal or an error,
as data: the page renders it again in whichever interface language is chosen) and the filters.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from askculture.localdb import LocalDatabase

CONVERSATIONS_FILE = "conversations.sqlite"
TITLE_CHARS = 80
_BROWSER_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, browser TEXT NOT NULL, title TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_browser ON conversations(browser, updated);
CREATE TABLE IF NOT EXISTS turns (
    id TEXT PRIMARY KEY,
    conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    n INTEGER NOT NULL, asked_at TEXT NOT NULL, question TEXT NOT NULL, kind TEXT NOT NULL,
    body TEXT NOT NULL, filters TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns(conversation, n);
"""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def valid_browser_id(value: object) -> bool:
    """True for an id a browser may present (random, 8–64 letters, digits and dashes)."""
    return isinstance(value, str) and bool(_BROWSER_ID.match(value))


@dataclass
class Turn:
    """One question and what the chat showed for it.

    ``kind`` is ``"answer"`` (``body`` = :meth:`Answer.to_dict`), or ``"refused"``/``"error"``
    (``body`` = ``{"key": catalogue key, "values": {...}}`` or ``{"text": message}``).
    """

    question: str
    kind: str
    body: dict[str, Any]
    filters: dict[str, Any] = field(default_factory=dict)
    asked_at: str = field(default_factory=_now)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (kept in the page's state)."""
        return {
            "id": self.id, "question": self.question, "kind": self.kind, "body": self.body,
            "filters": self.filters, "asked_at": self.asked_at,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        """Inverse of :meth:`to_dict`."""
        return cls(
            str(data["question"]), str(data["kind"]), dict(data["body"]),
            dict(data.get("filters") or {}), str(data["asked_at"]), str(data["id"]),
        )  # fmt: skip


@dataclass(frozen=True)
class Conversation:
    """A saved conversation: its id, title (the first question) and last change."""

    id: str
    title: str
    updated: str
    turns: int


class ConversationStore(LocalDatabase):
    """Conversations in SQLite; safe to share between threads.

    Args:
        path: The database file (created with its folder when missing).

    Raises:
        ConfigError: The database cannot be created or opened.
    """

    FILE = CONVERSATIONS_FILE
    SCHEMA = SCHEMA
    WHAT = "conversations"

    def of_browser(self, browser: str) -> list[Conversation]:
        """The browser's conversations, most recently changed first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT c.id, c.title, c.updated, COUNT(t.id) AS turns FROM conversations c "
                "LEFT JOIN turns t ON t.conversation = c.id WHERE c.browser = ? "
                "GROUP BY c.id ORDER BY c.updated DESC, c.rowid DESC",
                (browser,),
            ).fetchall()
        return [Conversation(r["id"], r["title"], r["updated"], int(r["turns"])) for r in rows]

    def turns(self, browser: str, conversation: str) -> list[Turn]:
        """The turns of one of the browser's conversations, oldest first (none if not its own)."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT t.* FROM turns t JOIN conversations c ON c.id = t.conversation "
                "WHERE c.id = ? AND c.browser = ? ORDER BY t.n",
                (conversation, browser),
            ).fetchall()
        return [
            Turn(
                r["question"],
                r["kind"],
                json.loads(r["body"]),
                json.loads(r["filters"]),
                r["asked_at"],
                r["id"],
            )
            for r in rows
        ]

    def add_turn(self, browser: str, conversation: str | None, turn: Turn) -> str:
        """Append a turn; a new conversation (titled by the question) when ``conversation`` is
        None or not the browser's. Returns the conversation's id.

        Raises:
            ConfigError: The database cannot be written.
        """
        now = datetime.now(UTC).isoformat()
        with self._writing() as con:
            owned = (
                conversation is not None
                and con.execute(
                    "SELECT 1 FROM conversations WHERE id = ? AND browser = ?",
                    (conversation, browser),
                ).fetchone()
            )
            if not owned:
                conversation = uuid.uuid4().hex
                title = " ".join(turn.question.split())[:TITLE_CHARS] or "…"
                con.execute(
                    "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                    (conversation, browser, title, now, now),
                )
            (n,) = con.execute(
                "SELECT COUNT(*) FROM turns WHERE conversation = ?", (conversation,)
            ).fetchone()
            con.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (turn.id, conversation, n, turn.asked_at, turn.question, turn.kind,
                 json.dumps(turn.body, ensure_ascii=False),
                 json.dumps(turn.filters, ensure_ascii=False)),
            )  # fmt: skip
            con.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))
        assert conversation is not None
        return conversation

    def delete(self, browser: str, conversation: str) -> bool:
        """Delete one of the browser's conversations with its turns; True if there was one."""
        with self._connect() as con:
            cur = con.execute(
                "DELETE FROM conversations WHERE id = ? AND browser = ?", (conversation, browser)
            )
        return cur.rowcount > 0

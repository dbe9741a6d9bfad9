"""The feedback store: ratings with their question, answer and sources in local SQLite."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from askculture.errors import ConfigError
from askculture.feedback import FEEDBACK_FILE, FeedbackStore

SOURCES = [
    {
        "n": 1,
        "doc_id": "d1",
        "title": "Kazakhstan and Russia deepen cultural cooperation",
        "date": "2025-10-11",
        "url": "https://example.org/a",
        "quote": "A roadmap was signed.",
    }
]


def test_store_is_created_in_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "deep" / "data"
    store = FeedbackStore.in_dir(data_dir)
    assert store.path == data_dir / FEEDBACK_FILE
    assert store.path.is_file()
    assert store.all() == []
    assert store.counts() == {"up": 0, "down": 0}


def test_record_keeps_question_answer_sources_and_filters(tmp_path: Path) -> None:
    store = FeedbackStore.in_dir(tmp_path)
    rec = store.record(
        "a1",
        liked=True,
        question="Who signed the roadmap with GITIS?",
        answer="A roadmap was signed. [1]",
        sources=SOURCES,
        filters={"date_from": "2025", "languages": ["en"]},
    )
    assert rec.liked and rec.rating == 1
    again = FeedbackStore.in_dir(tmp_path).get("a1")  # a new store reads what was written
    assert again is not None
    assert again.question == "Who signed the roadmap with GITIS?"
    assert again.answer == "A roadmap was signed. [1]"
    assert again.sources == SOURCES
    assert again.filters == {"date_from": "2025", "languages": ["en"]}
    assert not again.abstained
    assert again.created.endswith("+00:00")


def test_second_vote_on_an_answer_replaces_the_first(tmp_path: Path) -> None:
    store = FeedbackStore.in_dir(tmp_path)
    store.record("a1", liked=True, question="q", answer="x [1]", sources=SOURCES)
    store.record("a1", liked=False, question="q", answer="x [1]", sources=SOURCES)
    store.record("a2", liked=False, question="q2", answer="none", abstained=True)
    records = store.all()
    assert [r.answer_id for r in records] == ["a1", "a2"]
    assert [r.rating for r in records] == [-1, -1]
    assert records[1].abstained
    assert store.counts() == {"up": 0, "down": 2}


def test_text_is_stored_verbatim(tmp_path: Path) -> None:
    store = FeedbackStore.in_dir(tmp_path)
    nasty = "Robert'); DROP TABLE feedback;-- <script>alert(1)</script> Жүргенов"
    store.record("x", liked=True, question=nasty, answer=nasty)
    with sqlite3.connect(store.path) as con:
        assert con.execute("SELECT question FROM feedback").fetchone()[0] == nasty


def test_concurrent_votes_from_threads(tmp_path: Path) -> None:
    store = FeedbackStore.in_dir(tmp_path)

    def vote(i: int) -> None:
        store.record(f"a{i}", liked=i % 2 == 0, question=f"q{i}", answer="a")

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.counts() == {"up": 10, "down": 10}


def test_unusable_data_dir_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="feedback database"):
        FeedbackStore.in_dir(blocker / "data")

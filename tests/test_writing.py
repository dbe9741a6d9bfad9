"""Written answers against a real llama.cpp server: protocol, streaming, the gate, fallbacks.

The session's ``llm_server`` is llama.cpp's ``llama-server`` with Gemma 3 270M (a tiny model: its
prose is poor, so the tests check the protocol and the guarantees, not the wording). Where a test
needs a certain text from the real model, llama.cpp's ``grammar`` request field (sent through
``llm.extra_body``) pins what it may write. Failure modes a healthy server never shows (HTTP 500,
malformed JSON, silence) come from a tiny local HTTP server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import askculture
from askculture.answering import Answer
from askculture.errors import ConfigError
from askculture.gate import NOT_IN_DOCUMENTS, check, cited_numbers
from askculture.settings import Settings
from askculture.writing import Reply, build_messages, stream_written, write
from llm_support import (
    FaultyServer,
    LlamaServer,
    free_port,
    never_answer,
    reply_with,
    start_llama_server,
)

QUESTIONS = [
    "Who signed the roadmap with GITIS?",
    "Кто провёл заседание подкомиссии по культурному сотрудничеству?",
    "Сколько заявок поступило на второй конкурс Президентского фонда культурных инициатив?",
    "ГИТИС-пен жол картасына кім қол қойды?",
]


@pytest.fixture(scope="module")
def answers(e5_index: Path, e5: Settings) -> dict[str, Answer]:
    """Real extractive answers (all with evidence) from the sample corpus."""
    out = {q: askculture.ask(q, e5_index, settings=e5) for q in QUESTIONS}
    assert all(a.citations and not a.abstained for a in out.values())
    return out


def gbnf(text: str) -> str:
    """A llama.cpp grammar that lets the model write exactly ``text``."""
    return f"root ::= {json.dumps(text, ensure_ascii=False)}"


def settings_for(base: Settings, **llm: object) -> Settings:
    settings = base.model_copy(deep=True)
    for key, value in llm.items():
        setattr(settings.llm, key, value)
    return settings


def run(stream: Iterator[str | Reply]) -> tuple[list[str], Reply]:
    """Drain a stream: the deltas, and the Reply (which must come last, exactly once)."""
    items = list(stream)
    assert items and isinstance(items[-1], Reply)
    assert all(isinstance(x, str) for x in items[:-1])
    return [x for x in items[:-1] if isinstance(x, str)], items[-1]


def assert_falls_back(reply: Reply, answer: Answer, kind: str) -> None:
    """The quoted answer, untouched, with a one-line notice of why."""
    assert not reply.written and reply.backend == "llm"
    assert reply.fallback == kind, reply.notice
    assert reply.text == answer.text
    assert reply.notice and "\n" not in reply.notice and reply.notice.startswith("Shown as quotes")
    assert reply.citations == answer.citations


# -- no server needed --------------------------------------------------------------------------


def test_the_extractive_backend_and_abstentions_write_nothing(
    answers: dict[str, Answer], e5: Settings
) -> None:
    answer = answers[QUESTIONS[0]]
    deltas, reply = run(stream_written(answer, e5))
    assert deltas == [] and reply.backend == "extractive" and not reply.written
    assert reply.text == answer.text and reply.notice is None and not reply.attempted
    nothing = Answer("What is the budget of the moon?", "The indexed documents do not answer.")
    nothing.abstained = True
    llm = settings_for(e5, model="x", base_url=f"http://127.0.0.1:{free_port()}/v1")
    llm.answer.backend = "llm"
    deltas, reply = run(stream_written(nothing, llm))
    assert deltas == [] and reply.backend == "llm" and not reply.attempted
    assert reply.text == nothing.text


def test_the_prompt_numbers_the_quotes_and_names_the_language(answers: dict[str, Answer]) -> None:
    answer = answers[QUESTIONS[3]]
    system, _, _, user = build_messages(answer)
    assert NOT_IN_DOCUMENTS in str(system["content"])
    assert str(user["content"]).endswith("Answer in Kazakh (қазақ тілі):")
    for c in answer.citations:
        assert f"[{c.n}] ({c.date}) {' '.join(c.quote.split())}" in str(user["content"])
    assert "Russian" in str(build_messages(answers[QUESTIONS[1]])[-1]["content"])


def test_llm_backend_without_a_model_name_is_a_config_error(
    answers: dict[str, Answer], e5: Settings
) -> None:
    settings = e5.model_copy(deep=True)
    settings.answer.backend = "llm"
    with pytest.raises(ConfigError, match="ASKCULTURE_LLM__MODEL"):
        write(answers[QUESTIONS[0]], settings)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASKCULTURE_ANSWER__BACKEND", "llm")
    monkeypatch.setenv("ASKCULTURE_LLM__BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("ASKCULTURE_LLM__MODEL", "qwen2.5:7b")
    monkeypatch.setenv("ASKCULTURE_LLM__API_KEY", "sekret")
    monkeypatch.setenv("ASKCULTURE_LLM__TIMEOUT_S", "12.5")
    monkeypatch.setenv("ASKCULTURE_LLM__MAX_TOKENS", "200")
    monkeypatch.setenv("ASKCULTURE_LLM__EXTRA_BODY", '{"cache_prompt": true}')
    s = Settings()
    assert s.answer.backend == "llm" and s.llm.model == "qwen2.5:7b"
    assert s.llm.api_key is not None and s.llm.api_key.get_secret_value() == "sekret"
    assert "sekret" not in repr(s)
    assert (s.llm.timeout_s, s.llm.max_tokens, s.llm.extra_body) == (
        12.5,
        200,
        {"cache_prompt": True},
    )
    monkeypatch.setenv("ASKCULTURE_ANSWER__BACKEND", "magic")
    with pytest.raises(ValueError, match="extractive"):
        Settings()


def test_a_server_that_is_not_there_falls_back(answers: dict[str, Answer], e5: Settings) -> None:
    answer = answers[QUESTIONS[0]]
    settings = settings_for(e5, model="m", base_url=f"http://127.0.0.1:{free_port()}/v1")
    settings.answer.backend = "llm"
    deltas, reply = run(stream_written(answer, settings))
    assert deltas == []
    assert_falls_back(reply, answer, "connection")
    assert "could not be reached" in (reply.notice or "")


@pytest.mark.parametrize(
    ("status", "content_type", "body", "kind", "says"),
    [
        (500, "application/json", b'{"error": {"message": "boom", "type": "server_error"}}',
         "http_error", "HTTP 500"),
        (503, "text/plain", b"overloaded", "http_error", "HTTP 503"),
        (200, "text/event-stream", b'data: {"choices": [{"delta": {"content": "Zhur\n\n',
         "malformed", "malformed"),
        (200, "text/event-stream", b'data: {"id": "x", "choices": [{"delta": {"content": "Zhu"}}]}'
         b'\n\ndata: {not json at all}\n\n', "malformed", "malformed"),
        (200, "application/json", b"{this is not json", "malformed", "empty"),
        (200, "text/event-stream", b"data: [DONE]\n\n", "malformed", "empty"),
    ],
)  # fmt: skip
def test_server_errors_and_malformed_replies_fall_back(
    answers: dict[str, Answer],
    e5: Settings,
    status: int,
    content_type: str,
    body: bytes,
    kind: str,
    says: str,
) -> None:
    answer = answers[QUESTIONS[0]]
    server = FaultyServer(reply_with(status, content_type, body))
    try:
        settings = settings_for(e5, model="m", base_url=server.base_url)
        settings.answer.backend = "llm"
        _, reply = run(stream_written(answer, settings))
    finally:
        server.close()
    assert_falls_back(reply, answer, kind)
    assert says in (reply.notice or "")


def test_a_silent_server_times_out(answers: dict[str, Answer], e5: Settings) -> None:
    answer = answers[QUESTIONS[0]]
    release = threading.Event()
    server = FaultyServer(never_answer(release))
    try:
        settings = settings_for(e5, model="m", base_url=server.base_url, timeout_s=1.0)
        settings.answer.backend = "llm"
        _, reply = run(stream_written(answer, settings))
    finally:
        release.set()
        server.close()
    assert_falls_back(reply, answer, "timeout")
    assert "within 1 s" in (reply.notice or "")
    assert reply.write_ms is not None and 900 <= reply.write_ms < 10_000


# -- the real llama.cpp server -----------------------------------------------------------------


@pytest.mark.llm
def test_the_real_server_streams_a_written_answer(
    answers: dict[str, Answer], llm: Settings
) -> None:
    answer = answers[QUESTIONS[0]]
    deltas, reply = run(stream_written(answer, llm))
    assert len(deltas) > 1, "a streamed answer comes in pieces"
    assert "".join(deltas) == reply.draft and reply.draft.strip()
    assert reply.backend == "llm" and reply.model == "gemma-3-270m"
    assert reply.first_token_ms is not None and reply.write_ms is not None
    assert 0 < reply.first_token_ms <= reply.write_ms
    assert reply.citations == answer.citations
    assert reply.written or reply.fallback in {"gate", "not_in_documents"}


@pytest.mark.llm
@pytest.mark.parametrize("question", QUESTIONS)
def test_whatever_the_real_model_writes_what_is_shown_passes_the_gate(
    answers: dict[str, Answer], llm: Settings, question: str
) -> None:
    answer = answers[question]
    reply = write(answer, llm)
    assert reply.draft.strip(), "the model wrote something"
    assert [c.to_dict() for c in reply.citations] == [c.to_dict() for c in answer.citations]
    if reply.written:
        assert reply.notice is None and reply.text != answer.text
        assert check(reply.text, answer.citations, question).passed
        numbers = {c.n for c in answer.citations}
        assert cited_numbers(reply.text) and set(cited_numbers(reply.text)) <= numbers
    else:
        assert_falls_back(reply, answer, reply.fallback or "?")
        assert reply.fallback in {"gate", "not_in_documents"}


@pytest.mark.llm
def test_a_copied_quote_passes_and_an_invented_name_fails_end_to_end(
    answers: dict[str, Answer], llm: Settings
) -> None:
    answer = answers[QUESTIONS[0]]
    quote = " ".join(answer.citations[0].quote.split())
    good = f"{quote} [1]"
    settings = settings_for(llm, extra_body={"grammar": gbnf(good)})
    deltas, reply = run(stream_written(answer, settings))
    assert reply.written and reply.fallback is None and reply.notice is None
    assert reply.draft == good and reply.text == good and len(deltas) > 1

    bad = "Vladimir Putin signed the roadmap with GITIS [1]."
    settings = settings_for(llm, extra_body={"grammar": gbnf(bad)})
    deltas, reply = run(stream_written(answer, settings))
    assert "".join(deltas) == bad
    assert_falls_back(reply, answer, "gate")
    assert "Vladimir" in (reply.notice or "")

    unknown = f"{quote} [9]"
    settings = settings_for(llm, extra_body={"grammar": gbnf(unknown)})
    _, reply = run(stream_written(answer, settings))
    assert_falls_back(reply, answer, "gate")
    assert "[9]" in (reply.notice or "")


@pytest.mark.llm
def test_not_in_the_documents_while_the_reader_found_evidence_falls_back(
    answers: dict[str, Answer], llm: Settings
) -> None:
    answer = answers[QUESTIONS[1]]
    settings = settings_for(llm, extra_body={"grammar": gbnf(NOT_IN_DOCUMENTS)})
    _, reply = run(stream_written(answer, settings))
    assert_falls_back(reply, answer, "not_in_documents")


@pytest.mark.llm
def test_a_written_answer_slower_than_the_timeout_falls_back(
    answers: dict[str, Answer], llm: Settings
) -> None:
    answer = answers[QUESTIONS[0]]
    endless = {"grammar": 'root ::= ("la " )+', "ignore_eos": True}  # 4000 tokens: minutes
    settings = settings_for(llm, extra_body=endless, max_tokens=4000, timeout_s=8)
    deltas, reply = run(stream_written(answer, settings))
    assert_falls_back(reply, answer, "timeout")
    assert reply.write_ms is not None and 8000 <= reply.write_ms < 30_000
    if deltas:  # the usual case: it had started writing, and was cut off mid-answer
        assert "did not finish the answer within 8 s" in (reply.notice or "")
        assert reply.draft.startswith("la la")


@pytest.mark.llm
def test_a_server_killed_mid_answer_falls_back(
    answers: dict[str, Answer],
    llm: Settings,
    llama_parts: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    answer = answers[QUESTIONS[0]]
    server = start_llama_server(*llama_parts, tmp_path / "doomed.log")
    try:
        endless = {"grammar": 'root ::= ("la " )+', "ignore_eos": True}
        settings = settings_for(
            llm, base_url=server.base_url, extra_body=endless, max_tokens=4000, timeout_s=60
        )
        stream = stream_written(answer, settings)
        first = next(stream)
        assert isinstance(first, str)
        server.kill()
        _, reply = run(stream)
    finally:
        server.stop()
    assert server.process.returncode is not None
    assert_falls_back(reply, answer, "connection")
    assert "broke off" in (reply.notice or "")
    assert reply.draft.startswith(first)


@pytest.mark.llm
def test_askculture_ask_with_the_llm_backend(
    e5_index: Path, llm: Settings, llm_server: LlamaServer
) -> None:
    env = {
        "ASKCULTURE_EMBEDDING__MODEL": "multilingual-e5-small",
        "ASKCULTURE_LLM__BASE_URL": llm_server.base_url,
        "ASKCULTURE_LLM__MODEL": "gemma-3-270m",
    }
    cmd = [sys.executable, "-m", "askculture.cli", "ask", QUESTIONS[0], "--index", str(e5_index)]
    full_env = {**os.environ, **env}
    done = subprocess.run(
        [*cmd, "--backend", "llm", "--json"], env=full_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["backend"] == "llm" and isinstance(data["written"], bool)
    assert data["model"] == "gemma-3-270m" and data["citations"]
    assert data["written"] or data["notice"].startswith("Shown as quotes")
    shown = subprocess.run([*cmd, "--backend", "llm"], env=full_env, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert ("written by the language model" in shown.stdout) or (
        "Note: Shown as quotes" in shown.stdout
    )
    assert "Sources" in shown.stdout
    plain = subprocess.run([*cmd, "--json"], env=full_env, capture_output=True, text=True)
    assert json.loads(plain.stdout)["backend"] == "extractive"


@pytest.mark.llm
def test_eval_with_the_llm_backend_adds_gate_failures_and_latency(
    e5_index: Path, llm: Settings, tmp_path: Path
) -> None:
    from askculture.evaluation import evaluate, format_report

    rows = [
        {"id": "w1", "question": QUESTIONS[0], "lang": "en", "type": "factoid",
         "answers": ["Zhurgenov"], "gold": ["2025-10-11-kz-russia-culture-subcommission.md"]},
        {"id": "w2", "question": QUESTIONS[2], "lang": "ru", "type": "factoid",
         "answers": ["10 тысяч"], "gold": ["2024-06-11-ru-presidential-culture-fund-grants.md"]},
        {"id": "w3", "question": "Which football club won the 2023 Kazakhstan Premier League?",
         "lang": "en", "type": "unanswerable", "answers": [], "gold": []},
    ]  # fmt: skip
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    report = evaluate(path, e5_index, settings=llm)
    data = report.to_dict()
    by_id = {q.id: q for q in report.questions}
    assert by_id["w3"].abstained and by_id["w3"].written is None  # nothing to write from
    tried = [q for q in report.questions if q.written is not None]
    assert data["backend"] == "llm" and data["model"] == "gemma-3-270m"
    assert data["written_attempts"] == len(tried) == 2
    assert data["gate_failures"] == sum(not q.written for q in tried) / 2
    assert data["written_share"] == sum(bool(q.written) for q in tried) / 2
    assert sum(data["fallbacks"].values()) == sum(not q.written for q in tried)  # type: ignore[attr-defined]
    assert data["median_first_token_ms"] and data["median_write_ms"]
    assert data["median_first_token_ms"] <= data["median_write_ms"]  # type: ignore[operator]
    for q in tried:  # the answer judged is the one shown
        assert q.latency_ms >= (q.write_ms or 0)
    assert data["citation_validity"] == 1.0
    assert "gate_failures" in format_report(report)

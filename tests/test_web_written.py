"""Written answers in the web chat: streamed draft, checked answer with its marker, fallbacks.

Rendering is tested without a server. The chat itself runs for real: a chat server on the
session's e5 index with ``answer.backend = llm`` pointed at the session's llama.cpp server
(``llm_server``), driven through ``gradio_client`` and Chromium. Where a test needs a certain
text from the tiny model, llama.cpp's ``grammar`` field (``llm.extra_body``) pins it; failure
modes a healthy server never shows come from a tiny local HTTP server.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from askculture.answering import Answer, Citation
from askculture.gate import check
from askculture.settings import Settings
from askculture.web.conversations import Turn
from askculture.web.export import answer_markdown
from askculture.web.i18n import Messages, catalogues
from askculture.web.layout import header_html
from askculture.web.render import answer_from_dict, answer_html, draft_html, esc
from askculture.web.turns import chat_messages
from askculture.web.written import FALLBACK_KINDS, Writing, history_text
from askculture.writing import Reply
from llm_support import MODEL_ALIAS, FaultyServer, free_port, reply_with
from web_support import (
    SEED,
    Server,
    ask_in_page,
    browser_test,
    load,
    open_tab,
    reply_clock,
    screenshot,
    start_reply_clock,
    start_server,
    stores,
)

if TYPE_CHECKING:
    from gradio_client import Client
    from playwright.sync_api import Browser

QUOTE = "Ministers Aida Balayeva and Olga Lyubimova co-chaired the sub-commission <b>in Moscow</b>."
DOC = f"Intro.\n\nMOSCOW, 11 October 2025. {QUOTE} More text.\n"


def _answer() -> Answer:
    start = DOC.index(QUOTE)
    citation = Citation(
        n=1, doc_id="d1", title="Sub-commission", date="2025-10-11", source="Ministry",
        url="https://example.org/a", path="/srv/a.md", lang="en", quote=QUOTE, start=start,
        end=start + len(QUOTE),
    )  # fmt: skip
    return Answer("Who co-chaired it?", f"{QUOTE} [1]", [citation], False, [], query="q")


def _written(text: str = "Balayeva and Lyubimova co-chaired it <i>x</i> [1]. See [7].") -> Reply:
    answer = _answer()
    return Reply(answer, text, "llm", True, model=MODEL_ALIAS, first_token_ms=1.0, write_ms=2.0)


def _refused(kind: str = "gate") -> Reply:
    answer = _answer()
    notice = "Shown as quotes: the written answer failed the quote check: it gives “Putin”."
    return Reply(answer, answer.text, "llm", False, notice, kind, MODEL_ALIAS)  # type: ignore[arg-type]


def _kept(reply: Reply) -> dict[str, Any]:
    """A reply as a conversation keeps it (through JSON)."""
    body: dict[str, Any] = json.loads(json.dumps(reply.to_dict()))
    return body


# --- rendering (no server) ---------------------------------------------------------------------


def test_a_written_answer_is_shown_above_its_quotes_with_its_marker() -> None:
    body = _kept(_written())
    answer = answer_from_dict(body)
    assert answer.text == f"{QUOTE} [1]"  # the quoted text, not the written one
    html = answer_html(answer, {"d1": DOC}, turn_id="t1", writing=Writing.of(body))
    written = html.split('class="ac-written"')[1].split('class="ac-text"')[0]
    assert "Balayeva and Lyubimova co&#45;chaired it &lt;i&gt;x&lt;/i&gt; " in written
    assert 'href="#ac-src-t1-1"' in written  # [1] is a link to its source
    assert "See &#91;7&#93;." in written  # no such source: plain text, no link
    assert esc(f"Written by the language model {MODEL_ALIAS}") in written
    assert "ac-direct" not in html  # the written answer is the answer
    assert html.index("ac-written") < html.index("What the documents say") < html.index("<mark")
    assert "&lt;b&gt;in Moscow&lt;/b&gt;" in html and "<b>" not in html and "<i>" not in html
    assert 'id="ac-src-t1-1"' in html and "ac-fallback" not in html
    russian = answer_html(answer, {}, turn_id="t1", writing=Writing.of(body), m=Messages("ru"))
    assert "Написано языковой моделью" in russian and "Что говорят документы" in russian


@pytest.mark.parametrize("kind", sorted(FALLBACK_KINDS))
def test_a_refused_written_answer_shows_the_quotes_and_one_line_why(kind: str) -> None:
    body = _kept(_refused(kind))
    writing = Writing.of(body)
    for lang in catalogues():
        why = writing.fallback_text(Messages(lang))
        assert why and "\n" not in why and why == Messages(lang)(f"written.fallback.{kind}")
    html = answer_html(answer_from_dict(body), {"d1": DOC}, turn_id="t2", writing=writing)
    english = esc(Messages()(f"written.fallback.{kind}"))
    assert '<div class="ac-fallback" role="note" title="Shown as quotes' in html and english in html
    assert 'title="Shown as quotes: the written answer failed' in html  # the details, on hover
    assert "ac-written" not in html and "Written by" not in html
    assert 'class="ac-line ac-lead"' in html  # the quotes, as for an extractive answer


def test_the_extractive_backend_and_old_turns_show_no_marker_and_no_notice() -> None:
    old = _answer().to_dict()  # a turn kept before written answers existed
    plain = _kept(Reply(_answer(), _answer().text, "extractive"))
    for body in (old, plain):
        writing = Writing.of(body)
        assert not writing.written and writing.fallback_text(Messages()) is None
        html = answer_html(answer_from_dict(body), {}, turn_id="t3", writing=writing)
        assert "ac-written" not in html and "ac-fallback" not in html
        assert history_text(body) == f"{QUOTE} [1]"


def test_the_draft_is_plain_text_marked_unchecked_and_pending() -> None:
    html = draft_html("Putin <script>alert(1)</script> signed [1]\n", Messages())
    assert "<script>" not in html and "&lt;script&gt;" in html and "&#91;1&#93;" in html
    assert "not yet checked" in html
    assert 'class="ac-draft ac-pending"' in html and "ac-answer" not in html
    assert "ac-notice" not in html  # the page's tests and scripts count answers and notices
    assert "ещё не проверен" in draft_html("", Messages("ru"))


def test_the_page_says_whether_a_model_writes_the_answers() -> None:
    for lang in catalogues():
        m = Messages(lang)
        assert esc(m("header.tagline")) in header_html(m)
        assert esc(m("header.tagline_written")) in header_html(m, written=True)
    assert "Every sentence of an answer is quoted" in header_html(Messages())
    assert "A language model writes each answer" in header_html(Messages(), written=True)


def test_follow_ups_use_the_quoted_text_and_the_chat_shows_the_written_one() -> None:
    body = _kept(_written("Balayeva and Lyubimova co-chaired it [1]."))
    assert history_text(body) == f"{QUOTE} [1]"
    turn = Turn("Who co-chaired it?", "answer", body)
    again = Turn.from_dict(json.loads(json.dumps(turn.to_dict())))  # as the page keeps it
    shown = chat_messages([again], lambda a: {"d1": DOC}, Messages())
    assert shown[1]["role"] == "assistant" and "ac-written-mark" in shown[1]["content"]
    assert shown == chat_messages([turn], lambda a: {"d1": DOC}, Messages())


def test_the_markdown_export_has_the_written_text_its_marker_and_the_quotes() -> None:
    body = _kept(_written("Balayeva and Lyubimova co-chaired it [1]."))
    md = answer_markdown(answer_from_dict(body), writing=Writing.of(body))
    assert md.index("Balayeva and Lyubimova co-chaired it [1].") < md.index("_Written by")
    assert md.index("_Written by") < md.index("## What the documents say") < md.index(QUOTE)
    assert "## Sources" in md and f"> {QUOTE}" in md
    refused = _kept(_refused("timeout"))
    md = answer_markdown(answer_from_dict(refused), writing=Writing.of(refused))
    assert "_Shown as quotes: the language-model server did not answer in time._" in md
    assert "Written by" not in md and "## What the documents say" not in md


def test_a_chat_asked_to_write_without_a_model_refuses_to_start(tmp_path: Path) -> None:
    env = {
        **os.environ, "ASKCULTURE_APP__DATA_DIR": str(tmp_path / "data"),
        "ASKCULTURE_LLM__MODEL": "",
    }  # fmt: skip
    cmd = [sys.executable, "-m", "askculture.cli", "serve", "--index", str(tmp_path / "ix")]
    cmd += ["--port", str(free_port()), "--backend", "llm"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "needs the model's name: set llm.model (ASKCULTURE_LLM__MODEL)" in done.stderr
    assert not (tmp_path / "ix").exists() and not (tmp_path / "data").exists()


# --- the extractive chat (the session's server) ------------------------------------------------


def test_the_extractive_api_says_the_answer_was_not_written(client: Client) -> None:
    result = client.predict(SEED, api_name="/ask")
    assert result["written"] is False and result["backend"] == "extractive"
    assert result["text"] == result["quoted_text"] and "[1]" in result["text"]
    assert result["notice"] is None and result["model"] is None and result["fallback"] is None


# --- the chat with written answers (a real llama-server) ---------------------------------------


@pytest.fixture(scope="module")
def written_server(
    tmp_path_factory: pytest.TempPathFactory, e5_index: Path, llm: Settings
) -> Iterator[Server]:
    """A chat with ``answer.backend = llm`` on the session's e5 index and llama-server."""
    cache = os.environ.get("GRADIO_TEMP_DIR")
    try:
        yield from start_server(tmp_path_factory.mktemp("web-llm"), llm, e5_index)
    finally:  # the session's chat keeps its own upload cache
        if cache is not None:
            os.environ["GRADIO_TEMP_DIR"] = cache


@pytest.fixture(scope="module")
def written_client(written_server: Server) -> Client:
    from gradio_client import Client

    return Client(written_server.url, verbose=False)


@contextlib.contextmanager
def model_writes(server: Server, text: str | None = None, **llm: Any) -> Iterator[None]:
    """Pin what the server's model writes (a llama.cpp grammar) or change ``llm`` settings, for
    the duration (the chat reads its settings at every question)."""
    settings = server.engine.settings.llm
    before = settings.model_copy()
    if text is not None:
        settings.extra_body = {"grammar": f"root ::= {json.dumps(text, ensure_ascii=False)}"}
    for key, value in llm.items():
        setattr(settings, key, value)
    try:
        yield
    finally:
        for key in ("extra_body", *llm):
            setattr(settings, key, getattr(before, key))


@pytest.mark.llm
def test_the_api_says_whether_the_model_wrote_the_answer(written_client: Client) -> None:
    result = written_client.predict(SEED, api_name="/ask")
    assert result["backend"] == "llm" and isinstance(result["written"], bool)
    assert result["model"] == MODEL_ALIAS and result["citations"]
    assert 0 < result["first_token_ms"] <= result["write_ms"]
    citations = [
        Citation(**{k: v for k, v in c.items() if k != "file"}, path=c["file"])
        for c in result["citations"]
    ]
    if result["written"]:  # whatever the tiny model wrote, what is shown passed the check
        assert result["notice"] is None and result["text"] != result["quoted_text"]
        assert check(result["text"], citations, SEED).passed
    else:
        assert result["text"] == result["quoted_text"] and result["fallback"] in FALLBACK_KINDS
        assert result["notice"].startswith("Shown as quotes")


@pytest.mark.llm
def test_a_failing_model_server_leaves_the_quotes_and_a_log_line(
    written_server: Server, written_client: Client, capfd: pytest.CaptureFixture[str]
) -> None:
    broken = FaultyServer(reply_with(500, "application/json", b'{"error": {"message": "boom"}}'))
    try:
        with model_writes(written_server, base_url=broken.base_url):
            result = written_client.predict(SEED, api_name="/ask")
    finally:
        broken.close()
    assert result["written"] is False and result["fallback"] == "http_error"
    assert result["text"] == result["quoted_text"] and result["citations"]
    assert "answered HTTP 500" in result["notice"]
    assert "warning: written answer not shown: Shown as quotes" in capfd.readouterr().err


@pytest.mark.llm
@pytest.mark.browser
@browser_test
def test_the_written_answer_streams_into_the_chat_then_shows_its_marker(
    browser: Browser, written_server: Server, tmp_path: Path
) -> None:
    from askculture.answering import ask

    tab = open_tab(browser, written_server)
    page = tab.page
    evidence = ask(SEED, written_server.index_dir, settings=written_server.settings)
    copied = f"{' '.join(evidence.citations[0].quote.split())} [1]"
    try:
        with model_writes(written_server, copied):
            start_reply_clock(page)
            reply = ask_in_page(page, SEED)
        seen = reply_clock(page)
        assert len(seen["drafts"]) >= 2, "the draft grew in the page, piece by piece"
        assert seen["drafts"][0] != copied and copied.startswith(seen["drafts"][0])
        assert seen["asked"] < seen["writing"] <= seen["draft"] < seen["answered"]
        assert page.locator("#ac-chat .ac-draft").count() == 0
        assert "A language model writes each answer" in page.locator(".ac-header").inner_text()
        mark = reply.locator(".ac-written-mark")
        assert MODEL_ALIAS in mark.inner_text() and "checked" in mark.inner_text()
        written = reply.locator(".ac-written p").inner_text()
        assert " ".join(evidence.citations[0].quote.split()) in written
        assert reply.locator(".ac-written a.ac-cite").count() == 1
        assert reply.locator(".ac-source").count() == len(evidence.citations)
        assert reply.locator(".ac-fallback").count() == 0
        screenshot(page, "web-written-answer.png", full_page=False)

        browser_id = page.evaluate("localStorage.getItem('askculture-browser')")
        convs = stores(written_server).conversations
        (turn,) = convs.turns(browser_id, convs.of_browser(browser_id)[0].id)
        assert turn.body["written"] is True and turn.body["backend"] == "llm"
        assert turn.body["text"] == copied and turn.body["quoted_text"] == evidence.text

        with page.expect_download() as info:
            page.click("#ac-download")
        md = Path(info.value.path()).read_text(encoding="utf-8")
        assert (
            md.index(copied) < md.index("_Written by the language model") < md.index("## Sources")
        )

        load(page, written_server)  # the conversation comes back, marked as written
        page.wait_for_selector("#ac-chat .ac-written-mark")
        assert page.locator("#ac-chat .ac-written p").inner_text() == written
    finally:
        tab.context.close()
    assert not tab.errors


@pytest.mark.llm
@pytest.mark.browser
@browser_test
def test_a_written_answer_that_fails_the_check_shows_the_quotes_and_why_in_russian(
    browser: Browser, written_server: Server
) -> None:
    tab = open_tab(browser, written_server, accept_language="ru-RU,ru;q=0.9")
    page = tab.page
    invented = "Vladimir Putin signed the roadmap with GITIS [1]."
    try:
        with model_writes(written_server, invented):
            start_reply_clock(page)
            reply = ask_in_page(page, SEED)
        seen = reply_clock(page)
        assert seen["drafts"] and "Vladimir" in seen["drafts"][-1]  # shown while unchecked
        assert seen["asked"] < seen["writing"] <= seen["draft"] < seen["answered"]
        assert "Языковая модель пишет" in page.locator(".ac-header").inner_text()
        why = reply.locator(".ac-fallback")
        assert why.inner_text().strip() == Messages("ru")("written.fallback.gate")
        assert "Vladimir" in (why.get_attribute("title") or "")  # the details, on hover
        assert "Vladimir" not in reply.inner_text() and reply.locator(".ac-written").count() == 0
        assert reply.locator("mark.ac-quote").count() >= 1 and reply.locator(".ac-source").count()
        screenshot(page, "web-written-refused-ru.png", full_page=False)
    finally:
        tab.context.close()
    assert not tab.errors

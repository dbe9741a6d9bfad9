"""The web chat: rendering, launch options, the real server through gradio_client, a real browser.

The session's server and browser come from ``conftest.py`` (see ``web_support.py``). The tests of
the bugs listed in issue 12 and of the new features are in ``test_web_ui.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from askculture.answering import Answer, Citation
from askculture.cli import main as cli_main
from askculture.errors import ConfigError
from askculture.retrieval import Passage
from askculture.settings import SAMPLE_CORPUS_DIR, AppSettings, Settings
from askculture.web import EXAMPLES, ChatEngine, check_port, launch_options, serve
from askculture.web.export import answer_markdown
from askculture.web.filters import Filters, make_filters
from askculture.web.i18n import Messages
from askculture.web.render import answer_html, esc, quote_context, safe_url, status_html
from web_support import (
    REPO,
    SEED,
    SUBCOMMISSION_TITLE_WORDS,
    XSS_QUESTION,
    Server,
    Tab,
    ask_in_page,
    browser_test,
    doc_text,
    free_port,
    is_subcommission_2025,
    screenshot,
    wait_until,
)

if TYPE_CHECKING:
    from gradio_client import Client

# --- rendering (no server) ---------------------------------------------------------------------


def _citation(**changes: Any) -> tuple[Citation, str]:
    doc = (
        "First paragraph.\n\nBefore the quote. The roadmap was signed <b>here</b>. After it.\n\n"
        "End."
    )
    quote = "The roadmap was signed <b>here</b>."
    start = doc.index(quote)
    fields: dict[str, Any] = {
        "n": 1, "doc_id": "d1", "title": "Roadmap <img src=x onerror=alert(1)>",
        "date": "2025-10-11", "source": "Ministry of Culture", "url": "https://example.org/a?b=1&c=2",
        "path": "/srv/corpus/roadmap.md", "lang": "en", "quote": quote, "start": start,
        "end": start + len(quote),
    }  # fmt: skip
    fields.update(changes)
    return Citation(**fields), doc


def _passage(doc_id: str, title: str, text: str = "Some passage text.") -> Passage:
    return Passage(
        text=text, score=0.5, rank=1, chunk_id=f"{doc_id}:0", doc_id=doc_id, start=0,
        end=len(text), title=title, date="2024-05-13", lang="ru", source="Министерство",
        url="https://example.org/" + doc_id, path=f"/srv/{doc_id}.md",
    )  # fmt: skip


def test_esc_leaves_no_markup_of_any_kind() -> None:
    out = esc("<script>alert('x')</script> **b** [l](javascript:x) $$x$$ `c`\n\nnext")
    assert "<" not in out.replace("<br>", "")
    for ch in "*[]()$`'":
        assert ch not in out
    assert "\n" not in out  # never a blank line that would end a raw HTML block
    assert "&lt;script&gt;" in out


def test_safe_url_only_allows_web_addresses() -> None:
    assert safe_url("https://example.org/x") == "https://example.org/x"
    assert safe_url("http://example.org") == "http://example.org"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>", "/relative",
                'https://e.org/"onmouseover="x', "https://e.org/<x>", "", None):  # fmt: skip
        assert safe_url(bad) is None, bad


def test_answer_html_escapes_document_text_and_highlights_the_quote() -> None:
    citation, doc = _citation()
    answer = Answer("q", "The roadmap was signed <b>here</b>. [1]", [citation], False, [])
    html = answer_html(
        answer, {"d1": doc}, turn_id="t3", filters_text=Filters(date_from="2025").describe()
    )
    assert "<img" not in html and "<b>" not in html
    assert "&lt;img src&#61;x onerror&#61;alert&#40;1&#41;&gt;" in html
    assert 'class="ac-cite" href="#ac-src-t3-1"' in html and "&#91;1&#93;</a>" in html
    assert '<mark class="ac-quote">The roadmap was signed &lt;b&gt;here&lt;/b&gt;.</mark>' in html
    assert 'class="ac-line ac-lead"' in html  # no short answer yet: the first quote leads
    assert "Before the quote. " in html and " After it." in html  # its paragraph around it
    assert "First paragraph" not in html  # but not the neighbouring paragraphs
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html
    assert 'id="ac-src-t3-1"' in html
    assert "Filters&#58; dates 2025 – any" in html
    assert "2025&#45;10&#45;11" in html and "English" in html and "Ministry of Culture" in html


def test_answer_html_never_links_a_javascript_url() -> None:
    citation, doc = _citation(url="javascript:window.__pwned=1")
    html = answer_html(Answer("q", "x [1]", [citation], False, []), {"d1": doc}, turn_id="t1")
    assert "javascript" not in html and 'target="_blank"' not in html
    assert [h for h in html.split('href="')[1:] if not h.startswith("#ac-src-")] == []
    assert "roadmap.md" in html and "/srv/corpus" not in html  # file name only, no server path


def test_answer_html_without_document_text_shows_the_quote_alone() -> None:
    citation, _ = _citation()
    html = answer_html(Answer("q", "x [1]", [citation], False, []), {"d1": None}, turn_id="t1")
    assert "<mark" in html


def test_abstention_is_shown_as_such_with_the_closest_documents() -> None:
    passages = [
        _passage("a", "Закон о СМИ"),
        _passage("a", "Закон о СМИ"),
        _passage("b", "<i>B</i>"),
    ]
    answer = Answer("q", "The indexed documents do not answer this question.", [], True, passages)
    html = answer_html(answer, {}, turn_id="t1")
    assert "No answer found in the documents" in html
    assert "Closest documents" in html
    assert html.count("Закон о СМИ") == 1  # one entry per document
    assert "&lt;i&gt;B&lt;/i&gt;" in html
    md = answer_markdown(answer)
    assert "**No answer found in the documents.**" in md and "## Closest documents" in md


def test_markdown_export_has_quotes_sources_dates_and_urls() -> None:
    citation, _ = _citation()
    answer = Answer(SEED, "The roadmap was signed <b>here</b>. [1]", [citation], False, [])
    md = answer_markdown(
        answer, filters_text=Filters(languages=("en",)).describe(), asked_at="2025-11-26 10:00 UTC"
    )
    assert md.startswith(f"# {SEED}\n")
    assert "2025-11-26 10:00 UTC" in md and "languages: English" in md
    assert "## Sources" in md
    assert "**[1] Roadmap <img src=x onerror=alert(1)>**" in md  # plain text: no escaping
    assert "Ministry of Culture, 2025-10-11, English" in md
    assert "<https://example.org/a?b=1&c=2>" in md
    assert "> The roadmap was signed <b>here</b>." in md
    assert "&lt;" not in md and "&gt;" not in md


def test_direct_answer_leads_with_its_citation_in_every_interface_language() -> None:
    citation, doc = _citation(quote="The roadmap was signed <b>here</b>.")
    answer = Answer(
        "q", "The roadmap was signed <b>here</b>. [1]\nSources: [1] 2025-10-11.", [citation],
        False, [], short_answer="<b>here</b>", short_answer_n=1,
    )  # fmt: skip
    for lang, sources in (("en", "Sources"), ("ru", "Источники"), ("kk", "Дереккөздер")):
        html = answer_html(answer, {"d1": doc}, turn_id="t9", m=Messages(lang))
        direct = html.index('class="ac-direct"')
        assert direct < html.index('class="ac-text"') < html.index('class="ac-sources"')
        assert '<strong class="ac-short">&lt;b&gt;here&lt;/b&gt;</strong>' in html
        assert 'href="#ac-src-t9-1"' in html[direct:]
        assert sources in html and "Sources: [1]" not in html  # the scaffold is the catalogue's
        assert "ac-lead" not in html  # the direct answer leads, not the first quote
    md = answer_markdown(answer)
    assert "**Answer: <b>here</b>** [1]" in md


def test_quote_context_stays_inside_the_paragraph() -> None:
    citation, doc = _citation()
    ctx = quote_context(doc, citation)
    assert (ctx.before, ctx.after) == ("Before the quote. ", " After it.")
    assert not ctx.cut_before and not ctx.cut_after
    assert quote_context(doc, citation, chars=5).cut_before
    wrong = quote_context(doc.replace("signed", "SIGNED"), citation)
    assert (wrong.before, wrong.quote, wrong.after) == ("", citation.quote, "")


def test_make_filters_validates_and_normalises() -> None:
    assert make_filters("", "", ["en", "ru", "kk"], []) == Filters()
    assert make_filters(" 2024 ", "2024-12", ["ru"], ["Ministry"]) == Filters(
        "2024", "2024-12", ("ru",), ("Ministry",)
    )
    assert not make_filters(None, None, None, None).active
    for bad in ("2024-02-30", "24", "yesterday", "2024/01/01"):
        with pytest.raises(ConfigError, match="must look like"):
            make_filters(bad, "", [], [])
    with pytest.raises(ConfigError, match="after the To date"):
        make_filters("2026-01-01", "2025-01-01", [], [])
    with pytest.raises(ConfigError, match="after the To date"):
        make_filters("2025-02", "2025-01-31", [], [])
    assert make_filters("2025", "2025-01", [], []).date_to == "2025-01"  # overlapping is fine
    with pytest.raises(ConfigError, match="Unknown language"):
        make_filters("", "", ["de"], [])


def test_status_html_shows_build_progress() -> None:
    html = status_html({"phase": "building", "done": 12, "total": 33, "current": "<a>.md"})
    assert "12 of 33 files" in html and '<progress max="33" value="12">' in html
    assert "&lt;a&gt;" in html
    ready = status_html({"phase": "ready", "documents": 34, "languages": {"kk": 6}, "model": "m"})
    assert "34 documents" in ready and "Қазақша 6" in ready
    assert "ac-error" in status_html({"phase": "error", "message": "boom"})


# --- launch options ----------------------------------------------------------------------------


def test_launch_defaults_are_localhost_7860_without_login() -> None:
    opts = launch_options(Settings(app=AppSettings()))
    assert (opts.host, opts.port, opts.auth, opts.warnings) == ("127.0.0.1", 7860, None, ())


def test_binding_beyond_localhost_is_explicit_and_warns() -> None:
    settings = Settings(app=AppSettings())
    (warning,) = launch_options(settings, host="0.0.0.0").warnings
    assert "reachable from other machines" in warning and "no login" in warning
    for local in ("127.0.0.1", "localhost", "::1"):
        assert launch_options(settings, host=local).warnings == ()


def test_login_comes_from_settings_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASKCULTURE_APP__AUTH_USER", "editor")
    monkeypatch.setenv("ASKCULTURE_APP__AUTH_PASSWORD", "s3cret")
    monkeypatch.setenv("ASKCULTURE_APP__PORT", "8123")
    opts = launch_options(Settings(), host="0.0.0.0")
    assert opts.auth == ("editor", "s3cret") and opts.port == 8123
    assert "no login" not in opts.warnings[0]
    monkeypatch.delenv("ASKCULTURE_APP__AUTH_PASSWORD")
    with pytest.raises(ConfigError, match="AUTH_PASSWORD"):
        launch_options(Settings())


@pytest.mark.slow
def test_cli_serve_passes_its_options(server: Server, tmp_path: Path) -> None:
    from gradio_client import Client

    port = free_port("127.0.0.2")
    env = {
        **os.environ, "ASKCULTURE_APP__DATA_DIR": str(tmp_path / "data"),
        "ASKCULTURE_ANSWER__BACKEND": "llm", "ASKCULTURE_LLM__MODEL": "",  # --backend overrides
    }  # fmt: skip
    cmd = [sys.executable, "-m", "askculture.cli", "serve", "--index", str(server.index_dir),
           "--host", "127.0.0.2", "--port", str(port), "--backend", "extractive"]  # fmt: skip
    url = f"http://127.0.0.2:{port}/"
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        chat = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        up = wait_until(lambda: chat.poll() is not None or _answers_http(url), timeout=240)
        assert up and chat.poll() is None, log.read_text()
        assert not _answers_http(f"http://127.0.0.1:{port}/")  # only the host it was given
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 120})  # busy loading
        assert wait_until(lambda: client.predict(api_name="/status")["ready"], timeout=240)
        status = client.predict(api_name="/status")  # the index it was given, not ./index
        assert status["documents"] == server.engine.status().documents
        assert not (tmp_path / "index").exists()
        answer = client.predict(SEED, api_name="/ask")
        assert answer["backend"] == "extractive" and answer["written"] is False
    finally:
        chat.terminate()
        chat.wait(30)

    runner = CliRunner()
    assert runner.invoke(cli_main, ["serve", "--port", "70000"]).exit_code == 2
    result = runner.invoke(cli_main, ["serve", "--index", str(server.index_dir), "--port",
                                      str(server.port)])  # fmt: skip
    assert result.exit_code == 1
    assert f"askculture: error: cannot listen on 127.0.0.1:{server.port}" in result.output


def _answers_http(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_engine_builds_a_missing_index_then_reopens_it_quickly(
    server: Server, tmp_path: Path
) -> None:
    lines: list[str] = []
    engine = ChatEngine(tmp_path / "index", server.settings, [server.extra_dir], log=lines.append)
    assert engine.status().phase == "starting"
    engine.start(background=False)
    assert engine.status().ready and engine.status().documents == 1
    assert any("building it from" in x for x in lines)
    assert any("indexing 1/1" in x for x in lines)

    lines.clear()
    started = time.monotonic()
    again = ChatEngine(tmp_path / "index", server.settings, [SAMPLE_CORPUS_DIR], log=lines.append)
    again.start()
    assert again.wait(60) and time.monotonic() - started < 30
    assert not any("building" in x for x in lines)  # an existing index is never rebuilt


# --- the real server through gradio_client -----------------------------------------------------


def test_server_built_its_index_and_reports_status(server: Server, client: Client) -> None:
    status = client.predict(api_name="/status")
    assert status["ready"] and status["phase"] == "ready"
    assert status["documents"] == 34  # the 33 sample documents + the hostile one
    assert set(status["languages"]) == {"en", "ru", "kk"}


def test_only_ask_and_status_are_public_endpoints(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/ask", "/status"}


def test_queue_is_bounded(server: Server) -> None:
    assert server.demo._queue.max_size == server.settings.app.queue_size


def test_api_ask_answers_with_a_verbatim_citation_of_the_2025_subcommission(
    server: Server, client: Client
) -> None:
    result = client.predict(SEED, api_name="/ask")
    assert isinstance(result, dict)
    assert result["question"] == SEED and not result["abstained"]
    assert "[1]" in result["text"]
    assert any(is_subcommission_2025(c) for c in result["citations"]), result["citations"]
    for c in result["citations"]:
        assert doc_text(server, c["doc_id"])[c["start"] : c["end"]] == c["quote"]
        assert c["file"].endswith(".md") and "/" not in c["file"]
        assert {"title", "date", "source", "url", "lang"} <= set(c)
    assert result["passages"]


def test_api_ask_applies_filters(client: Client) -> None:
    result = client.predict(question=SEED, date_from="2024", date_to="2024-12-31", api_name="/ask")
    assert all(c["date"].startswith("2024") for c in result["citations"])
    assert all(p["date"].startswith("2024") for p in result["passages"])
    russian = client.predict(question=SEED, languages=["ru"], api_name="/ask")
    assert russian["passages"] and all(p["lang"] == "ru" for p in russian["passages"])
    assert all(c["lang"] == "ru" for c in russian["citations"])
    publisher = "Министерство культуры Российской Федерации"  # one of the ministry's names
    names = {publisher, "Ministry of Culture of the Russian Federation"}
    only = client.predict(question=SEED, publishers=[publisher], api_name="/ask")
    assert only["passages"] and all(p["source"] in names for p in only["passages"])
    nothing = client.predict(question=SEED, date_from="1990", date_to="1991", api_name="/ask")
    assert nothing["abstained"] and nothing["citations"] == []


def test_api_ask_takes_history_for_follow_ups(client: Client) -> None:
    first = client.predict(SEED, api_name="/ask")
    follow = client.predict(
        question="Which specialists will they train together?",
        history=[[SEED, first["text"]]],
        api_name="/ask",
    )
    assert follow["question"] == "Which specialists will they train together?"
    assert follow["abstained"] or follow["citations"]


def test_api_refuses_long_questions_and_bad_filters(client: Client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="limit is 1,000"):
        client.predict("why " * 300, api_name="/ask")
    with pytest.raises(AppError, match="must look like"):
        client.predict(question=SEED, date_from="last week", api_name="/ask")
    with pytest.raises(AppError, match="empty"):
        client.predict("   ", api_name="/ask")


def test_port_in_use_is_refused_before_anything_starts(server: Server) -> None:
    with pytest.raises(ConfigError, match="cannot listen"):
        check_port("127.0.0.1", server.port)
    with pytest.raises(ConfigError, match="cannot listen"):
        serve(server.index_dir, "127.0.0.1", server.port, server.settings, block=False)


def test_app_py_reports_a_busy_port(server: Server) -> None:
    env = {"ASKCULTURE_APP__PORT": str(server.port), "ASKCULTURE_INDEX__DIR": str(server.index_dir)}
    proc = subprocess.run(
        [sys.executable, str(REPO / "app.py")], capture_output=True, text=True, timeout=300,
        env={**os.environ, **env},
    )  # fmt: skip
    assert proc.returncode == 1
    assert f"askculture: error: cannot listen on 127.0.0.1:{server.port}" in proc.stderr


def test_login_and_non_local_host(server: Server, capfd: pytest.CaptureFixture[str]) -> None:
    from gradio_client import Client

    settings = server.settings.model_copy(deep=True)
    settings.app.auth_user = "editor"
    settings.app.auth_password = SecretStr("s3cret")
    port = free_port("127.0.0.2")
    demo, engine, url = serve(
        server.index_dir, "127.0.0.2", port, settings, block=False, quiet=True
    )
    try:
        assert "warning: listening on 127.0.0.2" in capfd.readouterr().err
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises several kinds
            Client(url, verbose=False).predict(api_name="/status")
        authed = Client(url, auth=("editor", "s3cret"), verbose=False)
        assert engine.wait(120)
        assert authed.predict(api_name="/status")["ready"]
    finally:
        demo.close()


@pytest.mark.browser
@browser_test
def test_browser_answers_with_citation_and_highlighted_source(tab: Tab, server: Server) -> None:
    from playwright.sync_api import expect

    page = tab.page
    answer = ask_in_page(page, SEED)
    assert "ac-answer" in (answer.get_attribute("class") or "")
    expect(answer.locator(".ac-cite").first).to_have_text("[1]")
    assert "[1]" in answer.locator(".ac-text").inner_text()
    expect(page.locator("#ac-chat .ac-question").last).to_have_text(SEED)
    sources = answer.locator(".ac-source")
    titles = sources.locator(".ac-source-title").all_inner_texts()
    dates = sources.locator(".ac-date").all_inner_texts()
    assert any(
        d.startswith("2025-10") and any(w in t.lower() for w in SUBCOMMISSION_TITLE_WORDS)
        for t, d in zip(titles, dates, strict=True)
    ), (titles, dates)
    first = sources.first
    expect(first.locator("mark.ac-quote")).to_be_visible()
    assert first.locator("mark.ac-quote").inner_text().strip()
    expect(first.locator(".ac-publisher")).not_to_be_empty()
    expect(first.locator(".ac-lang")).to_have_text("English")
    link = first.locator(".ac-meta a")
    assert (link.get_attribute("href") or "").startswith("https://")
    assert link.get_attribute("target") == "_blank"
    screenshot(page, "web-answer.png")

    follow = ask_in_page(page, "Which specialists will they train together?")  # a follow-up
    assert follow.locator(".ac-text").inner_text().strip()
    assert page.locator("#ac-chat .ac-question").count() == 2
    assert tab.dialogs == []


@pytest.mark.browser
@browser_test
def test_browser_example_questions_ask_in_every_language(tab: Tab) -> None:
    page = tab.page
    for example in EXAMPLES:
        button = page.locator("#ac-examples button", has_text=example)
        answer = ask_in_page(page, click=button)
        assert "ac-answer" in (answer.get_attribute("class") or ""), answer.inner_text()
        assert "[1]" in answer.locator(".ac-text").inner_text()
        assert page.locator("#ac-chat .ac-question").last.inner_text() == example
        dates = answer.locator(".ac-date").all_inner_texts()
        assert any(d.startswith("2025-10") for d in dates), (example, dates)
    screenshot(page, "web-examples.png")


@pytest.mark.browser
@browser_test
def test_browser_filters_apply_to_the_next_question_and_are_visible(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    line = page.locator("#ac-filter-line")
    expect(line).to_contain_text("none")
    page.fill("#ac-date-from textarea", "2024")
    page.fill("#ac-date-to textarea", "2024-12-31")
    expect(line).to_contain_text("dates 2024 – 2024-12-31")
    answer = ask_in_page(page, SEED)
    dates = answer.locator(".ac-date").all_inner_texts()
    assert dates and all(d.startswith("2024") for d in dates), dates
    expect(answer.locator(".ac-filters")).to_contain_text("dates 2024 – 2024-12-31")

    page.fill("#ac-date-from textarea", "2025-10")
    page.fill("#ac-date-to textarea", "")
    page.locator("#ac-langs label", has_text="English").click()
    page.locator("#ac-langs label", has_text="Қазақша").click()
    expect(line).to_contain_text("languages: Русский")
    answer = ask_in_page(page, SEED)
    assert set(answer.locator(".ac-lang").all_inner_texts()) == {"Русский"}
    screenshot(page, "web-filters.png")

    publisher = "Ministry of Culture of the Russian Federation"
    names = {publisher, "Министерство культуры Российской Федерации"}
    page.fill("#ac-date-from textarea", "")
    page.click("#ac-publishers input")
    page.locator("#ac-publishers li[role='option']", has_text=publisher).click()
    page.keyboard.press("Escape")
    expect(line).to_contain_text(f"publishers: {publisher}")
    answer = ask_in_page(page, "Какие меморандумы подписала Ольга Любимова на Форуме?")
    assert set(answer.locator(".ac-publisher").all_inner_texts()) <= names

    page.fill("#ac-date-from textarea", "1990")
    page.fill("#ac-date-to textarea", "1991")
    abstained = ask_in_page(page, SEED)
    expect(abstained.locator(".ac-badge")).to_have_text("No answer found in the documents")

    page.fill("#ac-date-from textarea", "soon")
    expect(line).to_contain_text("must look like")
    refused = ask_in_page(page, SEED)
    expect(refused).to_contain_text("must look like")


@pytest.mark.browser
@browser_test
def test_browser_shows_hostile_text_as_text_and_runs_nothing(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    answer = ask_in_page(page, XSS_QUESTION)
    expect(page.locator("#ac-chat .ac-question").last).to_have_text(XSS_QUESTION)
    text = answer.inner_text()
    assert "Puppets <script>window.__pwned=1</script>" in text
    assert "Test <b>Ministry</b> of Markup" in text
    assert "<script>" in text or '<img src=x onerror="window.__pwned=1;alert(1)">' in text
    page.wait_for_timeout(1000)  # give any injected handler the time to fire
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert tab.dialogs == []
    chat = page.locator("#ac-chat")
    assert chat.locator("script").count() == 0
    assert chat.locator("img[src='x']").count() == 0
    assert chat.locator("a[href^='javascript']").count() == 0
    assert chat.locator(".ac-answer b, .ac-answer i").count() == 0
    screenshot(page, "web-hostile-document.png")


@pytest.mark.browser
@browser_test
def test_browser_refuses_questions_over_the_limit(tab: Tab) -> None:
    page = tab.page
    long_question = "Who signed the roadmap? " * 50
    refused = ask_in_page(page, long_question)
    assert "limit is 1,000" in refused.inner_text()
    assert page.input_value("#ac-question textarea") == long_question  # kept, to shorten


@pytest.mark.browser
@browser_test
def test_browser_exports_the_answer_as_markdown(tab: Tab, tmp_path: Path) -> None:
    page = tab.page
    answer = ask_in_page(page, SEED)
    quote = answer.locator("mark.ac-quote").first.inner_text().strip()
    url = answer.locator(".ac-meta a").first.get_attribute("href")
    with page.expect_download() as info:
        page.click("#ac-download")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name.endswith(".md")
    md = path.read_text(encoding="utf-8")
    assert md.startswith(f"# {SEED}")
    assert "## Sources" in md and "**[1] " in md
    assert f"<{url}>" in md
    assert " ".join(quote.split()) in " ".join(md.split())
    assert "2025-10-1" in md
    page.click("#ac-copy")
    page.wait_for_timeout(300)
    assert page.evaluate("navigator.clipboard.readText()") == md


def test_opening_the_documents_loads_the_indexing_model_in_the_background(
    e5_index: Path, tmp_path: Path
) -> None:
    """Answering runs without sentence-transformers; opening the documents tab starts loading
    it (uploads allowed only), so that an upload does not wait for it from the start."""
    script = f"""
import sys
import threading
from pathlib import Path
from askculture.embedding import get_embedder
from askculture.settings import Settings
from askculture.web.documents_page import DocumentsPage
from askculture.web.engine import ChatEngine
settings = Settings()
settings.embedding.model = "multilingual-e5-small"
engine = ChatEngine(Path({str(e5_index)!r}), settings)
engine.start(background=False)
def loading():
    return [t for t in threading.enumerate() if t.name == "askculture-warm-ingest"]
DocumentsPage(engine, Path({str(tmp_path)!r}), 20, 10, allowed=False).show("en")
print(len(loading()), "sentence_transformers" in sys.modules)
DocumentsPage(engine, Path({str(tmp_path)!r}), 20, 10, allowed=True).show("en")
started = loading()
for t in started:
    t.join(300)
print(len(started), get_embedder(settings.embedding)._st is not None)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=400, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", "False", "1", "True"]

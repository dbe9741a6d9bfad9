"""Issue 12: the bugs a first try of the chat found, and the chat its users would choose.

Each ``test_bug_N_...`` failed before its fix. The server and the browser are the session's
(``conftest.py``); screenshots go to ``test-output/`` (kept by CI as artefacts).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from askculture.answering import ask
from askculture.web.conversations import Turn
from askculture.web.i18n import catalogues, negotiate
from askculture.web.publishers import group_publishers, publisher_names
from askculture.web.render import language_name
from askculture.web.uploads import safe_name
from web_support import (
    SEED,
    XSS_QUESTION,
    Server,
    Tab,
    ask_in_page,
    browser_test,
    load,
    open_tab,
    screenshot,
    stores,
    toast_texts,
    wait_until,
)

if TYPE_CHECKING:
    from gradio_client import Client
    from playwright.sync_api import Browser, Page

RU_QUESTION = "Кто возглавил заседание подкомиссии в Москве в октябре 2025 года?"
KZ_MINISTRY = "Ministry of Culture and Information of the Republic of Kazakhstan"
LONG_QUESTION_POOL = (
    "Жүргенов академиясы қай ресейлік институтпен жол картасына қол қойды?",
    "Where were the Days of Kazakh culture held?",
    "Which ministers met in Moscow in October 2025?",
    "Which Serbian minister signed the memorandum of understanding in the field of culture with "
    "Kazakhstan in Belgrade?",
    "Қазақконцерт Қытайда қай қалаларда өнер көрсетті?",
    "Какие меморандумы подписаны в ноябре 2023?",
    "Which agreements did the ministries of culture sign in 2024?",
    "Қандай меморандумдарға қол қойылды?",
)
"""Questions for the tests that need an answer quoting two sources (taller than the chat panel:
most answers quote one); which of them the reader answers so depends on its fitted weights."""
KZ_MINISTRY_QUESTIONS = {
    "en": "Where will Kazakh artists exhibit in 2024?",
    "ru": "С кем встретилась Аида Балаева в Санкт-Петербурге?",
    "kk": "Жүргенов академиясы қай институтпен жол картасына қол қойды?",
}
"""Questions each answered by a release of the Kazakh culture ministry in that language (under
its English name only, each is answered from an English release instead)."""


def _langs_off(page: Page) -> None:
    for name in ("English", "Русский", "Қазақша"):
        box = page.locator("#ac-langs label", has_text=name).locator("input")
        if box.is_checked():
            box.click()


# --- no server ---------------------------------------------------------------------------------


def test_every_language_file_has_every_message_and_a_fourth_is_just_a_file() -> None:
    cats = catalogues()
    assert {"en", "ru", "kk"} <= set(cats)
    for lang, msgs in cats.items():
        assert set(msgs) == set(cats["en"]), lang
        for key, text in msgs.items():  # same placeholders as English
            assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", cats["en"][key]))
    assert negotiate("kk-KZ,kk;q=0.9,ru;q=0.8") == "kk"
    assert negotiate("de-DE,ru;q=0.7,en;q=0.5") == "ru"
    assert negotiate("fr, *;q=0.1") == negotiate(None) == negotiate("garbage;;;") == "en"


def test_publisher_names_in_three_languages_are_one_publisher() -> None:
    counts = {
        KZ_MINISTRY: 8, "Министерство культуры и информации Республики Казахстан": 3,
        "Қазақстан Республикасы Мәдениет және ақпарат министрлігі": 3, "Some new agency": 1,
    }  # fmt: skip
    groups = group_publishers(counts)
    assert [g.documents for g in groups] == [14, 1]
    assert groups[0].label("kk") == "Қазақстан Республикасы Мәдениет және ақпарат министрлігі"
    assert set(publisher_names([groups[0].key])) >= set(counts) - {"Some new agency"}
    assert publisher_names(["Some new agency"]) == ["Some new agency"]


def test_upload_names_never_leave_the_uploads_folder() -> None:
    assert safe_name("../../etc/passwd.md") == "passwd.md"
    assert safe_name("C:\\Users\\x\\..\\report.docx") == "report.docx"
    assert safe_name(".hidden.md") == "hidden.md"
    assert safe_name("Пресс-релиз 2025 <b>.md") == "Пресс-релиз 2025 _b_.md"
    assert safe_name("..") is None and safe_name("/") is None


# --- bugs, through gradio_client -----------------------------------------------------------------


def test_bug_1_reversed_dates_are_refused_by_the_api(client: Client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=r"The From date \(2026-01-01\) is after the To date"):
        client.predict(question=SEED, date_from="2026-01-01", date_to="2025-01-01", api_name="/ask")


def test_bug_7_and_8_refusals_are_sentences_and_one_log_line(
    client: Client, capfd: pytest.CaptureFixture[str]
) -> None:
    from gradio_client.exceptions import AppError

    capfd.readouterr()
    messages = []
    for kwargs in ({"question": SEED, "date_from": "last week"}, {"question": "   "}):
        with pytest.raises(AppError) as info:
            client.predict(**kwargs, api_name="/ask")
        messages.append(str(info.value))
    assert messages[0].startswith("The From date must look like"), messages
    assert messages[1][:1].isupper() and "empty" in messages[1], messages
    err = wait_until(lambda: capfd.readouterr().err or "", timeout=3)
    logged = [x for x in err.splitlines() if x.strip()]
    assert "Traceback" not in err, err
    assert len([x for x in logged if "refused /ask" in x]) == 2 and len(logged) == 2, logged


def test_bug_9_a_publisher_is_all_its_names(client: Client, server: Server) -> None:
    result = client.predict(question=SEED, publishers=[KZ_MINISTRY], api_name="/ask")
    names = set(publisher_names([KZ_MINISTRY]))
    sources = {p["source"] for p in result["passages"]}
    assert sources <= names and len(sources) >= 2, sources  # its releases in several languages
    assert {p["lang"] for p in result["passages"]} >= {"en", "kk"}


# --- bugs, in the browser --------------------------------------------------------------------


@pytest.mark.browser
@browser_test
def test_bug_1_reversed_dates_are_refused_in_the_page(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.fill("#ac-date-from textarea", "2026-01-01")
    page.fill("#ac-date-to textarea", "2025-01-01")
    expect(page.locator("#ac-filter-line")).to_contain_text("is after the To date")
    refused = ask_in_page(page, SEED)
    expect(refused).to_contain_text("The From date (2026-01-01) is after the To date (2025-01-01)")
    assert "ac-refused" in (refused.get_attribute("class") or "")
    assert page.locator("#ac-chat .ac-badge").count() == 0  # not "No answer found"


@pytest.mark.browser
@browser_test
def test_bug_2_every_rating_state_shown_is_the_stored_state(tab: Tab, server: Server) -> None:
    page = tab.page
    answer = ask_in_page(page, SEED)
    assert "ac-answer" in (answer.get_attribute("class") or "")
    like = page.locator("#ac-chat button[aria-label='Like']").last
    like.click()
    assert wait_until(lambda: any("your rating was saved" in t for t in toast_texts(page)), 10)
    turn_id = wait_until(lambda: _last_turn_id(server), 10)
    assert wait_until(lambda: (r := stores(server).feedback.get(turn_id)) and r.rating == 1)
    page.locator("#ac-chat button[aria-label='Liked']").last.click()  # take the vote back
    assert wait_until(lambda: stores(server).feedback.get(turn_id) is None), "+1 left stored"

    page.fill("#ac-date-from textarea", "soon")  # a refusal can be rated too, and is stored
    ask_in_page(page, SEED)
    page.locator("#ac-chat button[aria-label='Dislike']").last.click()
    refusal_id = wait_until(lambda: _last_turn_id(server, "refused"), 10)
    record = wait_until(lambda: stores(server).feedback.get(refusal_id), 10)
    assert record is not None and record.rating == -1 and "must look like" in record.answer

    load(page, server)  # after a reload the thumbs show what is stored
    page.wait_for_selector("#ac-chat .ac-answer")
    assert page.locator("#ac-chat button[aria-label='Disliked']").count() == 1
    assert page.locator("#ac-chat button[aria-label='Liked']").count() == 0


def _last_turn_id(server: Server, kind: str = "answer") -> str | None:
    convs = stores(server).conversations
    import sqlite3

    with sqlite3.connect(convs.path) as con:
        row = con.execute(
            "SELECT id FROM turns WHERE kind = ? ORDER BY rowid DESC LIMIT 1", (kind,)
        ).fetchone()
    return str(row[0]) if row else None


def _visible_in_chat(page: Page, selector: str) -> dict[str, float]:
    return dict(
        page.evaluate(
            """(sel) => {
          const el = [...document.querySelectorAll(sel)].pop();
          let box = el.parentElement;
          while (box && !(/(auto|scroll)/.test(getComputedStyle(box).overflowY)
                 && box.scrollHeight > box.clientHeight)) { box = box.parentElement; }
          const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
          const hit = document.elementFromPoint(r.left + 30, Math.max(r.top, b.top) + 6);
          return {top: r.top, height: r.height, boxTop: b.top, boxBottom: b.bottom,
                  boxHeight: box.clientHeight, covered: hit && !el.contains(hit) ? 1 : 0};
        }""",
            selector,
        )
    )


@pytest.fixture(scope="session")
def long_questions(server: Server) -> list[str]:
    """Two questions of the pool the served index answers with quotes from two documents."""
    found = [
        q
        for q in LONG_QUESTION_POOL
        if len({c.doc_id for c in ask(q, server.index_dir, settings=server.settings).citations})
        >= 2
    ]
    if len(found) < 2:
        pytest.fail(f"the reader quotes two documents for fewer than two questions: {found}")
    return found[:2]


@pytest.mark.browser
@browser_test
def test_bug_3_and_4_the_new_answer_starts_in_view_and_nothing_covers_it(
    tab: Tab, long_questions: list[str]
) -> None:
    page = tab.page
    first = ask_in_page(page, long_questions[0])
    answer = ask_in_page(page, long_questions[1])  # a long answer under a long one
    assert first.locator(".ac-source").count() >= 2 and answer.locator(".ac-source").count() >= 2
    page.wait_for_timeout(800)
    pos = _visible_in_chat(page, "#ac-chat .ac-answer")
    assert pos["height"] > pos["boxHeight"], pos  # scrolled to its end, its start would be hidden
    assert pos["boxTop"] - 1 <= pos["top"] <= pos["boxTop"] + 120, pos  # its start is in view
    assert pos["covered"] == 0, "something covers the first line of the answer"
    label = page.locator("#ac-chat [data-testid='block-label']")
    assert label.count() == 0 or not label.first.is_visible()
    screenshot(page, "web-answer-in-view.png", full_page=False)


@pytest.mark.browser
@browser_test
def test_bug_5_markers_jump_to_their_source(tab: Tab, long_questions: list[str]) -> None:
    page = tab.page
    answer = ask_in_page(page, long_questions[0])  # two quotes, two sources
    markers = answer.locator("a.ac-cite")
    targets = [(m.get_attribute("href") or "").removeprefix("#") for m in markers.all()]
    assert len(set(targets)) >= 2, targets
    assert sorted(set(targets)) == sorted(
        s.get_attribute("id") or "" for s in answer.locator(".ac-source").all()
    )  # every marker has its source in this answer, and every source a marker
    for i in reversed(range(len(targets))):  # the last first: its source is below the fold
        answer.evaluate("a => a.scrollIntoView()")
        markers.nth(i).click()
        source = answer.locator(f"#{targets[i]}")
        assert wait_until(lambda s=source: "ac-flash" in (s.get_attribute("class") or ""), 3)
        pos = _visible_in_chat(page, f"#{targets[i]}")
        assert pos["boxTop"] - 1 <= pos["top"] < pos["boxBottom"] - 40, (i, pos)  # in view
        assert page.evaluate("document.activeElement.id") == targets[i]


@pytest.mark.browser
@browser_test
def test_bug_6_markdown_export_keeps_the_characters(tab: Tab, tmp_path: Path) -> None:
    page = tab.page
    ask_in_page(page, XSS_QUESTION)
    with page.expect_download() as info:
        page.click("#ac-download")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    md = path.read_text(encoding="utf-8")
    assert "Puppets <script>window.__pwned=1</script>" in md
    assert "&lt;" not in md and "&gt;" not in md and "&amp;" not in md


@pytest.mark.browser
@browser_test
def test_bug_7_messages_in_the_page_start_with_a_capital(tab: Tab) -> None:
    page = tab.page
    page.fill("#ac-date-from textarea", "soon")
    refused = ask_in_page(page, SEED)
    text = refused.inner_text().strip()
    assert text.startswith("The From date must look like"), text
    line = page.locator("#ac-filter-line").inner_text()
    assert "Filters: The From date" in line, line


@pytest.mark.browser
@browser_test
def test_bug_9_one_entry_per_publisher_and_its_releases_in_every_language(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.click("#ac-publishers input")
    options = page.locator("#ac-publishers li[role='option']").all_inner_texts()
    ministry = [o for o in options if "Culture and Information" in o or "ақпарат" in o.lower()
                or "культуры и информации" in o]  # fmt: skip
    assert len(ministry) == 1, options
    page.locator("#ac-publishers li[role='option']", has_text=KZ_MINISTRY).click()
    page.keyboard.press("Escape")
    expect(page.locator("#ac-filter-line")).to_contain_text(f"publishers: {KZ_MINISTRY}")
    names = publisher_names([KZ_MINISTRY])
    cited: dict[str, set[str]] = {}
    for lang, question in KZ_MINISTRY_QUESTIONS.items():
        answer = ask_in_page(page, question)
        sources = answer.locator(".ac-source:not(.ac-closest)")  # cited, not merely close
        assert sources.count() >= 1, question
        publishers = set(sources.locator(".ac-publisher").all_inner_texts())
        assert publishers <= set(names), publishers  # only this ministry's releases
        cited[lang] = set(sources.locator(".ac-lang").all_inner_texts())
    assert all(language_name(lang) in cited[lang] for lang in cited), cited  # in every language


@pytest.mark.browser
@browser_test
def test_bug_10_no_language_ticked_says_all_languages(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    _langs_off(page)
    expect(page.locator("#ac-langs")).to_contain_text("No box ticked = all languages")
    expect(page.locator("#ac-filter-line")).to_contain_text("none (all dates, languages")
    answer = ask_in_page(page, SEED)
    assert answer.locator(".ac-filters").count() == 0  # asked without a language filter


@pytest.mark.browser
@browser_test
def test_bug_11_accessible_names_and_a_highlight_that_is_not_colour_only(tab: Tab) -> None:
    page = tab.page
    assert page.get_by_role("textbox", name="Your question").count() == 1
    answer = ask_in_page(page, SEED)
    page.wait_for_timeout(500)
    labels = [
        x.get_attribute("aria-label") or ""
        for x in page.locator("#ac-chat [data-testid='bot'], #ac-chat [data-testid='user']").all()
    ]
    assert labels and all("<" not in x for x in labels), labels
    assert any(x.startswith("As a result of the meeting") for x in labels), labels  # its text
    mark = answer.locator("mark.ac-quote").first
    style = mark.evaluate(
        "m => getComputedStyle(m).textDecorationLine + ' ' + getComputedStyle(m).outlineStyle"
    )
    assert "underline" in style, style
    cue = answer.locator(".ac-source").first.locator(".ac-sr").first
    assert cue.inner_text().strip() == "Quoted sentence:"


# --- the features ----------------------------------------------------------------------------


@pytest.mark.browser
@browser_test
def test_the_page_speaks_kazakh_and_russian(browser: Browser, server: Server) -> None:
    from playwright.sync_api import expect

    tab = open_tab(browser, server, accept_language="kk-KZ,kk;q=0.9,en;q=0.5")
    page = tab.page
    try:
        assert page.evaluate("document.documentElement.lang") == "kk"
        expect(page.locator("#ac-ask")).to_have_text("Сұрау")
        assert page.get_by_role("textbox", name="Сіздің сұрағыңыз").count() == 1
        answer = ask_in_page(page, "Жүргенов академиясы қай институтпен жол картасына қол қойды?")
        expect(answer.locator(".ac-heading").first).to_have_text("Дереккөздер")
        expect(page.locator("#ac-status")).to_contain_text("Дайын")
        screenshot(page, "web-kazakh.png")

        page.locator("#ac-ui-lang label", has_text="Русский").click()  # the visible switch
        page.wait_for_function("document.documentElement.lang === 'ru'")
        ru = page.locator("#ac-ui-lang label", has_text="Русский").locator("input")
        expect(ru).to_be_checked()  # the switch shows the language in use
        expect(page.locator("#ac-ask")).to_have_text("Спросить")
        expect(page.locator("#ac-chat .ac-heading").first).to_have_text("Источники")  # re-rendered
        answer = ask_in_page(page, RU_QUESTION)
        expect(answer.locator(".ac-heading").first).to_have_text("Источники")
        page.fill("#ac-date-from textarea", "2026")
        page.fill("#ac-date-to textarea", "2025")
        expect(page.locator("#ac-filter-line")).to_contain_text("позже даты «По»")
        screenshot(page, "web-russian.png")

        load(page, server)  # the choice is kept over the browser's language
        assert page.evaluate("document.documentElement.lang") == "ru"
        expect(ru).to_be_checked()
        expect(page.locator("#ac-ask")).to_have_text("Спросить")
        assert tab.errors == []
    finally:
        tab.context.close()


@pytest.mark.browser
@browser_test
def test_direct_answer_is_shown_above_the_quotes(browser: Browser, server: Server) -> None:
    """The reader fills ``short_answer`` (not yet on this branch): a saved answer whose short
    answer is cut from its first quote, as the reader does, is shown with it leading."""
    real = ask(SEED, server.index_dir, settings=server.settings)
    assert real.citations and not real.abstained
    quote = real.citations[0].quote
    short = "GITIS" if "GITIS" in quote else quote.split()[0]
    body = {**real.to_dict(), "short_answer": short, "short_answer_n": 1}
    browser_id = "direct-answer-test-browser"
    stores(server).conversations.add_turn(browser_id, None, Turn(SEED, "answer", body))
    tab = open_tab(browser, server, storage={"askculture-browser": browser_id})
    try:
        page = tab.page
        page.wait_for_selector("#ac-chat .ac-answer")
        answer = page.locator("#ac-chat .ac-answer").first
        direct = answer.locator(".ac-direct")
        assert direct.locator(".ac-short").inner_text() == short
        assert direct.locator("a.ac-cite").inner_text() == "[1]"
        first, quotes = direct.bounding_box(), answer.locator(".ac-text").bounding_box()
        assert first and quotes and first["y"] < quotes["y"]
        screenshot(page, "web-direct-answer.png", full_page=False)
    finally:
        tab.context.close()


@pytest.mark.browser
@browser_test
def test_a_source_opens_the_whole_document_at_its_quote(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    answer = ask_in_page(page, XSS_QUESTION)
    button = answer.locator("button.ac-open").first
    button.click()
    viewer = page.locator("#ac-viewer")
    expect(viewer).to_be_visible()
    mark = viewer.locator("#ac-doc-quote")
    expect(mark).to_be_visible()
    quote = answer.locator("mark.ac-quote").first.inner_text()
    assert " ".join(mark.inner_text().split()) == " ".join(quote.split())
    text = viewer.locator(".ac-doc-text").inner_text()
    assert "<script>" in text  # the document's text, shown as text
    assert viewer.locator("script, img").count() == 0
    page.wait_for_timeout(1000)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    box, frame = mark.bounding_box(), viewer.bounding_box()
    assert box and frame and frame["y"] <= box["y"] <= frame["y"] + frame["height"]
    screenshot(page, "web-document-viewer.png", full_page=False)
    page.click("#ac-viewer-close")
    expect(viewer).to_be_hidden()


UPLOADED_DOC = """\
---
title: "Karaganda puppet theatre opens the Zhezkazgan touring season"
date: 2025-04-14
lang: en
source: "Ministry of Culture and Information of the Republic of Kazakhstan"
---

KARAGANDA, 14 April 2025 — The Karaganda regional puppet theatre opened its Zhezkazgan touring
season with the premiere of "The Golden Saiga", directed by Aigerim Tulegenova.
"""


@pytest.mark.browser
@browser_test
def test_documents_are_added_from_the_browser_and_removed(
    tab: Tab, server: Server, tmp_path: Path, make_docx: Any
) -> None:
    from playwright.sync_api import expect

    page = tab.page
    good = tmp_path / "2025-04-14-karaganda-puppets.md"
    good.write_text(UPLOADED_DOC, encoding="utf-8")
    memo = make_docx(tmp_path / "saiga-memo.docx", ["ASTANA, 2 May 2025", "Saiga memo text."])
    wrong = tmp_path / "setup.exe"
    wrong.write_bytes(b"MZ" + b"\0" * 100)
    big = tmp_path / "huge.txt"
    big.write_text("Большой файл. " * 90_000, encoding="utf-8")  # > 1 MB, the test limit
    page.click("#ac-tab-docs-button, [role='tab']:has-text('Documents')")
    page.evaluate("""() => { window.__sawProgress = false;
      const running = '#ac-upload-report .ac-progress:not(.ac-done) progress';
      new MutationObserver(() => { if (document.querySelector(running))
        { window.__sawProgress = true; } }).observe(document.body,
        {childList: true, subtree: true}); }""")
    page.set_input_files(
        "#ac-upload input[type='file']", [str(good), str(memo), str(wrong), str(big)]
    )
    page.wait_for_timeout(1500)
    page.click("#ac-upload-go")
    report = page.locator("#ac-upload-report")
    try:  # the progress shows while the files are indexed (a short while: best effort)
        report.locator(".ac-progress:not(.ac-done) progress").wait_for(timeout=20_000)
        screenshot(page, "web-upload-progress.png", full_page=False)
    except Exception:
        pass
    expect(report.locator(".ac-done")).to_be_visible(timeout=180_000)
    assert page.evaluate("window.__sawProgress"), "no progress was shown"
    rejected = report.locator(".ac-rejected").all_inner_texts()
    assert any("setup.exe" in r and "file type is not accepted" in r for r in rejected), rejected
    assert any("huge.txt" in r and "larger than 1 MB" in r for r in rejected), rejected
    expect(report).to_contain_text("2 files added")
    assert report.locator(".ac-done progress").get_attribute("value") == "2"
    screenshot(page, "web-upload.png")

    uploads = Path(server.settings.app.data_dir) / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == [good.name, memo.name]
    table = page.locator("#ac-doc-table")
    expect(table).to_contain_text("Karaganda puppet theatre opens")
    page.click("[role='tab']:has-text('Chat')")
    answer = ask_in_page(page, "Who directed The Golden Saiga in Zhezkazgan?")
    assert "Tulegenova" in answer.inner_text()

    page.click("[role='tab']:has-text('Documents')")
    for name in (good.name, memo.name):
        page.click("#ac-remove-choice input")
        page.locator("#ac-remove-choice li[role='option']", has_text=name).click()
        page.click("#ac-remove")
        expect(page.locator("#ac-remove-report")).to_contain_text("Removed")
        expect(table).not_to_contain_text(name, timeout=15_000)
    assert list(uploads.iterdir()) == []
    assert server.engine.status().documents == 34
    data = Path(server.settings.app.data_dir).resolve()
    assert Path(__import__("os").environ["GRADIO_TEMP_DIR"]).resolve().is_relative_to(data)


@pytest.mark.browser
@browser_test
def test_conversations_survive_a_reload_and_can_be_deleted(tab: Tab, server: Server) -> None:
    from playwright.sync_api import expect

    page = tab.page
    ask_in_page(page, SEED)
    ask_in_page(page, "Which specialists will they train together?")
    load(page, server)
    page.wait_for_selector("#ac-chat .ac-answer")
    assert page.locator("#ac-chat .ac-question").count() == 2  # the conversation is back
    conversations = page.locator("#ac-conversations label")
    expect(conversations).to_have_count(1)
    expect(conversations.first).to_contain_text(SEED)

    page.click("#ac-new")
    expect(page.locator("#ac-chat .ac-question")).to_have_count(0)
    ask_in_page(page, RU_QUESTION)
    expect(conversations).to_have_count(2)
    expect(conversations.first).to_contain_text(RU_QUESTION[:30])
    screenshot(page, "web-conversations.png", full_page=False)

    conversations.nth(1).click()  # back to the first one
    expect(page.locator("#ac-chat .ac-question")).to_have_count(2)
    page.click("#ac-delete-conv")
    expect(conversations).to_have_count(1)
    expect(page.locator("#ac-chat .ac-question")).to_have_count(0)
    browser_id = page.evaluate("localStorage.getItem('askculture-browser')")
    assert [c.title for c in stores(server).conversations.of_browser(browser_id)] == [RU_QUESTION]


@pytest.mark.browser
@browser_test
def test_thumbs_down_asks_for_a_comment_and_keeps_it(tab: Tab, server: Server) -> None:
    from playwright.sync_api import expect

    page = tab.page
    ask_in_page(page, RU_QUESTION)
    expect(page.locator("#ac-comment")).to_be_hidden()
    page.locator("#ac-chat button[aria-label='Dislike']").last.click()
    expect(page.locator("#ac-comment")).to_be_visible()
    comment = "The date is right, but the <b>minister</b> is missing."
    page.fill("#ac-comment-text textarea", comment)
    page.click("#ac-comment-send")
    expect(page.locator("#ac-comment")).to_be_hidden()
    turn_id = wait_until(lambda: _last_turn_id(server), 10)
    record = wait_until(lambda: (r := stores(server).feedback.get(turn_id)) and r.comment and r, 10)
    assert record and record.rating == -1 and record.comment == comment
    assert record.question == RU_QUESTION and "[1]" in record.answer  # what was asked and shown
    assert record.sources and record.sources[0]["quote"] and record.sources[0]["url"]

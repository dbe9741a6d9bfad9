"""The web chat's test support: one real server per session, a real browser, helpers.

The server starts on a free port with an empty index folder and builds the index itself (sample
corpus + a hostile document full of ``<script>`` and ``onerror``), exactly as ``make run`` does on
a fresh machine. Browser tests drive Debian's Chromium with Playwright and are skipped (with the
reason) only when ``chromium`` is not on PATH. The fixtures are declared in ``conftest.py``.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from askculture.feedback import FeedbackStore
from askculture.settings import SAMPLE_CORPUS_DIR, AppSettings, Settings
from askculture.web import ChatEngine, serve
from askculture.web.conversations import ConversationStore

if TYPE_CHECKING:
    import gradio as gr
    from playwright.sync_api import Browser, Locator, Page

REPO = Path(__file__).resolve().parents[1]
OUTPUT_DIR = REPO / "test-output"
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SEED = "Who signed the roadmap with GITIS?"
ANSWER_TIMEOUT_MS = 120_000
SUBCOMMISSION_TITLE_WORDS = ("sub-commission", "подкомисс", "кіші комисс")

XSS_DOC = """\
---
title: "Puppets <script>window.__pwned=1</script> <img src=x onerror=\\"window.__pwned=1\\">"
date: 2025-03-03
lang: en
source: "Test <b>Ministry</b> of Markup"
url: "javascript:window.__pwned=1"
---

ZANZIBAR — The international puppet theatre festival opened with a parade of marionettes \
<script>window.__pwned=1;alert('xss')</script> through the old town.

The festival jury awarded the golden marionette to the Almaty puppet troupe \
<img src=x onerror="window.__pwned=1;alert(1)"> for its staging of **Kozy Korpesh** and \
_Bayan Sulu_ [read more](javascript:alert(1)) $$x^2$$.
"""
XSS_QUESTION = (
    'Who received the golden marionette at the puppet festival? <img src=x onerror="window.'
    '__pwned=1"> <script>window.__pwned=1</script>'
)

browser_test = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not on PATH (apt-get install chromium); browser tests need it",
)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """The session's running chat."""

    url: str
    port: int
    demo: gr.Blocks
    engine: ChatEngine
    settings: Settings
    index_dir: Path
    extra_dir: Path

    @property
    def feedback(self) -> FeedbackStore:
        return FeedbackStore.in_dir(self.settings.app.data_dir)


def start_server(
    root: Path, settings: Settings | None = None, index: Path | None = None
) -> Iterator[Server]:
    """The real server on a free port, its index built at start from an empty folder.

    Args:
        root: A fresh folder for the index, the data and the extra (hostile) document.
        settings: Settings to start from (default: the defaults); the chat's limits and data
            folder are set here.
        index: An index to serve as it is (default: built at start under ``root``).
    """
    extra = root / "extra"
    extra.mkdir()
    (extra / "2025-03-03-puppet-festival.md").write_text(XSS_DOC, encoding="utf-8")
    settings = (settings or Settings()).model_copy(deep=True)
    # The data folder (exports, uploads) is where a real one is, beside the model cache: outside
    # the temporary folder and the working directory, which the web server trusts by default.
    home = settings.embedding.models_dir.parent
    home.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="test-data-", dir=home))
    settings.app = AppSettings(
        data_dir=data, max_question_chars=1000, max_upload_mb=1, max_upload_files=4
    )
    index = index or root / "index"
    port = free_port()
    demo, engine, url = serve(
        index, "127.0.0.1", port, settings, corpus=[SAMPLE_CORPUS_DIR, extra], block=False,
        quiet=True,
    )  # fmt: skip
    try:
        assert engine.wait(timeout=1200), engine.status()
        yield Server(url, port, demo, engine, settings, index, extra)
    finally:
        demo.close()
        shutil.rmtree(data, ignore_errors=True)


def doc_text(server: Server, doc_id: str) -> str:
    """The full text of an indexed document."""
    from askculture.retrieval import open_index

    return open_index(server.index_dir, settings=server.settings).reader.document(doc_id).text


def is_subcommission_2025(citation: dict[str, Any]) -> bool:
    """True for a citation of the October 2025 sub-commission reports."""
    title = str(citation["title"]).lower()
    return str(citation["date"]).startswith("2025-10") and any(
        w in title for w in SUBCOMMISSION_TITLE_WORDS
    )


def launch_browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright (the test is skipped without it)."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """A page on the chat, with every dialog it tried to open and its browser context."""

    page: Page
    dialogs: list[str]
    context: Any = None
    errors: list[str] = field(default_factory=list)


def open_tab(
    browser: Browser,
    server: Server,
    *,
    accept_language: str = "en-US,en;q=0.9",
    storage: dict[str, str] | None = None,
    viewport: tuple[int, int] = (1400, 1000),
) -> Tab:
    """A new browser context on the chat, ready (index loaded, page language applied).

    Args:
        browser: The browser.
        server: The chat.
        accept_language: The ``Accept-Language`` header the browser sends.
        storage: Local storage to set before the page loads (e.g. the browser id).
        viewport: Window size.
    """
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True,
        extra_http_headers={"Accept-Language": accept_language},
    )  # fmt: skip
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url.rstrip("/"))
    if storage:
        items = "".join(f"localStorage.setItem({k!r}, {v!r});" for k, v in storage.items())
        context.add_init_script(f"if (!sessionStorage.getItem('ac-init')) {{ {items} "
                                "sessionStorage.setItem('ac-init', '1'); }")  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(30_000)
    tab = Tab(page, [], context)

    def on_dialog(dialog: Any) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda e: tab.errors.append(str(e)))
    load(page, server)
    return tab


def load(page: Page, server: Server) -> None:
    """Open (or reload) the chat and wait until it is ready in its language."""
    page.goto(server.url)
    page.wait_for_selector("#ac-question textarea")
    page.wait_for_selector("#ac-status .ac-ready")
    page.wait_for_function("document.documentElement.lang !== ''")
    page.wait_for_function("!!localStorage.getItem('askculture-browser')")
    page.wait_for_timeout(300)


def replies(page: Page) -> Locator:
    return page.locator("#ac-chat .ac-answer, #ac-chat .ac-notice:not(.ac-pending)")


def ask_in_page(
    page: Page, question: str | None = None, *, click: Locator | None = None
) -> Locator:
    """Ask (type + Enter, or click a button) and return the new reply once it is there."""
    from playwright.sync_api import expect

    page.wait_for_function("!document.querySelector('#ac-chat .ac-pending')")
    page.wait_for_timeout(200)  # the previous answer's last updates (the cleared box) land
    before = replies(page).count()
    if click is not None:
        click.click()
    else:
        box = page.locator("#ac-question textarea")
        box.fill(question or "")
        expect(box).to_have_value(question or "")
        box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#ac-chat .ac-answer, "
        "#ac-chat .ac-notice:not(.ac-pending)').length > n",
        arg=before, timeout=ANSWER_TIMEOUT_MS,
    )  # fmt: skip
    return replies(page).nth(before)


REPLY_CLOCK_JS = """() => {
  const chat = document.getElementById('ac-chat');
  const answers = () => chat.querySelectorAll('.ac-answer, .ac-notice:not(.ac-pending)').length;
  const clock = { asked: null, searching: null, writing: null, draft: null, answered: null,
                  drafts: [], before: answers() };
  window.__acClock = clock;
  if (window.__acClockOn) { return; }
  window.__acClockOn = true;
  document.addEventListener('keydown', (e) => {
    const c = window.__acClock;
    if (e.key === 'Enter' && !e.shiftKey && e.target.closest('#ac-question') && c.asked === null) {
      c.asked = performance.now();
    }
  }, true);
  new MutationObserver(() => {
    const c = window.__acClock, now = performance.now();
    if (c.asked === null || c.answered !== null) { return; }
    if (c.searching === null && chat.querySelector('.ac-notice.ac-pending')) { c.searching = now; }
    const draft = chat.querySelector('.ac-draft');
    if (draft && c.writing === null) { c.writing = now; }
    const text = draft ? draft.querySelector('.ac-draft-text').textContent.trim() : '';
    if (text && c.drafts[c.drafts.length - 1] !== text) {
      c.drafts.push(text);
      if (c.draft === null) { c.draft = now; }
    }
    if (!chat.querySelector('.ac-pending') && answers() > c.before) { c.answered = now; }
  }).observe(chat, { childList: true, subtree: true, characterData: true });
}"""
"""Starts the page's clock for the next question (asked with Enter): when the "searching" notice,
the written answer's draft bubble, its first text and the answer (or a refusal / error notice)
appeared (``performance.now()`` ms), and every draft text shown."""


def start_reply_clock(page: Page) -> None:
    """Start timing the next question in the page (see :data:`REPLY_CLOCK_JS`)."""
    page.evaluate(REPLY_CLOCK_JS)


def reply_clock(page: Page) -> dict[str, Any]:
    """The page's clock of the last question: ``asked``, ``searching``, ``writing``, ``draft``,
    ``answered`` (ms, or None for what did not happen) and ``drafts`` (the texts shown)."""
    clock: dict[str, Any] = page.evaluate("window.__acClock")
    return clock


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under test-output/ (kept by CI as an artefact)."""
    OUTPUT_DIR.mkdir(exist_ok=True)
    path = OUTPUT_DIR / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


def wait_until(check: Any, timeout: float = 15.0, step: float = 0.2) -> Any:
    """Poll ``check()`` until it returns something truthy (then return it), or time out."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def toast_texts(page: Page) -> list[str]:
    """The texts of the notifications (toasts) on the page."""
    return [t.strip() for t in page.locator("[class*='toast']").all_inner_texts()]


@dataclass
class Stores:
    """The server's stores, opened afresh (what a later session would read)."""

    feedback: FeedbackStore
    conversations: ConversationStore


def stores(server: Server) -> Stores:
    """The server's feedback and conversation stores."""
    data = server.settings.app.data_dir
    return Stores(FeedbackStore.in_dir(data), ConversationStore.in_dir(data))

"""Shared fixtures: real files of every supported document format, and broken ones.

``sample_files`` writes them once per test session; ``make_pdf`` and ``make_docx`` build more
with the real libraries (reportlab, python-docx) for tests that need specific content.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import askculture
import web_support
from askculture.settings import SAMPLE_CORPUS_DIR, Settings

if TYPE_CHECKING:
    from gradio_client import Client
    from playwright.sync_api import Browser

    from llm_support import LlamaServer

CYRILLIC_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
"""A TrueType font with Cyrillic and Kazakh letters; PDFs fall back to Helvetica without it."""

PdfMaker = Callable[..., Path]
DocxMaker = Callable[..., Path]


def write_pdf(
    path: Path,
    pages: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    encrypt: object = None,
) -> Path:
    """Write a real PDF with one list of text lines per page.

    Uses DejaVu Sans (Cyrillic-capable) if installed, else Helvetica (Latin only).
    ``encrypt`` is passed to reportlab's Canvas (a user password string, or a
    ``reportlab.lib.pdfencrypt.StandardEncryption``).
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    font = "Helvetica"
    if CYRILLIC_FONT.exists():
        if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(CYRILLIC_FONT)))
        font = "DejaVuSans"
    pdf = canvas.Canvas(str(path), encrypt=encrypt)
    if title is not None:
        pdf.setTitle(title)
    for lines in pages:
        pdf.setFont(font, 11)
        y = 800.0
        for line in lines:
            pdf.drawString(60, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return path


def write_docx(
    path: Path,
    paragraphs: Sequence[str],
    *,
    title: str | None = None,
    table: Sequence[Sequence[str]] | None = None,
    author: str | None = None,
) -> Path:
    """Write a real DOCX: the paragraphs, then an optional table, with optional core title."""
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    if title is not None:
        document.core_properties.title = title
    if author is not None:
        document.core_properties.author = author
    document.save(str(path))
    return path


@pytest.fixture(scope="session")
def cyrillic_pdf_font() -> bool:
    """True if PDFs written by ``make_pdf`` can contain Cyrillic text."""
    return CYRILLIC_FONT.exists()


@pytest.fixture(scope="session")
def make_pdf() -> PdfMaker:
    """``make_pdf(path, pages, *, title=None, encrypt=None) -> path`` (see ``write_pdf``)."""
    return write_pdf


@pytest.fixture(scope="session")
def make_docx() -> DocxMaker:
    """``make_docx(path, paragraphs, *, title=None, table=None, author=None) -> path``."""
    return write_docx


SAMPLE_MD = """\
---
title: "Kazakhstan and Russia hold culture sub-commission"
date: 2025-10-11
lang: en
source: "Ministry of Culture and Information of the Republic of Kazakhstan"
url: https://example.org/news/subcommission
---

MOSCOW, 11 October 2025 — The fourth meeting of the sub-commission on cultural cooperation
took place in Moscow.

The ministers agreed on a plan of joint events for 2026.
"""

SAMPLE_TXT_RU = (
    "Министерство культуры провело совещание\n\n"
    "АСТАНА, 25 августа 2023 года. Министр культуры и спорта провёл совещание "
    "с руководителями театров и музеев.\n"
)

SAMPLE_HTML = """\
<!DOCTYPE html>
<html lang="ru">
<head>
  <meta charset="utf-8">
  <title>Дни культуры Таджикистана | Министерство культуры</title>
  <meta property="og:title" content="Дни культуры Таджикистана открылись в Астане">
  <meta property="og:site_name" content="Министерство культуры и спорта РК">
  <meta property="article:published_time" content="2023-08-25T10:00:00+06:00">
  <link rel="canonical" href="https://example.org/ru/news/tajik-culture-days">
  <style>p { color: red; }</style>
  <script>var tracking = "SCRIPT-SHOULD-VANISH";</script>
</head>
<body>
  <header>Главная | Новости | HEADER-SHOULD-VANISH</header>
  <nav><a href="/">NAV-SHOULD-VANISH</a></nav>
  <main>
    <article>
      <h1>Дни культуры Таджикистана открылись в Астане</h1>
      <p>В Астане открылись Дни культуры Республики Таджикистан.</p>
      <p>Программа охватывает Астану, Алматы и Шымкент.</p>
    </article>
  </main>
  <footer>© Министерство FOOTER-SHOULD-VANISH</footer>
</body>
</html>
"""

SAMPLE_JSONL = (
    '{"id": "a1", "title": "First record", "date": "2024-05-13", "lang": "en", '
    '"text": "The President received the Minister of Culture."}\n'
    '{"text": "Мемлекет басшысы Мәдениет және ақпарат министрін қабылдады.", '
    '"url": "https://example.org/kk/1"}\n'
)


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One real file per supported format, plus broken files, in a session temp dir.

    Good files (keys): ``md``, ``txt``, ``html``, ``pdf``, ``docx``, ``jsonl`` (2 records).
    Bad files: ``pdf_truncated``, ``pdf_encrypted`` (password "pw"), ``docx_garbage`` (random
    bytes), ``txt_empty`` (0 bytes), ``txt_binary`` and ``md_binary`` (random bytes),
    ``md_bad_yaml`` (broken front matter), ``unsupported`` (a ``.xyz`` file).
    Good files are under ``good/``, bad ones under ``bad/``.
    """
    root = tmp_path_factory.mktemp("sample_files")
    good, bad = root / "good", root / "bad"
    good.mkdir()
    bad.mkdir()
    noise = random.Random(1234).randbytes(4096)
    files: dict[str, Path] = {}

    files["md"] = good / "2025-10-11-subcommission.md"
    files["md"].write_text(SAMPLE_MD, encoding="utf-8")
    files["txt"] = good / "meeting-ru.txt"
    files["txt"].write_text(SAMPLE_TXT_RU, encoding="utf-8")
    files["html"] = good / "tajik-culture-days.html"
    files["html"].write_text(SAMPLE_HTML, encoding="utf-8")
    files["pdf"] = write_pdf(
        good / "20240611_grants.pdf",
        [
            ["Presidential Culture Fund announces grants", "", "MOSCOW, 11 June 2024 -"],
            ["The fund supported 120 projects in 2024."],
        ],
        title="Presidential Culture Fund grants",
    )
    files["docx"] = write_docx(
        good / "memorandum.docx",
        ["ASTANA, 29 November 2023", "Kazakhstan and Serbia signed a culture memorandum."],
        title="Kazakhstan and Serbia sign a culture memorandum",
        table=[["Party", "Signatory"], ["Kazakhstan", "Minister of Culture"]],
    )
    files["jsonl"] = good / "records.jsonl"
    files["jsonl"].write_text(SAMPLE_JSONL, encoding="utf-8")

    pdf_bytes = files["pdf"].read_bytes()
    files["pdf_truncated"] = bad / "truncated.pdf"
    files["pdf_truncated"].write_bytes(pdf_bytes[: len(pdf_bytes) // 2])
    files["pdf_encrypted"] = write_pdf(
        bad / "encrypted.pdf", [["Top secret minutes"]], encrypt="pw"
    )
    files["docx_garbage"] = bad / "garbage.docx"
    files["docx_garbage"].write_bytes(noise)
    files["txt_empty"] = bad / "empty.txt"
    files["txt_empty"].write_bytes(b"")
    files["txt_binary"] = bad / "binary.txt"
    files["txt_binary"].write_bytes(noise)
    files["md_binary"] = bad / "binary.md"
    files["md_binary"].write_bytes(b"\x00\x01\x02\x03" * 64 + noise)
    files["md_bad_yaml"] = bad / "bad-yaml.md"
    files["md_bad_yaml"].write_text(
        '---\ntitle: "unclosed\ndate: [2025-10-11\n---\n\nBody text.\n', encoding="utf-8"
    )
    files["unsupported"] = bad / "notes.xyz"
    files["unsupported"].write_text("some notes", encoding="utf-8")
    return files


# -- indexes over the bundled sample corpus, built once per session --------------------------


def _sample_index(index: Path, settings: Settings) -> Path:
    report = askculture.ingest([SAMPLE_CORPUS_DIR], index, settings=settings)
    assert report.ok and len(report.added) == 33
    return index


@pytest.fixture(scope="session")
def minilm() -> Settings:
    """Settings for the bundled English MiniLM: fast, for index mechanics."""
    settings = Settings()
    settings.embedding.model = "minilm"
    return settings


@pytest.fixture(scope="session")
def minilm_index(tmp_path_factory: pytest.TempPathFactory, minilm: Settings) -> Path:
    """The sample corpus indexed with MiniLM."""
    return _sample_index(tmp_path_factory.mktemp("minilm") / "index", minilm)


@pytest.fixture(scope="session")
def e5() -> Settings:
    """Settings for the default multilingual-e5-small (converted once into the user cache)."""
    settings = Settings()
    settings.embedding.model = "multilingual-e5-small"
    return settings


@pytest.fixture(scope="session")
def e5_index(tmp_path_factory: pytest.TempPathFactory, e5: Settings) -> Path:
    """The sample corpus indexed with the default multilingual-e5-small."""
    return _sample_index(tmp_path_factory.mktemp("e5") / "index", e5)


DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"
"""The development questions (outside the project, in ../shared); tests skip without it."""


# -- the web chat: one real server and one browser per session (see web_support.py) ------------


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[web_support.Server]:
    """The real chat server on a free port; it builds its index at start."""
    yield from web_support.start_server(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="session")
def client(server: web_support.Server) -> Client:
    """A gradio_client on the session's server."""
    from gradio_client import Client

    return Client(server.url, verbose=False)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright."""
    yield from web_support.launch_browser()


@pytest.fixture
def tab(browser: Browser, server: web_support.Server) -> Iterator[web_support.Tab]:
    """A fresh browser context on the chat, in English."""
    opened = web_support.open_tab(browser, server)
    yield opened
    opened.context.close()


# -- a real language-model server (llama.cpp's llama-server) for the written answers --------


@pytest.fixture(scope="session")
def llama_parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(llama-server binary, GGUF model)``; skips when the ``[llm]`` extra is not installed."""
    from filelock import FileLock

    from llm_support import gguf_model, server_binary

    binary = server_binary()
    if binary is None:
        pytest.skip("llama.cpp's llama-server is not built (extra [llm]: scripts/setup.sh --dev)")
    cache = Settings().embedding.models_dir
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache / "gguf.lock")):
        model = gguf_model(cache)
    if model is None:
        pytest.skip("the GGUF model package is not installed (extra [llm])")
    return binary, model


@pytest.fixture(scope="session")
def llm_server(
    llama_parts: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer]:
    """A real llama-server with Gemma 3 270M on 127.0.0.1, for the whole session."""
    from llm_support import start_llama_server

    log = tmp_path_factory.mktemp("llama") / "server.log"
    server = start_llama_server(*llama_parts, log)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llm(e5: Settings, llm_server: LlamaServer) -> Settings:
    """e5 settings with ``answer.backend = llm`` pointed at the session's llama-server."""
    from llm_support import MODEL_ALIAS

    settings = e5.model_copy(deep=True)
    settings.answer.backend = "llm"
    settings.llm.base_url = llm_server.base_url
    settings.llm.model = MODEL_ALIAS
    settings.llm.timeout_s = 120
    settings.llm.max_tokens = 60  # the tiny model rambles; a short answer is all the tests need
    return settings

"""Tests for askculture.documents: real files of every format → Documents."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from askculture.documents import (
    SUPPORTED_SUFFIXES,
    Document,
    decode_bytes,
    detect_language,
    find_date,
    iter_files,
    load_file,
)
from askculture.errors import ConfigError, DocumentError

Maker = Callable[..., Path]

CORPUS_DIR = Path(__file__).resolve().parents[1] / "src" / "askculture" / "data" / "corpus"
CORPUS_FILES = sorted(CORPUS_DIR.glob("*.md"))

RU_TEXT = (
    "АСТАНА, 25 августа 2023 года. Министр культуры и спорта провёл совещание с руководителями "
    "театров и музеев. Обсуждались подготовка к новому сезону и «Ночь музеев»."
)
KK_TEXT = (
    "АСТАНА, 2023 жылғы 16 қазан. Қазақстан Республикасы Үкіметінің қаулысымен тіл саясатын "
    "дамытудың тұжырымдамасы бекітілді."
)


def load_one(path: Path, **kwargs: int) -> Document:
    docs = load_file(path, **kwargs)
    assert len(docs) == 1
    return docs[0]


def front_matter(path: Path) -> dict[str, object]:
    meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
    assert isinstance(meta, dict)
    return meta


# ---- each format ---------------------------------------------------------------------------


def test_markdown_with_front_matter(sample_files: dict[str, Path]) -> None:
    doc = load_one(sample_files["md"])
    assert doc.title == "Kazakhstan and Russia hold culture sub-commission"
    assert doc.date == "2025-10-11"
    assert doc.lang == "en"
    assert doc.source == "Ministry of Culture and Information of the Republic of Kazakhstan"
    assert doc.url == "https://example.org/news/subcommission"
    assert doc.text.startswith("MOSCOW, 11 October 2025 — The fourth meeting")
    assert doc.text.endswith("joint events for 2026.")
    assert "---" not in doc.text
    assert doc.path == str(sample_files["md"].resolve())


def test_markdown_body_is_kept_verbatim_apart_from_the_ends(tmp_path: Path) -> None:
    body = "# Heading\n\nLine  with   spaces\n\tindented\n\n- item"
    path = tmp_path / "note.md"
    path.write_text(f"---\ntitle: T\n---\n\n\n{body}\n\n\n", encoding="utf-8")
    assert load_one(path).text == body


def test_markdown_without_front_matter_uses_heading_and_detects(tmp_path: Path) -> None:
    path = tmp_path / "2024-03-14-yasawi.md"
    path.write_text(
        "# Restoration of the Yasawi mausoleum\n\nWork on the mausoleum continues.\n",
        encoding="utf-8",
    )
    doc = load_one(path)
    assert doc.title == "Restoration of the Yasawi mausoleum"
    assert doc.date == "2024-03-14"  # from the file name
    assert doc.lang == "en"
    assert doc.source is None and doc.url is None


def test_markdown_front_matter_aliases_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_text(
        "---\ntitle: X\ndate: '2024-10-23T09:30:00+05:00'\nlang: KZ\npublisher: Akorda\n---\n"
        "Мәтін.\n",
        encoding="utf-8",
    )
    doc = load_one(path)
    assert (doc.date, doc.lang, doc.source) == ("2024-10-23", "kk", "Akorda")


LANGUAGE_NAMES = {
    "kz": "kk",
    "kaz": "kk",
    "Kazakh": "kk",
    "rus": "ru",
    "russian": "ru",
    "ru-RU": "ru",
    "eng": "en",
    "English": "en",
    "en_GB": "en",
}


@pytest.mark.parametrize(("value", "expected"), LANGUAGE_NAMES.items())
def test_metadata_language_names_are_normalised(tmp_path: Path, value: str, expected: str) -> None:
    path = tmp_path / "x.md"
    path.write_text(f"---\nlang: {value}\n---\nText.\n", encoding="utf-8")
    assert load_one(path).lang == expected


def test_plain_text(sample_files: dict[str, Path]) -> None:
    doc = load_one(sample_files["txt"])
    assert doc.title == "Министерство культуры провело совещание"
    assert doc.date == "2023-08-25"
    assert doc.lang == "ru"
    assert doc.source is None and doc.url is None
    assert doc.text.endswith("театров и музеев.")


def test_long_first_line_falls_back_to_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "long-line.txt"
    path.write_text("word " * 60, encoding="utf-8")
    assert load_one(path).title == "long-line"


def test_html_metadata_and_main_text(sample_files: dict[str, Path]) -> None:
    doc = load_one(sample_files["html"])
    assert doc.title == "Дни культуры Таджикистана открылись в Астане"
    assert doc.date == "2023-08-25"
    assert doc.lang == "ru"
    assert doc.source == "Министерство культуры и спорта РК"
    assert doc.url == "https://example.org/ru/news/tajik-culture-days"
    assert doc.text == (
        "Дни культуры Таджикистана открылись в Астане\n\n"
        "В Астане открылись Дни культуры Республики Таджикистан.\n\n"
        "Программа охватывает Астану, Алматы и Шымкент."
    )


def test_html_drops_scripts_navigation_and_boilerplate(sample_files: dict[str, Path]) -> None:
    text = load_one(sample_files["html"]).text
    for marker in ("SCRIPT", "NAV", "HEADER", "FOOTER", "color: red", "tracking"):
        assert marker not in text


def test_html_keeps_escaped_markup_as_text(tmp_path: Path) -> None:
    path = tmp_path / "code.html"
    path.write_text(
        "<html><body>"
        "<p>Never run &lt;script&gt;alert(1)&lt;/script&gt; from a press release.</p>"
        "<pre>&lt;script&gt;alert(1)&lt;/script&gt;\n    indented line</pre>"
        "<!-- a comment that is not text -->"
        "<script>alert('really removed')</script>"
        "</body></html>",
        encoding="utf-8",
    )
    text = load_one(path).text
    assert "Never run <script>alert(1)</script> from a press release." in text
    assert "<script>alert(1)</script>\n    indented line" in text
    assert "really removed" not in text
    assert "comment" not in text


def test_html_without_article_uses_body_title_tag_time_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text(
        "<html><head><title>  Culture\n news  </title>"
        '<meta http-equiv="content-language" content="en"></head><body>'
        "<aside>Related: ASIDE</aside><form>Subscribe FORM</form>"
        '<div>Published <time datetime="2024-06-05">5 June</time></div>'
        "<div>Line one<br>line two</div>"
        "<table><tr><th>City</th><th>Events</th></tr><tr><td>Astana</td><td>12</td></tr></table>"
        "</body></html>",
        encoding="utf-8",
    )
    doc = load_one(path)
    assert doc.title == "Culture news"
    assert doc.date == "2024-06-05"
    assert doc.lang == "en"
    assert doc.text == "Published 5 June\n\nLine one\nline two\n\nCity | Events\nAstana | 12"


def test_html_keeps_article_header_and_a_form_that_wraps_the_page(tmp_path: Path) -> None:
    path = tmp_path / "aspnet.html"
    path.write_text(
        '<html><body><form id="form1" action="/news.aspx">'
        "<header>SITE-HEADER</header>"
        "<article><header><h1>Headline</h1><time datetime='2024-09-13'>13.09</time></header>"
        "<p>The ministers met in Astana to discuss joint cultural projects for next year.</p>"
        "</article>"
        '<div hidden>HIDDEN-TEXT</div><form action="/search">SEARCH-FORM</form>'
        "</form></body></html>",
        encoding="utf-8",
    )
    doc = load_one(path)
    assert doc.title == "Headline"
    assert doc.date == "2024-09-13"
    assert doc.text == (
        "Headline\n\n13.09\n\n"
        "The ministers met in Astana to discuss joint cultural projects for next year."
    )


def test_html_ignores_a_small_teaser_article(tmp_path: Path) -> None:
    story = "The Abai State Prize in literature and art was awarded to three laureates. " * 5
    path = tmp_path / "teaser.html"
    path.write_text(
        f"<html><body><div class='content'><p>{story}</p></div>"
        "<article><p>Related: another story</p></article></body></html>",
        encoding="utf-8",
    )
    assert story.strip() in load_one(path).text


def test_html_in_windows_1251_with_meta_charset(tmp_path: Path) -> None:
    path = tmp_path / "legacy.html"
    html = '<html><head><meta charset="windows-1251"><title>Новости</title></head>'
    path.write_bytes((html + f"<body><p>{RU_TEXT}</p></body></html>").encode("cp1251"))
    doc = load_one(path)
    assert doc.title == "Новости"
    assert doc.text == RU_TEXT


def test_pdf(sample_files: dict[str, Path]) -> None:
    doc = load_one(sample_files["pdf"])
    assert doc.title == "Presidential Culture Fund grants"
    assert doc.date == "2024-06-11"
    assert doc.lang == "en"
    assert doc.text.startswith("Presidential Culture Fund announces grants")
    assert "MOSCOW, 11 June 2024 -\n\nThe fund supported 120 projects in 2024." in doc.text


def test_pdf_with_kazakh_text(tmp_path: Path, make_pdf: Maker, cyrillic_pdf_font: bool) -> None:
    if not cyrillic_pdf_font:
        pytest.skip("no Cyrillic TrueType font installed")
    path = make_pdf(tmp_path / "kk.pdf", [[KK_TEXT[:60], KK_TEXT[60:]]])
    doc = load_one(path)
    assert doc.lang == "kk"
    assert doc.date == "2023-10-16"
    assert doc.title == KK_TEXT[:60].strip()
    assert "Қазақстан Республикасы" in doc.text


def test_pdf_encrypted_with_empty_user_password_is_read(tmp_path: Path, make_pdf: Maker) -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    encryption = StandardEncryption("", ownerPassword="owner-only")
    path = make_pdf(tmp_path / "open.pdf", [["Readable without a password"]], encrypt=encryption)
    assert load_one(path).text == "Readable without a password"


def test_docx(sample_files: dict[str, Path]) -> None:
    doc = load_one(sample_files["docx"])
    assert doc.title == "Kazakhstan and Serbia sign a culture memorandum"
    assert doc.date == "2023-11-29"  # dateline; the core created/modified times are ignored
    assert doc.lang == "en"
    assert doc.source is None  # the DOCX author is a person, not the publisher
    assert doc.text == (
        "ASTANA, 29 November 2023\n\n"
        "Kazakhstan and Serbia signed a culture memorandum.\n\n"
        "Party | Signatory\nKazakhstan | Minister of Culture"
    )


def test_docx_without_core_title_uses_first_line(tmp_path: Path, make_docx: Maker) -> None:
    path = make_docx(tmp_path / "minutes.docx", ["", "Протокол заседания", RU_TEXT])
    doc = load_one(path)
    assert doc.title == "Протокол заседания"
    assert doc.lang == "ru"
    assert doc.date == "2023-08-25"


def test_jsonl_records(sample_files: dict[str, Path]) -> None:
    first, second = load_file(sample_files["jsonl"])
    assert first.title == "First record"
    assert first.date == "2024-05-13"
    assert first.lang == "en"
    assert first.text == "The President received the Minister of Culture."
    assert second.lang == "kk"
    assert second.url == "https://example.org/kk/1"
    assert second.title == second.text  # short first line
    assert first.path == second.path == str(sample_files["jsonl"].resolve())
    assert first.id != second.id


def test_jsonl_skips_bad_lines_but_keeps_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        'not json\n{"title": "no text"}\n["a list"]\n{"text": "   "}\n\n'
        '{"text": "Valid record one."}\n{"text": 42}\n{"id": 7, "text": "Valid record two."}\n',
        encoding="utf-8",
    )
    docs = load_file(path)
    assert [d.text for d in docs] == ["Valid record one.", "Valid record two."]


def test_jsonl_with_no_valid_record_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('not json\n{"title": "no text"}\n', encoding="utf-8")
    with pytest.raises(DocumentError, match="no valid JSON lines"):
        load_file(path)


# ---- the sample corpus ---------------------------------------------------------------------


def test_the_sample_corpus_has_33_files() -> None:
    assert len(CORPUS_FILES) == 33


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_corpus_file_loads_with_its_front_matter(path: Path) -> None:
    meta = front_matter(path)
    doc = load_one(path)
    assert doc.title == meta["title"]
    assert doc.date == str(meta["date"])
    assert doc.lang == meta["lang"]
    assert doc.source == meta["source"]
    assert doc.url == meta["url"]
    assert doc.text and doc.text == doc.text.strip()
    assert doc.sha256 == hashlib.sha256(doc.text.encode()).hexdigest()


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_detected_language_agrees_with_corpus_front_matter(tmp_path: Path, path: Path) -> None:
    meta = front_matter(path)
    stripped = re.sub(r"^lang:.*\n", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    copy = tmp_path / path.name
    copy.write_text(stripped, encoding="utf-8")
    assert load_one(copy).lang == meta["lang"]
    assert detect_language(load_one(path).text) == meta["lang"]


# ---- language detection --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Жүргенов академиясы қай институтпен келісім жасады?", "kk"),
        ("Абай атындағы сыйлық кімге берілді?", "kk"),
        ("Министр кім?", "kk"),
        ("Какое соглашение подписала академия?", "ru"),
        ("Кто получил государственную премию?", "ru"),
        ("Who signed the cinema agreement in Cannes?", "en"),
        ("Culture days", "en"),
        (KK_TEXT, "kk"),
        (RU_TEXT, "ru"),
        # Russian quoting a Kazakh name, and Russian with one stray Ukrainian-style "і"
        ("Какое соглашение подписала академия имени Жүргенова в этом году?", "ru"),
        (RU_TEXT.replace("и музеев", "і музеев"), "ru"),
        # Kazakh typed with a Latin "i" for "і"
        ("Мемлекеттiк тiл саясаты туралы заң қабылданды", "kk"),
        # mostly Latin with a few Cyrillic words, and the other way round
        ("The agreement with «Казахфильм» was signed in Cannes by both national centres.", "en"),
        ("Фильм показали на фестивале Cannes в рамках программы Marché du Film.", "ru"),
        ("", None),
        ("2025 — 11.10 / № 914", None),
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


# ---- encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("utf-8", lambda s: s.encode("utf-8")),
        ("utf-8 with BOM", lambda s: s.encode("utf-8-sig")),
        ("utf-16 LE with BOM", lambda s: b"\xff\xfe" + s.encode("utf-16-le")),
        ("utf-16 BE with BOM", lambda s: b"\xfe\xff" + s.encode("utf-16-be")),
        ("utf-16 LE without BOM", lambda s: s.encode("utf-16-le")),
        ("utf-16 BE without BOM", lambda s: s.encode("utf-16-be")),
        ("windows-1251", lambda s: s.encode("cp1251")),
    ],
)
def test_russian_text_decodes_the_same_in_every_encoding(
    tmp_path: Path, name: str, encode: Callable[[str], bytes]
) -> None:
    text = "Министерство культуры\n\n" + RU_TEXT
    path = tmp_path / "ru.txt"
    path.write_bytes(encode(text))
    doc = load_one(path)
    assert doc.text == text, name
    assert doc.lang == "ru"


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (RU_TEXT.replace("«", '"').replace("»", '"'), "koi8-r"),
        ("МИНИСТЕРСТВО КУЛЬТУРЫ СООБЩАЕТ", "cp1251"),
        ("Le ministère a signé l’accord — « coopération culturelle ».", "cp1252"),
    ],
)
def test_other_legacy_encodings_decode(text: str, codec: str) -> None:
    assert decode_bytes(text.encode(codec)) == text


def test_kazakh_legacy_kz1048_text_decodes() -> None:
    assert decode_bytes(KK_TEXT.encode("kz1048")) == KK_TEXT


def test_utf8_with_a_few_corrupt_bytes_is_still_utf8() -> None:
    data = RU_TEXT.encode("utf-8") + b"\xff" + RU_TEXT.encode("utf-8")
    assert decode_bytes(data) == RU_TEXT + "\ufffd" + RU_TEXT


def test_decode_bytes_rejects_binary_data() -> None:
    with pytest.raises(DocumentError, match="binary data, not text"):
        decode_bytes(bytes(range(256)) * 8)


def test_line_endings_and_nuls_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"Title\r\n\r\nLine one\rLine\x00 two\r\n")
    assert load_one(path).text == "Title\n\nLine one\nLine two"


# ---- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ASTANA, 11 October 2025 — The ministers met.", "2025-10-11"),
        ("Washington, October 11, 2025. The ministers met.", "2025-10-11"),
        ("Oct. 11, 2025 — The ministers met.", "2025-10-11"),
        ("МОСКВА, 11 октября 2025 г. Министры встретились.", "2025-10-11"),
        ("11 октября 2025 года министры встретились.", "2025-10-11"),
        ("АСТАНА, 2025 жылғы 11 қазан. Министрлер кездесті.", "2025-10-11"),
        ("Министрлер 11 қазан 2025 кездесті.", "2025-10-11"),
        ("2025 жылы 11 қазанда министрлер кездесті.", "2025-10-11"),
        ("Опубликовано 11.10.2025 в 10:00", "2025-10-11"),
        ("Published 2025-10-11T08:00:00Z", "2025-10-11"),
        ("Dated 31.02.2025 by mistake", None),  # not a real date
        ("From 30 February 2025", None),
        ("No date here, only the year 2025 and № 914.", None),
        ("x" * 1200 + " 11 October 2025", None),  # too far from the start
    ],
)
def test_find_date_in_text(text: str, expected: str | None) -> None:
    assert find_date(text) == expected


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("2025-10-11-foo.md", "2025-10-11"),
        ("20251011_x.pdf", "2025-10-11"),
        ("/some/dir/report_2025_10_11.docx", "2025-10-11"),
        ("scan-20251345.pdf", None),
        ("v1234567890.txt", None),
        ("notes.txt", None),
    ],
)
def test_find_date_in_filename(filename: str, expected: str | None) -> None:
    assert find_date("No date in this text.", filename) == expected


def test_dateline_beats_file_name_which_beats_later_dates() -> None:
    assert find_date("ASTANA, 16 January 2023 — text", "2023-01-17-x.md") == "2023-01-16"
    late = "ASTANA — Artists take part in the Biennale, which runs until 24 November 2024."
    assert find_date("x" * 150 + late, "2024-02-09-biennale.md") == "2024-02-09"
    assert find_date("x" * 150 + late) == "2024-11-24"


def test_undated_file_has_no_date_despite_its_mtime(tmp_path: Path) -> None:
    path = tmp_path / "undated.txt"
    path.write_text("A note without any date.", encoding="utf-8")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    assert load_one(path).date is None


# ---- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("pdf_truncated", "not a valid PDF (truncated or corrupt)"),
        ("pdf_encrypted", "encrypted PDF"),
        ("docx_garbage", "not a valid DOCX file"),
        ("txt_empty", "empty file"),
        ("txt_binary", "binary data, not text"),
        ("md_binary", "binary data, not text"),
        ("md_bad_yaml", "invalid YAML front matter"),
        ("unsupported", "unsupported file type .xyz"),
    ],
)
def test_bad_files_raise_document_error(
    sample_files: dict[str, Path], key: str, reason: str
) -> None:
    with pytest.raises(DocumentError, match=re.escape(reason)):
        load_file(sample_files[key])


def test_oversized_file_is_refused(sample_files: dict[str, Path]) -> None:
    with pytest.raises(DocumentError, match=r"file too large \(.+ > 100 bytes\)"):
        load_file(sample_files["md"], max_bytes=100)


def test_pdf_without_text_is_refused(tmp_path: Path, make_pdf: Maker) -> None:
    path = make_pdf(tmp_path / "scan.pdf", [[]])
    with pytest.raises(DocumentError, match=re.escape("no text found (scanned PDF?)")):
        load_file(path)


def test_random_bytes_named_pdf_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4 + b"\n%%EOF\n")
    with pytest.raises(DocumentError, match="not a valid PDF"):
        load_file(path)


def test_markdown_with_only_front_matter_has_no_text(tmp_path: Path) -> None:
    path = tmp_path / "empty-body.md"
    path.write_text("---\ntitle: Nothing\n---\n\n  \n", encoding="utf-8")
    with pytest.raises(DocumentError, match="no text found"):
        load_file(path)


def test_unclosed_front_matter_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "open.md"
    path.write_text("---\ntitle: Never closed\n\nBody.\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="invalid YAML front matter"):
        load_file(path)


def test_front_matter_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "list.md"
    path.write_text("---\n- a\n- b\n---\nBody.\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="invalid YAML front matter"):
        load_file(path)


def test_missing_file_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="file not found"):
        load_file(tmp_path / "gone.txt")


# ---- walking directories -------------------------------------------------------------------


def test_iter_files_missing_path_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match="no such file or directory"):
        list(iter_files([missing]))


def test_iter_files_walks_sorted_and_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    for rel in [
        "b.md",
        "a.txt",
        "sub/c.PDF",
        "sub/deeper/d.jsonl",
        "notes.xyz",
        ".hidden.md",
        ".git/config.md",
        "~$lock.docx",
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])]
    assert found == ["a.txt", "b.md", "sub/c.PDF", "sub/deeper/d.jsonl"]


def test_iter_files_yields_files_given_directly_whatever_their_suffix(tmp_path: Path) -> None:
    odd = tmp_path / "notes.xyz"
    odd.write_text("x", encoding="utf-8")
    assert list(iter_files([odd, odd])) == [odd]
    with pytest.raises(DocumentError, match=r"unsupported file type \.xyz"):
        load_file(odd)


def test_iter_files_finds_every_sample_corpus_file() -> None:
    assert list(iter_files([CORPUS_DIR])) == CORPUS_FILES


def test_supported_suffixes() -> None:
    assert {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx", ".jsonl"} == set(
        SUPPORTED_SUFFIXES
    )


# ---- identity ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["md", "txt", "html", "pdf", "docx", "jsonl"])
def test_ids_are_stable_across_loads(sample_files: dict[str, Path], key: str) -> None:
    first = load_file(sample_files[key])
    second = load_file(sample_files[key])
    assert first == second
    for doc in first:
        assert re.fullmatch(r"[0-9a-f]{16}", doc.id)
        assert doc.sha256 == hashlib.sha256(doc.text.encode("utf-8")).hexdigest()


def test_id_is_derived_from_path_and_record_key(sample_files: dict[str, Path]) -> None:
    path = str(sample_files["md"].resolve())
    assert load_one(sample_files["md"]).id == hashlib.sha1(f"{path}#".encode()).hexdigest()[:16]
    jsonl = str(sample_files["jsonl"].resolve())
    first, second = load_file(sample_files["jsonl"])
    assert first.id == hashlib.sha1(f"{jsonl}#a1".encode()).hexdigest()[:16]  # record id
    assert second.id == hashlib.sha1(f"{jsonl}#2".encode()).hexdigest()[:16]  # line number


def test_duplicate_record_ids_still_give_distinct_document_ids(tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    path.write_text('{"id": 1, "text": "One."}\n{"id": 1, "text": "Two."}\n', encoding="utf-8")
    first, second = load_file(path)
    assert first.id != second.id


def test_document_is_immutable(sample_files: dict[str, Path]) -> None:
    doc = load_one(sample_files["txt"])
    with pytest.raises(AttributeError):
        doc.title = "changed"  # type: ignore[misc]

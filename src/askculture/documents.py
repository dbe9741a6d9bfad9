"""Files → Documents: read ministry communications from disk into plain-text ``Document`` records.

Supported formats are Markdown with YAML front matter, plain text, HTML, PDF, DOCX and JSON Lines
(one document per line). Every loader returns the document's main text (what is later chunked and
quoted) together with the metadata that citations need: title, ISO date, language, publisher and
URL. Nothing here touches the network or global state, and a file's modification time is never
used as its date.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import json
import logging
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from askculture.errors import ConfigError, DocumentError

if TYPE_CHECKING:  # the format libraries are imported lazily, when a file needs them
    from bs4 import BeautifulSoup, Tag
    from docx.table import Table

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Document",
    "decode_bytes",
    "detect_language",
    "find_date",
    "iter_files",
    "load_file",
]

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx", ".jsonl"}
)
"""File suffixes (lower case) that ``iter_files`` picks up from directories."""

_DEFAULT_MAX_BYTES = 50 * 2**20
_MAX_TITLE_CHARS = 200
_DATE_SEARCH_CHARS = 1000
_DATELINE_CHARS = 200
_SAMPLE_BYTES = 1 << 18


@dataclass(frozen=True, slots=True)
class Document:
    """One document: its main text plus the metadata a citation needs.

    Attributes:
        id: Stable id, the first 16 hex digits of the SHA-1 of ``"{path}#{key}"`` where ``key``
            is ``""`` for single-document files and the record id (or 1-based line number) for
            JSON Lines records.
        path: Resolved absolute path of the source file.
        title: Title from metadata, else the first heading or short first line, else file stem.
        date: Publication date as ISO ``YYYY-MM-DD``, or None if unknown.
        lang: ``"en"``, ``"ru"`` or ``"kk"`` (from metadata or detected), or None if no letters.
        source: Publisher, if the file names one.
        url: Original URL, if known.
        text: The main text; chunk offsets point into it.
        sha256: SHA-256 hex digest of ``text`` encoded as UTF-8.
    """

    id: str
    path: str
    title: str
    date: str | None
    lang: str | None
    source: str | None
    url: str | None
    text: str
    sha256: str


# --------------------------------------------------------------------------------------------
# Walking the file system
# --------------------------------------------------------------------------------------------


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield the files to load from a mix of files and directories.

    Files given directly are always yielded, whatever their suffix (``load_file`` then rejects
    unsupported ones with a clear message). Directories are walked recursively in sorted order,
    yielding only files with a supported suffix and skipping hidden entries (names starting with
    ``"."``) and Office lock files (``"~$..."``). Each file is yielded once.

    Args:
        paths: Files and/or directories.

    Yields:
        Paths of files, in a deterministic order.

    Raises:
        ConfigError: If one of ``paths`` does not exist (checked before anything is yielded).
    """
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise ConfigError(f"no such file or directory: {root}")
    seen: set[Path] = set()
    for root in roots:
        if root.is_dir():
            candidates: Iterable[Path] = _walk_dir(root, set())
        else:
            candidates = (root,)
        for file in candidates:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                yield file


def _walk_dir(directory: Path, visited: set[Path]) -> Iterator[Path]:
    real = directory.resolve()
    if real in visited:  # symlink loop
        return
    visited.add(real)
    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        logger.warning("cannot list %s: %s", directory, exc.strerror or exc)
        return
    for entry in entries:
        if entry.name.startswith((".", "~$")):
            continue
        if entry.is_dir():
            yield from _walk_dir(entry, visited)
        elif entry.is_file() and entry.suffix.lower() in SUPPORTED_SUFFIXES:
            yield entry


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load_file(path: Path, *, max_bytes: int = _DEFAULT_MAX_BYTES) -> list[Document]:
    """Read one file into Documents (one, or one per valid record of a ``.jsonl`` file).

    JSON Lines records that are not JSON objects with a non-empty string ``"text"`` are skipped
    (counted in a logged warning); the file is an error only if no record is valid.

    Args:
        path: The file to read; its suffix (case-insensitive) selects the loader.
        max_bytes: Larger files are refused.

    Returns:
        The documents in the file, in file order.

    Raises:
        DocumentError: If the file type is unsupported, or the file is missing, too large,
            empty, binary, corrupt, encrypted, or has no text. The message is a short reason
            without the file name.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"unsupported file type {suffix or '(no suffix)'}")
    try:
        resolved = path.resolve()
        if resolved.is_dir():
            raise DocumentError("is a directory, not a file")
        size = resolved.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"file too large ({_human_size(size)} > {_human_size(max_bytes)})")
        data = resolved.read_bytes()
    except FileNotFoundError as exc:
        raise DocumentError("file not found") from exc
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:  # the file grew between stat and read
        raise DocumentError(f"file too large ({_human_size(len(data))} > {_human_size(max_bytes)})")
    if not data:
        raise DocumentError("empty file")

    src = _Source(path=str(resolved), name=resolved.name, stem=resolved.stem)
    if suffix in (".md", ".markdown"):
        return [_load_markdown(data, src)]
    if suffix == ".txt":
        return [_load_text(data, src)]
    if suffix in (".html", ".htm"):
        return [_load_html(data, src)]
    if suffix == ".pdf":
        return [_load_pdf(data, src)]
    if suffix == ".docx":
        return [_load_docx(data, src, max_expanded=max(10 * max_bytes, 100 * 2**20))]
    return _load_jsonl(data, src)


@dataclass(frozen=True, slots=True)
class _Source:
    path: str  # resolved absolute path
    name: str  # file name, for dates in file names
    stem: str  # last-resort title


def _human_size(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def _make_document(
    src: _Source,
    text: str,
    *,
    key: str = "",
    title: object = None,
    date: object = None,
    lang: object = None,
    source: object = None,
    url: object = None,
) -> Document:
    """Apply the shared fallbacks (title, date, language) and build the Document."""
    if not text:
        raise DocumentError("no text found")
    if len(text) > _MAX_UNBROKEN_CHARS and not _WHITESPACE.search(text):
        raise DocumentError(
            f"no words: {len(text):,} characters without a space or line break "
            "(encoded or binary data?)"
        )
    # lone surrogates (JSON "\ud800" escapes, YAML) cannot be stored as UTF-8: make them U+FFFD
    text, key = _LONE_SURROGATE.sub("\ufffd", text), _LONE_SURROGATE.sub("\ufffd", key)
    title, source, url = (
        _LONE_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for v in (title, source, url)
    )
    return Document(
        id=hashlib.sha1(f"{src.path}#{key}".encode("utf-8", "surrogateescape")).hexdigest()[:16],
        path=src.path,
        title=_clean_title(title) or _first_line_title(text) or src.stem,
        date=_normalise_date(date) or find_date(text, src.name),
        lang=_normalise_lang(lang) or detect_language(text),
        source=_clean_field(source),
        url=_clean_field(url),
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s")
_MAX_UNBROKEN_CHARS = 2000
"""A text longer than this without any whitespace is data, not prose (and splits very slowly)."""


def _clean_text(text: str) -> str:
    """Normalise line endings to ``\\n``, drop NULs, strip the ends; nothing else."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


def _clean_field(value: object) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    cleaned = " ".join(str(value).split())
    return cleaned or None


def _clean_title(value: object) -> str | None:
    title = _clean_field(value)
    if title is None:
        return None
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - ", "", title)
    if title.lower() in {"untitled", "(untitled)", "anonymous", "(anonymous)", "unknown"}:
        return None
    return title


def _first_line_title(text: str) -> str | None:
    for line in text.split("\n"):
        line = line.strip()
        if line:
            return " ".join(line.split()) if len(line) <= _MAX_TITLE_CHARS else None
    return None


# ---- Markdown and plain text ---------------------------------------------------------------

_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _load_markdown(data: bytes, src: _Source) -> Document:
    raw = decode_bytes(data).replace("\r\n", "\n").replace("\r", "\n")
    meta, body = _split_front_matter(raw)
    text = _clean_text(body)
    return _make_document(
        src,
        text,
        title=meta.get("title") or _markdown_heading(text),
        date=meta.get("date"),
        lang=meta.get("lang") or meta.get("language"),
        source=meta.get("source") or meta.get("publisher"),
        url=meta.get("url"),
    )


def _split_front_matter(raw: str) -> tuple[Mapping[str, object], str]:
    """Split ``---``-delimited YAML front matter from a Markdown body."""
    first, sep, rest = raw.partition("\n")
    if not sep or first.rstrip() != "---":
        return {}, raw
    end = _FRONT_MATTER_END.search(rest)
    if end is None:
        raise DocumentError("invalid YAML front matter: no closing '---' line")
    try:
        meta = yaml.safe_load(rest[: end.start()])
    except yaml.YAMLError as exc:
        raise DocumentError(f"invalid YAML front matter: {_yaml_reason(exc)}") from exc
    except RecursionError as exc:
        raise DocumentError("invalid YAML front matter: nested too deeply") from exc
    except (ValueError, OverflowError) as exc:  # e.g. "date: 2025-13-45" fails in the loader
        raise DocumentError(f"invalid YAML front matter: {exc}") from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise DocumentError("invalid YAML front matter: not a mapping of keys to values")
    body = rest[end.end() :]
    return {str(k).lower(): v for k, v in meta.items()}, body


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        where = f" (line {mark.line + 2})" if mark is not None else ""  # +1 for '---', +1 base
        return f"{exc.problem}{where}"
    return str(exc).split("\n")[0]


def _markdown_heading(text: str) -> str | None:
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence and (m := _ATX_HEADING.match(line)):
            return m.group(1)
    return None


def _load_text(data: bytes, src: _Source) -> Document:
    return _make_document(src, _clean_text(decode_bytes(data)))


# ---- JSON Lines ----------------------------------------------------------------------------


def _load_jsonl(data: bytes, src: _Source) -> list[Document]:
    lines = decode_bytes(data).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    docs: list[Document] = []
    used_keys: set[str] = set()
    bad = 0
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            bad += 1
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            bad += 1
            continue
        text = _clean_text(record["text"])
        if not text:
            bad += 1
            continue
        rid = record.get("id")
        valid_id = isinstance(rid, (str, int)) and not isinstance(rid, bool) and str(rid)
        key = str(rid) if valid_id else str(lineno)
        if key in used_keys:  # duplicate record id: keep the record, make its id unique
            key = f"{key}#{lineno}"
        used_keys.add(key)
        docs.append(
            _make_document(
                src,
                text,
                key=key,
                title=record.get("title"),
                date=record.get("date"),
                lang=record.get("lang") or record.get("language"),
                source=record.get("source") or record.get("publisher"),
                url=record.get("url"),
            )
        )
    if bad:
        logger.warning("%s: skipped %d invalid JSON line(s)", src.name, bad)
    if not docs:
        raise DocumentError('no valid JSON lines with a "text" field')
    return docs


# ---- HTML ----------------------------------------------------------------------------------

# fmt: off
_DROP_TAGS = (
    "script", "style", "nav", "header", "footer", "aside", "form", "noscript", "template",
    "iframe", "svg", "canvas", "button", "select",
)
_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "caption", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main",
    "ol", "p", "pre", "section", "summary", "table", "ul",
})
# fmt: on
_CELL_TAGS = frozenset({"td", "th"})
_PRE_TAGS = frozenset({"pre", "textarea", "listing", "xmp", "plaintext"})
_HTML_WS = re.compile(r"\s+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_DATE_META_KEYS = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "dc.date",
    "dc.date.issued",
    "dc.date.created",
    "dcterms.date",
    "dcterms.issued",
    "dcterms.created",
    "pubdate",
    "publishdate",
    "publication_date",
    "sailthru.date",
)


def _decode_html(data: bytes) -> str:
    """Decode HTML bytes, honouring a ``<meta charset>`` declaration when there is no BOM."""
    if not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        m = _META_CHARSET.search(data[:4096])
        if m:
            try:
                name = codecs.lookup(m.group(1).decode("ascii")).name
            except (LookupError, UnicodeDecodeError):
                name = ""
            if name.startswith(("utf-16", "utf-32")):
                name = ""  # a meta tag that can be read is not UTF-16 (HTML spec: use UTF-8)
            if name in ("latin-1", "iso8859-1", "ascii"):
                name = "cp1252"  # what browsers do
            if name:
                try:
                    return _check_text(data.decode(name))
                except UnicodeDecodeError:
                    pass
    return decode_bytes(data)


def _load_html(data: bytes, src: _Source) -> Document:
    from bs4 import BeautifulSoup, Tag

    raw = _decode_html(data).replace("\x00", "")
    soup = BeautifulSoup(raw, "lxml")

    title = _meta_content(soup, "og:title", "twitter:title", "dc.title")
    if title is None and soup.title is not None:
        title = _clean_field(soup.title.get_text())
    date = _meta_content(soup, *_DATE_META_KEYS)
    lang: str | None = None
    if soup.html is not None:
        lang = _attr(soup.html, "lang") or _attr(soup.html, "xml:lang")
    lang = lang or _meta_content(soup, "content-language", "language", "dc.language", "og:locale")
    url: str | None = None
    canonical = soup.find("link", rel="canonical")
    if isinstance(canonical, Tag):
        url = _attr(canonical, "href")
    url = url or _meta_content(soup, "og:url")
    source = _meta_content(soup, "og:site_name", "publisher", "dc.publisher", "author")

    _drop_boilerplate(soup)
    root = _main_content(soup)
    if date is None:
        time = root.find("time", attrs={"datetime": True}) or soup.find(
            "time", attrs={"datetime": True}
        )
        if isinstance(time, Tag):
            date = _attr(time, "datetime")
    if title is None:
        h1 = root.find("h1") or soup.find("h1")
        if isinstance(h1, Tag):
            title = _clean_field(h1.get_text())
    text = _clean_text(_html_text(root))
    if not text:
        raise DocumentError("no text found")
    return _make_document(src, text, title=title, date=date, lang=lang, source=source, url=url)


def _attr(tag: Tag, name: str) -> str | None:
    value = tag.get(name)
    if isinstance(value, list):
        value = " ".join(value)
    return _clean_field(value)


def _meta_content(soup: BeautifulSoup, *keys: str) -> str | None:
    """Content of the first ``<meta>`` whose property/name/itemprop/http-equiv is in ``keys``."""
    found: dict[str, str] = {}
    for meta in soup.find_all("meta"):
        content = _attr(meta, "content")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = _attr(meta, attr)
            if key is not None:
                found.setdefault(key.lower(), content)
    for key in keys:
        if key in found:
            return found[key]
    return None


def _drop_boilerplate(soup: BeautifulSoup) -> None:
    """Remove scripts, styles, navigation, page header/footer, asides, forms and hidden parts.

    A <header> inside an <article> (its headline and byline) is kept, and so is a <form> that
    wraps the article or most of the page (as ASP.NET pages do).
    """
    body = soup.body or soup
    body_chars = len(body.get_text(" ", strip=True))
    doomed: list[Tag] = []
    for tag in [*soup.find_all(_DROP_TAGS), *soup.find_all(hidden=True)]:
        if tag.name == "header" and tag.find_parent("article") is not None:
            continue
        if tag.name == "form" and (
            tag.find(["article", "main"]) is not None
            or len(tag.get_text(" ", strip=True)) > 0.5 * body_chars
        ):
            continue
        doomed.append(tag)
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()


def _main_content(soup: BeautifulSoup) -> Tag:
    """The element holding the main text: the longest <article> unless it is a small part of
    the page (then <main>, else <body>)."""
    from bs4 import Tag

    body = soup.body if soup.body is not None else soup
    body_chars = len(body.get_text(" ", strip=True))
    articles = [a for a in soup.find_all("article") if isinstance(a, Tag)]
    if articles:
        longest = max(articles, key=lambda a: len(a.get_text(" ", strip=True)))
        if len(longest.get_text(" ", strip=True)) >= 0.3 * body_chars:
            return longest
    main = soup.find("main")
    if isinstance(main, Tag) and len(main.get_text(" ", strip=True)) >= 0.3 * body_chars:
        return main
    return body


def _html_text(root: Tag) -> str:
    """Visible text of an element: blocks separated by blank lines, <br>/<tr> by newlines,
    table cells by `` | ``; whitespace collapsed except inside <pre>."""
    from bs4.element import NavigableString, PreformattedString, Tag

    paragraphs: list[str] = []
    current: list[str] = []
    current_pre = False
    pre_depth = 0

    def flush() -> None:
        nonlocal current_pre
        chunk = "".join(current)
        current.clear()
        if current_pre:
            chunk = chunk.strip("\n")
            if chunk.strip():
                paragraphs.append(chunk)
        else:
            lines = (" ".join(line.split()) for line in chunk.split("\n"))
            joined = "\n".join(line for line in lines if line)
            if joined:
                paragraphs.append(joined)
        current_pre = False

    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if isinstance(node, Tag):
            name = node.name
            if closing:
                if name in _PRE_TAGS:
                    pre_depth -= 1
                if name in _BLOCK_TAGS or name in _PRE_TAGS:
                    flush()
                elif name == "tr":
                    current.append("\n")
                continue
            if name == "br":
                current.append("\n")
                continue
            if name in _BLOCK_TAGS or name in _PRE_TAGS:
                flush()
            elif name in _CELL_TAGS and node.find_previous_sibling(_CELL_TAGS) is not None:
                current.append(" | ")
            if name in _PRE_TAGS:
                pre_depth += 1
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            if pre_depth:
                current_pre = True
                current.append(str(node))
            else:
                current.append(_HTML_WS.sub(" ", str(node)))
    flush()
    return "\n\n".join(paragraphs)


# ---- PDF -----------------------------------------------------------------------------------


def _load_pdf(data: bytes, src: _Source) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    if not data.lstrip()[:5] == b"%PDF-":
        raise DocumentError("not a valid PDF (no PDF header)")
    if b"%%EOF" not in data.rstrip(b"\x00 \t\r\n")[-2048:]:
        raise DocumentError("not a valid PDF (truncated or corrupt)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise DocumentError("encrypted PDF")
            except DependencyError as exc:
                raise DocumentError("encrypted PDF (cannot decrypt: AES support missing)") from exc
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        title = info.title if info is not None else None
        root = reader.trailer.get("/Root")
        catalog = root.get_object() if root is not None else None
        lang = catalog.get("/Lang") if isinstance(catalog, dict) else None
    except DocumentError:
        raise
    except Exception as exc:
        logger.debug("pypdf failed on %s: %r", src.name, exc)
        raise DocumentError("not a valid PDF (truncated or corrupt)") from exc
    text = _clean_text("\n\n".join(p.strip() for p in pages if p.strip()))
    if not text:
        raise DocumentError("no text found (scanned PDF?)")
    return _make_document(src, text, title=title, lang=lang)


# ---- DOCX ----------------------------------------------------------------------------------


def _load_docx(data: bytes, src: _Source, *, max_expanded: int) -> Document:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DocumentError("not a DOCX file (old .doc format or password-protected)")
    if not data.startswith(b"PK"):
        raise DocumentError("not a valid DOCX file (corrupt or not a Word document)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            expanded = sum(info.file_size for info in zf.infolist())
        if expanded > max_expanded:
            raise DocumentError(f"DOCX expands too large ({_human_size(expanded)})")
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        heading: str | None = None
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                para = item.text.strip()
                if para:
                    blocks.append(para)
                    style = item.style.name if item.style is not None else ""
                    if heading is None and style in ("Title", "Heading 1"):
                        heading = para
            elif isinstance(item, Table):
                table = _docx_table_text(item)
                if table:
                    blocks.append(table)
        props = document.core_properties
        title = props.title
        lang = props.language
    except DocumentError:
        raise
    except Exception as exc:
        logger.debug("python-docx failed on %s: %r", src.name, exc)
        raise DocumentError("not a valid DOCX file (corrupt or not a Word document)") from exc
    text = _clean_text("\n\n".join(blocks))
    return _make_document(src, text, title=_clean_title(title) or heading, lang=lang)


def _docx_table_text(table: Table) -> str:
    rows: list[str] = []
    for row in table.rows:
        seen: set[int] = set()
        cells: list[str] = []
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats
                continue
            seen.add(id(cell._tc))
            value = cell.text.strip()
            if value:
                cells.append(value)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------

_BAD_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f-\x9f]")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# cp1251 bytes for Cyrillic letters (А-я, Ёё, Іі) and common punctuation («» – — „“ № …)
_CP1251_TEXT_BYTES = frozenset(range(0xC0, 0x100)) | frozenset(
    {0xA8, 0xB8, 0xB2, 0xB3, 0xAB, 0xBB, 0x96, 0x97, 0x84, 0x93, 0x94, 0xB9, 0x85, 0xA0, 0xB0}
)
# Bytes that are Kazakh letters in KZ-1048 but unused by Russian in cp1251 (Ққ Һһ Әә Ңң)
_KZ1048_STRONG = frozenset({0x8D, 0x8E, 0x9D, 0x9E, 0xA3, 0xBC, 0xBD, 0xBE})
_KZ1048_ALL = _KZ1048_STRONG | frozenset({0xA1, 0xA2, 0xA5, 0xAA, 0xAF, 0xB4, 0xBA, 0xBF})


def decode_bytes(data: bytes) -> str:
    """Decode the bytes of a text file.

    Tries, in order: a byte-order mark (UTF-8, UTF-16, UTF-32); strict UTF-8; BOM-less UTF-16
    recognised by its high bytes; UTF-8 with a few corrupt bytes (replaced by U+FFFD);
    Windows-1251 (or KZ-1048 or KOI8-R, whichever reads most plausibly) for mostly-Cyrillic
    legacy text; Windows-1252 for mostly-Latin legacy text; then charset-normalizer. The BOM
    is not part of the result; line endings and NULs are left as they are.

    Args:
        data: Raw file content.

    Returns:
        The decoded text.

    Raises:
        DocumentError: ``"binary data, not text"`` if the bytes are not text.
    """
    if not data:
        return ""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if codec == "utf-8":
                return _check_text(body.decode("utf-8", errors="replace"))
            unit = 4 if codec.startswith("utf-32") else 2
            body = body[: len(body) - len(body) % unit]
            try:
                return _check_text(body.decode(codec))
            except UnicodeDecodeError as exc:
                raise DocumentError("binary data, not text") from exc

    try:
        utf8: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None and not _is_binary_text(utf8):
        return utf8

    # UTF-16 without a BOM decodes as valid but control-ridden UTF-8 (NULs, 0x04 bytes)
    utf16 = _sniff_utf16(data)
    if utf16 is not None:
        try:
            text = data[: len(data) - len(data) % 2].decode(utf16)
        except UnicodeDecodeError:
            pass
        else:
            if _looks_like_text(text):
                return _check_text(text)
    if utf8 is not None:
        raise DocumentError("binary data, not text")

    lenient = _mostly_utf8(data)
    if lenient is not None:
        return _check_text(lenient)

    if _has_binary_bytes(data):
        raise DocumentError("binary data, not text")
    legacy = _legacy_codec(data)
    if legacy is not None:
        return _check_text(data.decode(legacy, errors="replace"))
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DocumentError("binary data, not text")
    return _check_text(str(best))


def _check_text(text: str) -> str:
    """Return ``text`` unless it is full of NULs/control characters (i.e. binary data)."""
    if _is_binary_text(text):
        raise DocumentError("binary data, not text")
    return text


def _is_binary_text(text: str) -> bool:
    sample = text[:_SAMPLE_BYTES]
    nuls = sample.count("\x00")
    controls = len(_BAD_CONTROL.findall(sample))
    return nuls > max(3, 0.01 * len(sample)) or nuls + controls > max(3, 0.05 * len(sample))


def _has_binary_bytes(data: bytes) -> bool:
    """True if a sample of ``data`` has many NULs or C0 control bytes (not tab, CR, LF, FF)."""
    sample = data[:_SAMPLE_BYTES]
    counts = Counter(sample)
    controls = sum(
        n for b, n in counts.items() if (b < 0x20 and b not in b"\t\n\v\f\r") or b == 0x7F
    )
    return controls > max(3, 0.05 * len(sample)) or counts[0] > max(3, 0.01 * len(sample))


def _looks_like_text(text: str) -> bool:
    """True if (a sample of) ``text`` has almost no control, unassigned or private characters."""
    sample = text[: _SAMPLE_BYTES // 2]
    if not sample:
        return False
    odd = sum(
        1
        for ch in sample
        if (ch not in "\t\n\r\f\v" and unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"))
    )
    return odd <= 0.02 * len(sample)


def _sniff_utf16(data: bytes) -> str | None:
    """Guess the byte order of BOM-less UTF-16 from its high bytes.

    In UTF-16 text the high byte of most code units is 0x00 (ASCII: spaces, digits, Latin) or
    0x04 (Cyrillic), while the low bytes are rarely NUL.
    """
    sample = data[: min(len(data), _SAMPLE_BYTES) & ~1]
    if len(sample) < 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    for high, low, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        high_nul = high.count(0) / len(high)
        text_block = (high.count(0) + high.count(4)) / len(high)
        low_nul = low.count(0) / len(low)
        if low_nul <= 0.02 and (high_nul >= 0.05 or text_block >= 0.9) and text_block >= 0.5:
            return codec
    return None


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few corrupt bytes: decode with U+FFFD if multibyte UTF-8 clearly dominates."""
    sample = data[:_SAMPLE_BYTES]
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - sample.count(b"\xef\xbf\xbd")
    good = sum(1 for ch in text if ord(ch) > 0x7F) - text.count("\ufffd")
    if good >= 1 and bad <= max(2, good // 50):
        return data.decode("utf-8", errors="replace")
    return None


def _legacy_codec(data: bytes) -> str | None:
    """Pick a single-byte code page from byte statistics, or None if unsure.

    Mostly-Cyrillic bytes give whichever of "cp1251", "koi8-r" and (when Kazakh-only letters
    may be present) "kz1048" reads most like Russian/Kazakh; mostly-Latin text with a few accented
    letters or curly quotes gives "cp1252" if it decodes cleanly.
    """
    counts = Counter(data[:_SAMPLE_BYTES])
    high = sum(n for b, n in counts.items() if b >= 0x80)
    if not high:
        return None
    latin = sum(n for b, n in counts.items() if 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A)
    kazakh = sum(counts[b] for b in _KZ1048_STRONG)
    cyrillic = sum(n for b, n in counts.items() if b in _CP1251_TEXT_BYTES)
    if kazakh:
        cyrillic += sum(counts[b] for b in _KZ1048_ALL)
    letters = sum(n for b, n in counts.items() if b >= 0xC0)
    if cyrillic >= 0.9 * high and letters + kazakh >= latin:
        # KOI8-R puts its letters in C0-FF too, in another order, and KZ-1048 is cp1251 plus
        # Kazakh letters: keep the reading whose letters look most like Russian/Kazakh.
        candidates = ("cp1251", "koi8-r", "kz1048") if kazakh else ("cp1251", "koi8-r")
        sample = data[:65536]
        return max(candidates, key=lambda c: _cyrillic_score(sample.decode(c, errors="replace")))
    if latin >= 3 * high:
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            return None
        return "cp1252"
    return None


# Rough frequency (per mille) of letters in Russian and Kazakh running text
_CYRILLIC_LETTER_FREQ = dict(
    zip(
        "оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъёәіқңғұүөһ",
        (110, 85, 80, 74, 67, 63, 55, 47, 45, 44, 35, 32, 30, 28, 26, 20, 19, 17, 17, 16, 16,
         14, 12, 10, 9, 7, 6, 5, 4, 3, 3, 1, 1, 30, 40, 30, 20, 15, 15, 15, 10, 1),
        strict=True,
    )
)  # fmt: skip


def _cyrillic_score(text: str) -> float:
    """Mean letter frequency of the Cyrillic letters in ``text`` (higher = more plausible)."""
    freqs = [_CYRILLIC_LETTER_FREQ.get(ch, 0) for ch in text.lower() if "\u0400" <= ch <= "\u04ff"]
    return sum(freqs) / len(freqs) if freqs else 0.0


# --------------------------------------------------------------------------------------------
# Language
# --------------------------------------------------------------------------------------------

_CYRILLIC = re.compile(r"[\u0400-\u052f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_KK_STRONG = re.compile(r"[әғқңөұүһӘҒҚҢӨҰҮҺ]")
_KK_I = re.compile(r"[іІ]")
# Latin "i" typed inside a Cyrillic word stands for Kazakh "і" (a common keyboard substitute)
_LATIN_I_IN_CYRILLIC = re.compile(r"(?<=[\u0400-\u052f])[iI]|[iI](?=[\u0400-\u052f])")
_UK_BE_MARKERS = re.compile(r"[їЇєЄґҐўЎ]")
_LANG_ALIASES = {
    "en": "en",
    "eng": "en",
    "english": "en",
    "ru": "ru",
    "rus": "ru",
    "russian": "ru",
    "русский": "ru",
    "kk": "kk",
    "kz": "kk",
    "kaz": "kk",
    "kazakh": "kk",
    "қазақ": "kk",
    "қазақша": "kk",
    "казахский": "kk",
}


def detect_language(text: str) -> str | None:
    """Guess whether text is English, Russian or Kazakh from its letters.

    Kazakh is recognised by its own Cyrillic letters (ә ғ қ ң ө ұ ү һ і): at least two of them
    making up at least 2% of the Cyrillic letters, or a single one in a very short string. So a
    Russian text quoting one Kazakh name stays Russian, and short questions still work.

    Args:
        text: Any text; only the first 100,000 characters are looked at.

    Returns:
        ``"kk"``, ``"ru"`` (mostly Cyrillic), ``"en"`` (mostly Latin), or None if no letters.
    """
    sample = text[:100_000]
    cyrillic = len(_CYRILLIC.findall(sample))
    latin = len(_LATIN.findall(sample))
    if cyrillic == 0 and latin == 0:
        return None
    latin_i = len(_LATIN_I_IN_CYRILLIC.findall(sample)) if cyrillic else 0
    cyrillic += latin_i
    latin -= latin_i
    if latin > cyrillic:
        return "en"
    strong = len(_KK_STRONG.findall(sample))
    kazakh = strong + len(_KK_I.findall(sample)) + latin_i
    if strong == 0 and _UK_BE_MARKERS.search(sample):
        return "ru"  # Ukrainian/Belarusian "і", not Kazakh; the closest supported language
    share = kazakh / cyrillic
    if (kazakh >= 2 and share >= 0.02) or (kazakh == 1 and share >= 0.08):
        return "kk"
    return "ru"


def _normalise_lang(value: object) -> str | None:
    """Map a metadata language tag ("kz", "ru-RU", "English", ...) to en/ru/kk, else None."""
    cleaned = _clean_field(value)
    if cleaned is None:
        return None
    tag = re.split(r"[-_\s,;]", cleaned.lower(), maxsplit=1)[0]
    return _LANG_ALIASES.get(tag)


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

_EN_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_RU_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("января", "январь", "янв"),
            ("февраля", "февраль", "фев", "февр"),
            ("марта", "март", "мар"),
            ("апреля", "апрель", "апр"),
            ("мая", "май"),
            ("июня", "июнь", "июн"),
            ("июля", "июль", "июл"),
            ("августа", "август", "авг"),
            ("сентября", "сентябрь", "сен", "сент"),
            ("октября", "октябрь", "окт"),
            ("ноября", "ноябрь", "ноя", "нояб"),
            ("декабря", "декабрь", "дек"),
        ],
        start=1,
    )
    for name in names
}
# fmt: off
_KK_MONTHS = (
    "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым",
    "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан",
)
# fmt: on
_WORD = r"[^\W\d_]+"
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # 2025-10-11, 2025-10-11T09:00:00Z
    (re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)"), "ymd"),
    # 11.10.2025
    (re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)"), "dmy"),
    # 2025 жылғы 11 қазан, 2025 ж. 11 қазанда
    (
        re.compile(rf"(?<!\d)(\d{{4}})\s*(?:жылғы|жылы|ж\.)\s*(\d{{1,2}})\s*[-–]?\s*({_WORD})"),
        "ydw",
    ),
    # 11 October 2025, 11th of Oct. 2025, 11 октября 2025 г., 11 қазан 2025
    (
        re.compile(
            rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+({_WORD})\.?,?\s+(\d{{4}})(?!\d)",
            re.IGNORECASE,
        ),
        "dwy",
    ),
    # October 11, 2025
    (
        re.compile(
            rf"(?<![^\W\d_])({_WORD})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)",
            re.IGNORECASE,
        ),
        "wdy",
    ),
)
_NAME_DATE = re.compile(r"(?<!\d)((?:19|20|21)\d\d)([-_.]?)(\d\d)\2(\d\d)(?!\d)")


def find_date(text: str, filename: str = "") -> str | None:
    """Find a document's date in its text or file name (never its modification time).

    Dates recognised in the text: ``2025-10-11``, ``11.10.2025``, ``11 October 2025``,
    ``October 11, 2025``, ``11 октября 2025 г.``, ``11 қазан 2025``, ``2025 жылғы 11 қазан``.
    In order of preference: a dateline (a date starting in the first 200 characters, as in
    "ASTANA, 11 October 2025 —"); a date in the file name (``2025-10-11-x.md``,
    ``20251011_x.pdf``); the earliest date elsewhere in the first 1000 characters. A date
    further into the text is more often an event date than the publication date, so the file
    name beats it.

    Args:
        text: The document text.
        filename: The file name or path (only the last component is used).

    Returns:
        The date as ISO ``YYYY-MM-DD``, or None.
    """
    earliest = _earliest_date(text[:_DATE_SEARCH_CHARS])
    if earliest is not None and earliest[0] < _DATELINE_CHARS:
        return earliest[1]
    if filename:
        for m in _NAME_DATE.finditer(Path(filename).name):
            iso = _iso_date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
            if iso is not None:
                return iso
    return earliest[1] if earliest is not None else None


def _earliest_date(head: str) -> tuple[int, str] | None:
    """(position, ISO date) of the first real date in ``head``, or None."""
    found: list[tuple[int, str]] = []
    for pattern, order in _DATE_PATTERNS:
        for m in pattern.finditer(head):
            iso = _date_from_match(m, order)
            if iso is not None:
                found.append((m.start(), iso))
                break  # later matches of this pattern cannot be earlier
    return min(found) if found else None


def _date_from_match(m: re.Match[str], order: str) -> str | None:
    a, b, c = m.group(1), m.group(2), m.group(3)
    if order == "ymd":
        return _iso_date(int(a), int(b), int(c))
    if order == "dmy":
        return _iso_date(int(c), int(b), int(a))
    if order == "ydw":
        month = _month_number(c)
        return _iso_date(int(a), month, int(b)) if month else None
    if order == "dwy":
        month = _month_number(b)
        return _iso_date(int(c), month, int(a)) if month else None
    month = _month_number(a)  # "wdy"
    return _iso_date(int(c), month, int(b)) if month else None


def _month_number(word: str) -> int | None:
    w = word.lower().rstrip(".")
    if w in _EN_MONTHS:
        return _EN_MONTHS[w]
    if w in _RU_MONTHS:
        return _RU_MONTHS[w]
    w = w.replace("i", "і")  # Latin "i" typed for Kazakh "і"
    for i, month in enumerate(_KK_MONTHS, start=1):
        if w.startswith(month) and len(w) - len(month) <= 4:  # қазан, қазанда, қазанның
            return i
    return None


def _iso_date(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= 2100:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _normalise_date(value: object) -> str | None:
    """ISO date from a metadata value (date, datetime, ISO string, "11 October 2025", ...)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (str, int)):
        s = str(value).strip()
        return find_date(s, s) if s else None
    return None

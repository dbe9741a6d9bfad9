"""A generated set of malformed input files for ingest hardening (tests and benchmark).

:func:`write_malformed` writes well over a hundred hostile or broken files into one folder:
truncated, corrupt and encrypted PDFs, zip bombs and other broken archives named ``.docx``,
binary data named ``.txt``/``.md``/``.html``/``.jsonl``, broken YAML front matter, single-line
files of many megabytes, invalid UTF-8, NUL bytes, deeply nested HTML/JSON/XML, and a file name
that is not UTF-8. Every file is described by a :class:`Case` saying what it is and whether the
ingest must refuse it (``expect == "skip"``) or may index whatever readable text it holds
(``expect == "any"``: e.g. text with a few stray NUL bytes is salvaged).

:func:`write_special_paths` makes the paths a directory walk never yields but a user can name
directly (a FIFO, a symlink to ``/dev/zero``, a directory named ``x.txt``, a dangling symlink).

Only the standard library and the project's own dependencies (pypdf, python-docx) are used.
"""

from __future__ import annotations

import io
import json
import os
import random
import sqlite3
import string
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MB = 2**20


@dataclass(frozen=True)
class Case:
    """One generated file: its name in the folder, what it is, and what the ingest must do."""

    name: str
    kind: str
    expect: str  # "skip" (must be refused with a reason) or "any" (indexed or refused)


# --------------------------------------------------------------------------------------------
# PDF, ZIP and DOCX builders (by hand, so that every byte is under control)
# --------------------------------------------------------------------------------------------


def pdf_bytes(objects: list[bytes], *, root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF file whose numbered objects are ``objects`` (1-based), with a correct xref."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\n" % (len(objects) + 1, root, trailer_extra)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def text_pdf(
    lines: list[str], *, content: bytes | None = None, pages: bytes | None = None
) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica (ASCII only)."""
    if content is None:
        ops = [b"BT /F1 12 Tf 72 720 Td 14 TL"]
        for line in lines:
            safe = line.encode("ascii", "replace").replace(b"\\", b"").replace(b"(", b"[")
            ops.append(b"(" + safe.replace(b")", b"]") + b") Tj T*")
        ops.append(b"ET")
        content = b"\n".join(ops)
    stream = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
    return pdf_bytes(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            pages or b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            stream,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def _deflate_zeros(megabytes: int) -> tuple[bytes, int]:
    """Raw-deflated ``megabytes`` MiB of zeros (built from one repeated block) and its CRC-32."""
    zeros = bytes(MB)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    data = block * megabytes + comp.flush()
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    return data, crc


def zip_bytes(members: list[tuple[str, bytes, int, int, int]], *, flags: int = 0) -> bytes:
    """A ZIP archive from ``(name, deflated data, crc32, declared size, central size)`` members.

    The local header declares ``declared size`` and the central directory ``central size``, so
    a caller can make an archive lie about what it expands to.
    """
    out = bytearray()
    central = bytearray()
    for name, data, crc, size, central_size in members:
        raw = name.encode()
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, flags, 8, 0, 0x21, crc, len(data), size, len(raw), 0
        )
        out += raw + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50, 20, 20, flags, 8, 0, 0x21, crc, len(data), central_size, len(raw),
            0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        central += raw
    start = len(out)
    out += central
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0
    )
    return bytes(out)


def _deflated(data: bytes) -> tuple[str, bytes, int, int, int]:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = comp.compress(data) + comp.flush()
    crc = zlib.crc32(data)
    return ("", packed, crc, len(data), len(data))


def _member(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    _, packed, crc, size, csize = _deflated(data)
    return (name, packed, crc, size, csize)


def real_docx(paragraphs: list[str]) -> bytes:
    """A genuine DOCX written by python-docx."""
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def docx_with(document_xml: bytes, base: bytes) -> bytes:
    """``base`` (a DOCX) with ``word/document.xml`` replaced by ``document_xml``."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(base))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = document_xml if info.filename == "word/document.xml" else src.read(info)
            out.writestr(info.filename, data)
    return buf.getvalue()


def _encrypted_pdf(base: bytes, algorithm: str) -> bytes | None:
    from pypdf import PdfReader, PdfWriter

    try:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base)))
        writer.encrypt(user_password="secret", owner_password="owner", algorithm=algorithm)
        buf = io.BytesIO()
        writer.write(buf)
    except Exception:  # AES needs the optional 'cryptography' package
        return None
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# The set
# --------------------------------------------------------------------------------------------

GOOD_TEXT = (
    "ASTANA, 12 March 2024 — The Ministry of Culture and Information announced the results of "
    "the national competition for young theatre directors. Forty-two productions were shown."
)


def write_malformed(directory: Path, *, big_mb: int = 20, seed: int = 0) -> list[Case]:
    """Write the malformed files into ``directory`` (created) and describe each.

    Args:
        directory: Where to write; nothing else should be in it.
        big_mb: Size of the "huge single line" files, in MiB (20 in the issue).
        seed: Seed of the random bytes.

    Returns:
        One :class:`Case` per file written (at least 100).
    """
    directory.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    cases: list[Case] = []

    def put(name: str, data: bytes | str, kind: str, expect: str = "skip") -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        (directory / name).write_bytes(raw)
        cases.append(Case(name, kind, expect))

    def noise(n: int) -> bytes:
        return rnd.randbytes(n)

    # ---- PDF -----------------------------------------------------------------------------
    good_pdf = text_pdf([GOOD_TEXT[:80], GOOD_TEXT[80:]])
    for pct in range(10, 100, 10):
        put(f"pdf-truncated-{pct}.pdf", good_pdf[: len(good_pdf) * pct // 100], "truncated PDF")
    for cut in (0.3, 0.5, 0.7):
        head = good_pdf[: int(len(good_pdf) * cut)]
        put(f"pdf-cut-{int(cut * 100)}-eof.pdf", head + b"\n%%EOF\n", "truncated PDF with %%EOF")
    put("pdf-header-only.pdf", b"%PDF-1.7\n", "PDF header only")
    put("pdf-header-noise.pdf", b"%PDF-1.4\n" + noise(8192) + b"\n%%EOF\n", "PDF of noise")
    put("pdf-not-a-pdf.pdf", GOOD_TEXT, "text named .pdf")
    put("pdf-noise.pdf", noise(4096), "random bytes named .pdf")
    for algo in ("RC4-40", "RC4-128", "AES-128", "AES-256"):
        enc = _encrypted_pdf(good_pdf, algo)
        if enc is not None:
            put(f"pdf-encrypted-{algo.lower()}.pdf", enc, f"encrypted PDF ({algo})")
    bomb, _ = _deflate_zeros(200)
    put(
        "pdf-flate-bomb.pdf",
        pdf_bytes(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % (len(bomb) + 6)
                + b"\x78\x9c"
                + bomb
                + b"\x00\x00\x00\x00\nendstream",
            ]
        ),
        "PDF with a 200 MB flate bomb",
    )
    put(
        "pdf-deep-array.pdf",
        pdf_bytes(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots 4 0 R >>",
                b"[" * 100_000 + b"]" * 100_000,
            ]
        ),
        "PDF with 100k nested arrays",
    )
    loop_objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    plain = pdf_bytes(loop_objs)
    xref_at = plain.index(b"xref\n")
    put(
        "pdf-xref-loop.pdf",
        pdf_bytes(loop_objs, trailer_extra=b"/Prev %d " % xref_at),
        "PDF whose xref chain loops",
    )
    put("pdf-no-text.pdf", text_pdf([], content=b"0 0 m 100 100 l S"), "PDF without text")
    put(
        "pdf-billion-pages.pdf",
        text_pdf(["x"], pages=b"<< /Type /Pages /Kids [3 0 R 3 0 R] /Count 1000000000 >>"),
        "PDF claiming a billion pages",
        "any",
    )
    put(
        "pdf-kids-loop.pdf",
        pdf_bytes(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
            ]
        ),
        "PDF whose page tree contains itself",
    )

    # ---- DOCX ----------------------------------------------------------------------------
    good_docx = real_docx([GOOD_TEXT])
    zeros, crc = _deflate_zeros(600)
    put(
        "docx-zip-bomb.docx",
        zip_bytes([("word/document.xml", zeros, crc, 600 * MB, 600 * MB)]),
        "zip bomb (600 MB of zeros) named .docx",
    )
    put(
        "docx-lying-sizes.docx",
        zip_bytes([("word/document.xml", zeros, crc, 1000, 1000)]),
        "zip bomb declaring 1 KB",
    )
    put(
        "docx-declares-10gb.docx",
        zip_bytes([_member("[Content_Types].xml", b"<Types/>")])[:-22]
        + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, 0, 0, 0),
        "zip with a bogus directory",
    )
    many = [_member(f"word/media/f{i}.bin", b"") for i in range(20_000)]
    put("docx-20k-members.docx", zip_bytes(many), "zip with 20,000 members")
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
            for i in range(1, 10)
        )
        + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
        b'main"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'
    )
    put("docx-billion-laughs.docx", docx_with(laughs, good_docx), "DOCX with billion laughs")
    deep = (
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        + b"<w:body>"
        + b"<w:sdt><w:sdtContent>" * 50_000
        + b"</w:sdtContent></w:sdt>" * 50_000
        + b"</w:body></w:document>"
    )
    put("docx-deep-xml.docx", docx_with(deep, good_docx), "DOCX with 50k nested elements")
    put("docx-not-xml.docx", docx_with(noise(2048), good_docx), "DOCX whose XML is noise")
    put("docx-truncated.docx", good_docx[: len(good_docx) // 2], "truncated DOCX")
    put("docx-noise.docx", noise(8192), "random bytes named .docx")
    put("docx-pk-noise.docx", b"PK\x03\x04" + noise(8192), "PK header then noise")
    put("docx-empty-zip.docx", zip_bytes([]), "empty zip named .docx")
    put(
        "docx-no-document.docx",
        zip_bytes([_member("[Content_Types].xml", b"<Types/>")]),
        "zip without word/document.xml",
    )
    put("docx-ole.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + noise(4096), "OLE (old .doc)")
    put(
        "docx-encrypted-zip.docx",
        zip_bytes([_member("word/document.xml", noise(512))], flags=1),
        "zip with encrypted members",
    )
    put("docx-text.docx", GOOD_TEXT, "text named .docx")
    put("docx-empty-body.docx", real_docx([]), "DOCX without text")

    # ---- binary data named as text -------------------------------------------------------
    for suffix in (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl"):
        put(f"binary-random{suffix}", noise(16_384), f"random bytes named {suffix}")
    exe = Path(sys.executable).resolve().read_bytes()[:65_536]
    put("binary-elf.txt", exe, "an executable named .txt")
    put("binary-elf.md", exe, "an executable named .md")
    put("binary-png.md", b"\x89PNG\r\n\x1a\n" + noise(8192), "PNG named .md")
    put("binary-gzip.txt", zlib.compress(GOOD_TEXT.encode() * 50), "zlib data named .txt")
    put("binary-nuls.txt", bytes(65_536), "64 KiB of NUL bytes")
    put("binary-ff.txt", b"\xff" * 65_536, "64 KiB of 0xFF")
    put("binary-utf16-noise.txt", b"\xff\xfe" + noise(8191), "UTF-16 BOM then noise")
    put("binary-utf32-noise.md", b"\xff\xfe\x00\x00" + noise(8190), "UTF-32 BOM then noise")
    db = directory / "binary-sqlite.md"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x)")
    con.executemany("INSERT INTO t VALUES (?)", [(noise(64),) for _ in range(100)])
    con.commit()
    con.close()
    cases.append(Case(db.name, "an SQLite database named .md", "skip"))

    # ---- broken front matter -------------------------------------------------------------
    body = f"\n{GOOD_TEXT}\n"
    put("fm-unclosed.md", f"---\ntitle: x\ndate: 2024-01-01\n{body}", "front matter never closed")
    put("fm-tabs.md", f"---\ntitle: x\n\tdate: 2024\n---\n{body}", "tab-indented YAML")
    put("fm-brackets.md", f'---\ntitle: "open\ndate: [2024\n---\n{body}', "YAML syntax error")
    put("fm-python-tag.md", f"---\ntitle: !!python/object/apply:os.system [id]\n---\n{body}",
        "YAML python tag")  # fmt: skip
    put("fm-scalar.md", f"---\njust a string\n---\n{body}", "front matter not a mapping")
    put("fm-list.md", f"---\n- a\n- b\n---\n{body}", "front matter is a list")
    laugh = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    put("fm-alias-bomb.md", f"---\n{laugh}title: *i\n---\n{body}", "YAML alias bomb", "any")
    put("fm-binary.md", b"---\ntitle: \x00\x01\x02\xff\xfe\n---\n" + body.encode(),
        "binary inside front matter", "any")  # fmt: skip
    put("fm-only.md", "---\ntitle: Nothing here\ndate: 2024-01-01\n---\n", "front matter only")
    put("fm-empty-both.md", "---\n---\n", "empty front matter, no body")
    put("fm-bad-date.md", f"---\ntitle: x\ndate: 2025-13-45\n---\n{body}", "impossible date", "any")
    put("fm-nested-title.md", f"---\ntitle: {{a: {{b: [1, 2]}}}}\n---\n{body}",
        "title is a mapping", "any")  # fmt: skip
    put("fm-huge.md", "---\n" + "k: " + "v" * (5 * MB) + "\n---\n" + body,
        "5 MB front matter value", "any")  # fmt: skip
    put("fm-deep-flow.md", "---\nx: " + "[" * 20_000 + "]" * 20_000 + "\n---\n" + body,
        "20k nested YAML lists")  # fmt: skip
    put("fm-invalid-utf8.md", b"---\ntitle: \xc3\x28\xa0\xa1\n---\n" + body.encode(),
        "invalid UTF-8 in front matter", "any")  # fmt: skip

    # ---- huge single lines ---------------------------------------------------------------
    big = big_mb * MB
    letters = "".join(rnd.choice(string.ascii_letters) for _ in range(MB))
    put("big-letters.txt", (letters * big_mb)[:big], f"{big_mb} MB single line of letters")
    vocabulary = ("culture", "ministry", "театр", "мәдениет")
    words = " ".join(rnd.choice(vocabulary) for _ in range(MB // 7))
    line = (words + " ") * (big // len(words.encode()) + 1)
    put("big-words.md", line.encode()[:big].decode("utf-8", "ignore"), f"{big_mb} MB line of words")
    put("big-spaces.txt", b" " * big, f"{big_mb} MB of spaces")
    put("big-a.txt", b"a " * (big // 2), f"{big_mb} MB of 'a '")
    put("big-record.jsonl", json.dumps({"text": letters * big_mb}), f"{big_mb} MB JSON record")
    put("big-minified.html", "<html><body><p>" + "<b>x</b>" * (big // 8) + "</p></body></html>",
        f"{big_mb} MB of one-line HTML")  # fmt: skip
    sparse = directory / "big-sparse.md"
    with open(sparse, "wb") as fh:
        fh.truncate(60 * MB)  # sparse: costs no disk
    cases.append(Case(sparse.name, "60 MB file (over the size limit)", "skip"))

    # ---- invalid UTF-8 -------------------------------------------------------------------
    put("utf8-continuations.txt", bytes(rnd.randrange(0x80, 0xC0) for _ in range(8192)),
        "lone UTF-8 continuation bytes")  # fmt: skip
    put("utf8-overlong.txt", b"\xc0\xaf\xe0\x80\xaf" * 2000, "overlong UTF-8 sequences")
    # valid cp1251 (0xA0 is a no-break space there): the legacy-encoding fallback may read it
    put("utf8-surrogates.txt", b"\xed\xa0\x80\xed\xbf\xbf" * 2000, "UTF-8-encoded surrogates",
        "any")  # fmt: skip
    put("utf8-five-byte.txt", b"\xf8\x88\x80\x80\x80\xfc\x84\x80\x80\x80\x80" * 1000,
        "5- and 6-byte UTF-8 sequences")  # fmt: skip
    put("utf8-truncated-tail.md", GOOD_TEXT.encode() + b"\xd0", "text ending mid-character",
        "any")  # fmt: skip
    put("utf8-mixed-cp1251.txt", GOOD_TEXT.encode() + "\nМинистерство культуры\n".encode("cp1251"),
        "UTF-8 and cp1251 mixed", "any")  # fmt: skip
    put("utf16-odd-length.txt", GOOD_TEXT.encode("utf-16-le") + b"\x00", "UTF-16 of odd length",
        "any")  # fmt: skip
    put("utf8-bom-noise.md", b"\xef\xbb\xbf" + noise(8192), "UTF-8 BOM then noise")
    put("utf8-random-high.md", bytes(rnd.randrange(0x80, 0x100) for _ in range(8192)),
        "random high bytes", "any")  # fmt: skip
    put("utf8-replacement-chars.txt", "\ufffd" * 50_000, "only U+FFFD", "any")

    # ---- NUL bytes -----------------------------------------------------------------------
    put("nul-between-chars.txt", "\x00".join(GOOD_TEXT).encode(), "NUL between characters",
        "any")  # fmt: skip
    put("nul-few.md", GOOD_TEXT.encode()[:50] + b"\x00\x00" + GOOD_TEXT.encode()[50:],
        "two stray NUL bytes", "any")  # fmt: skip
    put("nul-half.txt", b"".join(bytes([c, 0, 0]) for c in GOOD_TEXT.encode()),
        "text with NUL pairs")  # fmt: skip
    put("nul-front-matter.md", b"---\ntitle: a\x00b\n---\n" + GOOD_TEXT.encode(),
        "NUL in front matter", "any")  # fmt: skip
    put("nul-html.html", b"<html><body>\x00" * 2000 + b"</body></html>", "NULs in HTML")

    # ---- HTML ----------------------------------------------------------------------------
    put("html-nested-div.html", "<div>" * 100_000 + "deep" + "</div>" * 100_000,
        "100k nested <div>", "any")  # fmt: skip
    put("html-nested-b.html", "<b>" * 100_000 + "deep", "100k unclosed <b>", "any")
    put("html-nested-table.html", "<table><tr><td>" * 10_000 + "cell", "10k nested tables",
        "any")  # fmt: skip
    put("html-nested-list.html", "<ul><li>" * 50_000 + "item", "50k nested lists", "any")
    put("html-nested-pre.html", "<pre>" * 50_000 + "pre", "50k nested <pre>", "any")
    put("html-unclosed-comment.html", "<html><body><!-- " + GOOD_TEXT * 100, "unclosed comment")
    put("html-scripts-only.html",
        "<html><head><script>" + "var a=1;" * 10_000 + "</script></head></html>",
        "only scripts")  # fmt: skip
    put("html-entities.html", "<p>" + "&amp;&lt;&#x41;&#65;&bogus;" * 200_000 + "</p>",
        "a million entities", "any")  # fmt: skip
    put("html-huge-attr.html", '<p title="' + "x" * (5 * MB) + '">' + GOOD_TEXT + "</p>",
        "5 MB attribute", "any")  # fmt: skip
    put("html-tag-soup.html", "<<<<>>>>" * 100_000, "tag soup", "any")
    put("html-charset-utf16.html", '<meta charset="utf-16"><p>' + GOOD_TEXT, "lying charset",
        "any")  # fmt: skip
    put("html-charset-bogus.html", '<meta charset="x-bogus-99"><p>' + GOOD_TEXT,
        "unknown charset", "any")  # fmt: skip
    put("html-empty-body.html", "<html><head><title>t</title></head><body></body></html>",
        "no text")  # fmt: skip
    put("html-hidden-only.html", '<body><div hidden>secret</div><nav>menu</nav></body>',
        "only hidden text")  # fmt: skip
    put("html-svg-laughs.html", laughs.replace(b"w:document", b"svg").decode() + "<p>x</p>",
        "billion laughs in HTML", "any")  # fmt: skip

    # ---- JSON Lines ----------------------------------------------------------------------
    put("jsonl-deep.jsonl", "[" * 100_000 + "]" * 100_000 + "\n", "100k nested JSON arrays")
    put("jsonl-deep-object.jsonl", '{"a":' * 50_000 + "1" + "}" * 50_000, "50k nested objects")
    put("jsonl-invalid.jsonl", "{not json}\n" * 50_000, "50k invalid lines")
    put("jsonl-text-number.jsonl", '{"text": 42}\n{"text": null}\n', "text is not a string")
    put("jsonl-empty-text.jsonl", '{"text": ""}\n{"text": "   "}\n', "empty texts")
    put("jsonl-arrays.jsonl", "[1, 2]\n[3]\n", "records are arrays")
    put("jsonl-huge-int.jsonl", '{"text": "x", "id": ' + "9" * 100_000 + "}\n",
        "100k-digit number")  # fmt: skip
    put("jsonl-lone-surrogate.jsonl", '{"text": "bad \\ud800 surrogate and more words"}\n',
        "lone surrogate escape", "any")  # fmt: skip
    put("jsonl-nan.jsonl", '{"text": NaN, "date": Infinity}\n', "NaN text")

    # ---- empty and almost empty ----------------------------------------------------------
    put("empty.md", b"", "empty file")
    put("empty-whitespace.txt", b" \n\t\r\n" * 100, "only whitespace")
    put("empty-bom.txt", b"\xef\xbb\xbf", "only a BOM")
    put("empty-punctuation.md", "?!… — «»" * 10, "no letters", "any")

    # ---- a file name that is not UTF-8 ---------------------------------------------------
    odd = os.fsencode(directory) + b"/bad-name-\xff\xfe.txt"
    with open(odd, "wb") as fh:
        fh.write(GOOD_TEXT.encode())
    name = os.fsdecode(odd[len(os.fsencode(directory)) + 1 :])
    cases.append(Case(name, "non-UTF-8 name", "skip"))
    return cases


def write_special_paths(directory: Path) -> dict[str, Path]:
    """Paths a folder walk skips but a user may name: FIFO, device link, folder, dangling link."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    fifo = directory / "fifo.txt"
    os.mkfifo(fifo)
    paths["fifo"] = fifo
    zero = directory / "zero.txt"
    zero.symlink_to("/dev/zero")
    paths["dev_zero"] = zero
    folder = directory / "folder.txt"
    folder.mkdir()
    (folder / "inner.txt").write_text(GOOD_TEXT, encoding="utf-8")
    paths["folder"] = folder
    dangling = directory / "dangling.md"
    dangling.symlink_to(directory / "nowhere.md")
    paths["dangling"] = dangling
    return paths


MakeFiles = Callable[[Path], list[Case]]

__all__ = ["GOOD_TEXT", "Case", "write_malformed", "write_special_paths"]

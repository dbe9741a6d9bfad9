"""Documents added from the browser: checked, then kept in ``<data_dir>/uploads/``.

Only the file's own name is kept (no folders, no ``..``, no hidden files), so nothing is written
outside the uploads folder. A file of another type, one too large, and the files beyond the count
limit are rejected with their reason before anything is indexed.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

UPLOAD_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx"})
"""File types accepted from the browser."""
UPLOADS_DIR = "uploads"
_UNSAFE = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True)
class Rejected:
    """A file that was not accepted: its name, and the catalogue key (and values) of why."""

    name: str
    key: str
    values: dict[str, object] = field(default_factory=dict)


@dataclass
class Accepted:
    """The files kept for indexing, and the ones rejected."""

    paths: list[Path] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def uploads_dir(data_dir: Path) -> Path:
    """The folder uploaded documents are kept in."""
    return Path(data_dir) / UPLOADS_DIR


def safe_name(name: str) -> str | None:
    """A file name safe to write in the uploads folder, or None when nothing usable is left.

    Only the last path component is kept; characters other than letters, digits, ``.``, ``-``,
    ``_`` and spaces become ``_``; a leading dot is dropped.
    """
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or base in {".", ".."} or len(base.encode("utf-8")) > 200:
        return None
    return base


def accept_uploads(
    files: Sequence[tuple[str, Path]],
    data_dir: Path,
    *,
    max_mb: float,
    max_files: int,
) -> Accepted:
    """Check uploaded files and copy the good ones into the uploads folder.

    Args:
        files: ``(name the user gave, where the web server put it)`` pairs.
        data_dir: The chat's data folder.
        max_mb: Largest file accepted.
        max_files: Most files accepted at once (the ones beyond are rejected).

    Returns:
        The copied files and the rejected ones with their reasons.
    """
    out = Accepted()
    target = uploads_dir(data_dir)
    for i, (name, source) in enumerate(files):
        shown = Path(name.replace("\\", "/")).name or name
        if i >= max_files:
            out.rejected.append(Rejected(shown, "docs.reason_count", {"count": max_files}))
            continue
        clean = safe_name(name)
        if clean is None:
            out.rejected.append(Rejected(shown, "docs.reason_name"))
            continue
        if Path(clean).suffix.lower() not in UPLOAD_SUFFIXES:
            out.rejected.append(Rejected(shown, "docs.reason_type"))
            continue
        if source.stat().st_size > max_mb * 2**20:
            out.rejected.append(Rejected(shown, "docs.reason_size", {"mb": f"{max_mb:g}"}))
            continue
        target.mkdir(parents=True, exist_ok=True)
        dest = target / clean
        tmp = target / f".{clean}.part"
        shutil.copyfile(source, tmp)
        tmp.replace(dest)
        out.paths.append(dest)
    return out

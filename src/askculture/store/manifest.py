"""The commit point of an index: which segments are live, with which deletions.

A commit writes ``gen-NNNNNN.json`` (the manifest: model, chunking, counts and the list of live
segments) and then replaces ``CURRENT`` atomically with its name. Everything a manifest names
was written and fsynced before it, and is never changed afterwards.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from askculture.errors import IndexStoreError

FORMAT_VERSION = 2
CURRENT = "CURRENT"
SEGMENTS = "segments"


@dataclass
class Deletions:
    """What later commits removed from a segment (cumulative), in file ``file``."""

    file: str
    chunks: int = 0
    documents: int = 0
    files: int = 0
    languages: dict[str, int] = field(default_factory=dict)


@dataclass
class SegmentInfo:
    """One immutable segment as a manifest lists it."""

    name: str
    chunks: int
    documents: int
    files: int
    index_type: str
    languages: dict[str, int] = field(default_factory=dict)
    deletions: Deletions | None = None

    @property
    def live_chunks(self) -> int:
        """Chunks not deleted."""
        return self.chunks - (self.deletions.chunks if self.deletions else 0)

    @property
    def live_documents(self) -> int:
        """Documents not deleted."""
        return self.documents - (self.deletions.documents if self.deletions else 0)

    @property
    def live_files(self) -> int:
        """Source files not deleted."""
        return self.files - (self.deletions.files if self.deletions else 0)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentInfo:
        """Read back :func:`dataclasses.asdict` output."""
        dels = data.get("deletions")
        return cls(**{**data, "deletions": Deletions(**dels) if dels else None})


@dataclass
class Manifest:
    """What an index was built with, and what it holds."""

    model: str
    model_id: str
    dim: int
    query_prefix: str
    passage_prefix: str
    chunking: dict[str, Any]
    format_version: int = FORMAT_VERSION
    index_type: str = "flat"
    """"hnsw" when one or more segments search approximately, else "flat"."""
    generation: int = 0
    next_id: int = 1
    """The chunk id the next added chunk gets (ids are never reused)."""
    counts: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    segments: list[SegmentInfo] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)

    def to_json(self) -> str:
        """Serialise for ``gen-NNNNNN.json``."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)

    def summarise(self) -> None:
        """Set ``counts``, ``languages`` and ``index_type`` from the segments."""
        self.counts = {
            "files": sum(s.live_files for s in self.segments),
            "documents": sum(s.live_documents for s in self.segments),
            "chunks": sum(s.live_chunks for s in self.segments),
            "segments": len(self.segments),
            "deleted_chunks": sum(s.chunks - s.live_chunks for s in self.segments),
        }
        langs: dict[str, int] = {}
        for s in self.segments:
            for lang, n in s.languages.items():
                langs[lang] = langs.get(lang, 0) + n
            for lang, n in (s.deletions.languages if s.deletions else {}).items():
                langs[lang] = langs.get(lang, 0) - n
        self.languages = {k: v for k, v in sorted(langs.items()) if v}
        hnsw = any(s.index_type == "hnsw" for s in self.segments)
        self.index_type = "hnsw" if hnsw else "flat"

    @classmethod
    def from_file(cls, path: Path) -> Manifest:
        """Read a manifest; raise :class:`IndexStoreError` when it is not one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format_version") != FORMAT_VERSION:
                raise IndexStoreError(
                    f"index format {data.get('format_version')} is not supported "
                    f"(expected {FORMAT_VERSION}); rebuild the index"
                )
            data["segments"] = [SegmentInfo.from_dict(s) for s in data.get("segments", [])]
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexStoreError(f"{path} is not a readable index manifest: {exc}") from exc


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (new names, renames) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Make every file and folder under ``path`` durable."""
    dirs = [path]
    for p in sorted(path.rglob("*")):
        if p.is_dir():
            dirs.append(p)
        elif p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    for d in dirs:
        fsync_dir(d)


def write_durably(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, fsynced, renamed into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def manifest_name(generation: int) -> str:
    """File name of a generation's manifest."""
    return f"gen-{generation:06d}.json"


def current_generation(index_dir: Path) -> Path | None:
    """The live manifest of ``index_dir``, or ``None`` if it holds no index yet."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexStoreError(f"cannot read {index_dir / CURRENT}: {exc}") from exc
    if not name.startswith("gen-") or "/" in name:
        raise IndexStoreError(f"{index_dir} is not an askculture index (bad {CURRENT} file)")
    return index_dir / name


def publish(index_dir: Path, manifest: Manifest) -> Path:
    """Write ``manifest`` as the next generation and point ``CURRENT`` at it (the commit)."""
    path = index_dir / manifest_name(manifest.generation)
    write_durably(path, manifest.to_json())
    write_durably(index_dir / CURRENT, path.name)
    fsync_dir(index_dir)
    return path


__all__ = [
    "CURRENT",
    "FORMAT_VERSION",
    "SEGMENTS",
    "Deletions",
    "Manifest",
    "SegmentInfo",
    "current_generation",
    "fsync_dir",
    "fsync_tree",
    "manifest_name",
    "publish",
    "write_durably",
]

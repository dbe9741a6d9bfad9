"""Synthetic data for the benchmarks: a varied copy of the sample corpus, and big indexes.

* :func:`vary_corpus` writes ``copies`` variants of the sample corpus (paragraphs shuffled,
  digits changed, titles numbered), so that a larger corpus of realistic files can be ingested.
* :func:`build_index` writes an index of ``n`` chunks straight through :class:`IndexWriter`
  (segment by segment, as an ingest does),
  without embedding anything: random unit vectors and texts drawn from the sample corpus's own
  words (so BM25 sees realistic terms and posting lists), under a manifest that names the real
  embedding model, so ``retrieve`` and ``ask`` query it exactly as a real index.
* :func:`unit_vectors` draws the vectors. ``"structured"`` (the default) puts them near a
  32-dimensional subspace in 64 clusters, plus noise: nearest neighbours are as close as real e5
  neighbours (top-1 cosine ≈ 0.85) and local intrinsic dimension is low, as in real text
  embeddings. ``"uniform"`` is uniform on the sphere: the worst case, where "nearest" neighbours
  are barely nearer than random ones and approximate search cannot find them.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from askculture.chunking import Chunk
from askculture.documents import Document, iter_files, load_file
from askculture.lexical import tokenize, words
from askculture.settings import SAMPLE_CORPUS_DIR
from askculture.store import FileState, IndexWriter, Manifest

LANGS = ("en", "ru", "kk")


# --------------------------------------------------------------------------------------------
# A larger corpus of real-looking files
# --------------------------------------------------------------------------------------------


def vary_corpus(target: Path, copies: int, seed: int = 0) -> list[Path]:
    """Write ``copies`` varied copies of every sample-corpus file under ``target``.

    Each copy keeps the front matter (title numbered), shuffles the body's paragraphs and
    changes digits, so its chunks and hashes differ from the original's.
    """
    rnd = random.Random(seed)
    out: list[Path] = []
    sources = sorted(SAMPLE_CORPUS_DIR.glob("*.md"))
    for c in range(copies):
        folder = target / f"copy-{c:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for src in sources:
            raw = src.read_text(encoding="utf-8")
            head, body = "", raw
            if raw.startswith("---\n"):
                end = raw.index("\n---\n", 4) + 5
                head, body = raw[:end], raw[end:]
            head = re.sub(
                r'(?m)^title: "?(.*?)"?$', lambda m, c=c: f'title: "{m.group(1)} ({c + 1})"', head
            )
            paragraphs = [p for p in body.split("\n\n") if p.strip()]
            rnd.shuffle(paragraphs)
            shift = rnd.randrange(1, 9)
            body = "\n\n".join(paragraphs)
            text = re.sub(r"\d", lambda m, shift=shift: str((int(m.group()) + shift) % 10), body)
            path = folder / src.name
            path.write_text(f"{head}\n{text}\n", encoding="utf-8")
            out.append(path)
    return out


# --------------------------------------------------------------------------------------------
# Vectors
# --------------------------------------------------------------------------------------------


def unit_vectors(
    n: int, dim: int, seed: int, kind: str = "structured", *, block: int = 100_000
) -> npt.NDArray[np.float32]:
    """``n`` random unit vectors of ``dim`` dimensions (see the module docstring for ``kind``).

    The structure (subspace, clusters) depends only on ``dim``, not on ``seed``, so vectors
    drawn with other seeds (queries) come from the same distribution.
    """
    out = np.empty((n, dim), dtype=np.float32)
    i = 0
    for part in iter_unit_vectors(n, dim, seed, kind, block=block):
        out[i : i + len(part)] = part
        i += len(part)
    return out


def iter_unit_vectors(
    n: int, dim: int, seed: int, kind: str = "structured", *, block: int = 100_000
) -> Iterator[npt.NDArray[np.float32]]:
    """The vectors of :func:`unit_vectors`, ``block`` at a time (to keep memory flat)."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        for i in range(0, n, block):
            x = rng.standard_normal((min(block, n - i), dim), dtype=np.float32)
            yield x / np.linalg.norm(x, axis=1, keepdims=True)
        return
    rank, clusters = 32, 64
    basis = np.linalg.qr(np.random.default_rng(42).standard_normal((dim, rank)))[0]
    basis = basis.astype(np.float32)
    spectrum = (1.0 / np.sqrt(1.0 + np.arange(rank) / 4.0)).astype(np.float32)
    centres = np.random.default_rng(7).standard_normal((clusters, rank)).astype(np.float32)
    centres *= spectrum * 1.5
    for i in range(0, n, block):
        m = min(block, n - i)
        z = centres[rng.integers(0, clusters, m)]
        z = z + rng.standard_normal((m, rank), dtype=np.float32) * spectrum
        x = z @ basis.T + 0.05 * rng.standard_normal((m, dim), dtype=np.float32)
        yield x / np.linalg.norm(x, axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------
# Words of the sample corpus, per language
# --------------------------------------------------------------------------------------------


@dataclass
class Vocabulary:
    """The sample corpus's words per language, their index terms, and their frequencies."""

    words: dict[str, list[str]]
    terms: dict[str, list[list[str]]]
    probs: dict[str, npt.NDArray[np.float64]]

    @classmethod
    def from_sample(cls) -> Vocabulary:
        """Count the words of every sample document in its own language."""
        counts: dict[str, Counter[str]] = {lang: Counter() for lang in LANGS}
        for path in iter_files([SAMPLE_CORPUS_DIR]):
            for doc in load_file(path):
                lang = doc.lang if doc.lang in counts else "en"
                counts[lang].update(w for w in words(doc.text) if any(c.isalpha() for c in w))
        vocab_words: dict[str, list[str]] = {}
        vocab_terms: dict[str, list[list[str]]] = {}
        probs: dict[str, npt.NDArray[np.float64]] = {}
        for lang, counter in counts.items():
            items = counter.most_common()
            vocab_words[lang] = [w for w, _ in items]
            vocab_terms[lang] = [tokenize(w, lang) for w, _ in items]
            freq = np.asarray([c for _, c in items], dtype=np.float64)
            probs[lang] = freq / freq.sum()
        return cls(vocab_words, vocab_terms, probs)


# --------------------------------------------------------------------------------------------
# Big indexes, written directly
# --------------------------------------------------------------------------------------------


@dataclass
class BuiltIndex:
    """What :func:`build_index` made."""

    path: Path
    chunks: int
    documents: int
    index_type: str
    seconds: float
    seed: int
    kind: str
    words_per_chunk: int

    def vectors(self, dim: int) -> npt.NDArray[np.float32]:
        """The index's vectors again, in row-id order (they are not kept in memory)."""
        return unit_vectors(self.chunks, dim, self.seed, self.kind)


_SYLLABLES = [a + b for a in "bdgklmnprstvz" for b in "aeiou"]


def _names(count: int) -> list[str]:
    """``count`` distinct made-up proper names (``Kalomir``, ``Zutebo``...)."""
    out = []
    for i in range(count):
        parts, j = [], i
        for _ in range(3):
            parts.append(_SYLLABLES[j % len(_SYLLABLES)])
            j //= len(_SYLLABLES)
        out.append("".join(parts).capitalize() + (str(j) if j else ""))
    return out


def _documents(
    n_chunks: int, vocab: Vocabulary, seed: int, chunks_per_doc: int, words_per_chunk: int
) -> Iterator[tuple[Document, list[Chunk], list[list[str]]]]:
    """Synthetic documents: corpus words by frequency, plus 10 rare names per chunk."""
    rng = np.random.default_rng(seed)
    names = _names(max(5000, n_chunks // 5))
    name_terms = [tokenize(name) for name in names]
    made = 0
    d = 0
    while made < n_chunks:
        lang = LANGS[d % 3]
        k = min(chunks_per_doc, n_chunks - made)
        picks = rng.choice(len(vocab.words[lang]), size=(k, words_per_chunk), p=vocab.probs[lang])
        rare = rng.integers(0, len(names), size=(k, 10))
        wl, tl = vocab.words[lang], vocab.terms[lang]
        texts = [
            _sentences([wl[i] for i in row] + [names[i] for i in extra], rng)
            for row, extra in zip(picks, rare, strict=True)
        ]
        text = "\n\n".join(texts)
        doc_id = hashlib.sha1(f"synthetic#{seed}#{d}".encode()).hexdigest()[:16]
        title = " ".join(texts[0].split()[:8]).capitalize()
        year, month, day = 2019 + d % 7, 1 + d % 12, 1 + d % 28
        doc = Document(
            id=doc_id, path=f"/synthetic/{seed}/{d:07d}.md", title=title,
            date=f"{year}-{month:02d}-{day:02d}", lang=lang, source=f"Synthetic ministry {d % 5}",
            url=f"https://example.org/{d}", text=text,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
        )  # fmt: skip
        chunks, terms = [], []
        title_terms = tokenize(title, lang)
        pos = 0
        for n, (chunk_text, row, extra) in enumerate(zip(texts, picks, rare, strict=True)):
            chunks.append(Chunk(doc_id, n, chunk_text, pos, pos + len(chunk_text)))
            pos += len(chunk_text) + 2
            body_terms = [t for i in row for t in tl[i]]
            terms.append(title_terms + body_terms + [t for i in extra for t in name_terms[i]])
        yield doc, chunks, terms
        made += k
        d += 1


def _sentences(words: list[str], rng: np.random.Generator) -> str:
    """The words as sentences of 12-30 words (a news text's), so that reading by sentence costs
    what it costs on real text."""
    out, i = [], 0
    while i < len(words):
        n = int(rng.integers(12, 31))
        part = words[i : i + n]
        out.append(part[0][:1].upper() + part[0][1:] + "".join(" " + w for w in part[1:]) + ".")
        i += n
    return " ".join(out)


def build_index(
    path: Path,
    n_chunks: int,
    manifest: Manifest,
    vocab: Vocabulary,
    *,
    exact_search_max: int,
    seed: int = 0,
    kind: str = "structured",
    chunks_per_doc: int = 10,
    words_per_chunk: int = 200,
    segment_chunks: int = 100_000,
) -> BuiltIndex:
    """Write an index of ``n_chunks`` synthetic chunks at ``path`` in one commit (its segments
    written every ``segment_chunks`` chunks, as an ingest does)."""
    import time

    started = time.perf_counter()
    blocks = iter_unit_vectors(n_chunks, manifest.dim, seed, kind)
    block = np.zeros((0, manifest.dim), dtype=np.float32)
    docs = 0
    with IndexWriter(
        path, manifest, rebuild=True, exact_search_max=exact_search_max,
        segment_chunks=segment_chunks,
    ) as writer:  # fmt: skip
        for doc, chunks, terms in _documents(
            n_chunks, vocab, seed, chunks_per_doc, words_per_chunk
        ):
            while len(block) < len(chunks):
                block = np.concatenate([block, next(blocks)])
            vecs, block = block[: len(chunks)], block[len(chunks) :]
            state = FileState(doc.path, len(doc.text), 0, doc.sha256)
            writer.add_file(state, [(doc, chunks, terms, vecs)])
            docs += 1
    index_type = writer.manifest.index_type
    return BuiltIndex(
        path, n_chunks, docs, index_type, time.perf_counter() - started, seed, kind,
        words_per_chunk,
    )  # fmt: skip


__all__ = [
    "BuiltIndex",
    "Vocabulary",
    "build_index",
    "iter_unit_vectors",
    "unit_vectors",
    "vary_corpus",
]

"""Segments, deletions, merges and compaction of the index store, on real files on disk.

Documents here are real sample-corpus texts split into paragraphs; vectors are random unit
vectors (the store does not care where they come from), so no model is loaded.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import bm25s
import numpy as np
import pytest

from askculture.chunking import Chunk
from askculture.documents import Document, iter_files, load_file
from askculture.errors import IndexBusyError
from askculture.lexical import tokenize
from askculture.settings import SAMPLE_CORPUS_DIR
from askculture.store import IndexReader, IndexWriter, LexicalIndex, LexicalSegment, Manifest
from askculture.store import merge as merge_module
from askculture.store.lexical import LexicalPart
from askculture.store.segment import FileState

DIM = 16


def _manifest() -> Manifest:
    return Manifest(
        model="test", model_id="test/model", dim=DIM, query_prefix="", passage_prefix="",
        chunking={"chunk_tokens": 0},
    )  # fmt: skip


def _paragraph_docs() -> list[tuple[Document, list[Chunk], list[list[str]]]]:
    """Every sample document, chunked by paragraph, with real index terms."""
    out = []
    for path in iter_files([SAMPLE_CORPUS_DIR]):
        for doc in load_file(path):
            chunks, terms, pos = [], [], 0
            for n, para in enumerate(p for p in doc.text.split("\n\n") if p.strip()):
                start = doc.text.index(para, pos)
                pos = start + len(para)
                chunks.append(Chunk(doc.id, n, para, start, pos))
                terms.append(tokenize(f"{doc.title}\n{para}", doc.lang))
            out.append((doc, chunks, terms))
    return out


DOCS = _paragraph_docs()


def _vectors(doc: Document, n: int) -> np.ndarray:
    seed = int(hashlib.sha1(doc.id.encode()).hexdigest()[:8], 16)
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _add(writer: IndexWriter, items: list[tuple[Document, list[Chunk], list[list[str]]]]) -> None:
    for doc, chunks, terms in items:
        state = FileState(doc.path, len(doc.text), 0, doc.sha256)
        writer.add_file(state, [(doc, chunks, terms, _vectors(doc, len(chunks)))])


def _build(index: Path, batches: list[list[int]], **kw: int) -> None:
    for batch in batches:
        with IndexWriter(index, _manifest(), **kw) as w:
            _add(w, [DOCS[i] for i in batch])


def _remove(index: Path, paths: list[str], **kw: int) -> None:
    with IndexWriter(index, _manifest(), **kw) as w:
        for p in paths:
            assert w.remove_file(p) >= 1


def _files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# -- BM25 ----------------------------------------------------------------------------------------


def test_bm25_scores_equal_bm25s_on_the_sample_corpus() -> None:
    terms = [t for _, _, ts in DOCS for t in ts]
    ids = np.arange(1, len(terms) + 1, dtype=np.int64)
    ours = LexicalIndex([LexicalPart(LexicalSegment.build(terms), ids, None)])
    ref = bm25s.BM25()
    ref.index(terms, show_progress=False)
    for query in ["roadmap GITIS Zhurgenov", "Абай сыйлығы 2024", "культура театр музей"]:
        q = tokenize(query)
        known = [t for t in dict.fromkeys(q) if t in ref.vocab_dict]
        expected = ref.get_scores(known)
        got = dict(ours.search(q, len(terms)))
        assert got, query
        for pos, score in enumerate(expected):
            assert got.get(pos + 1, 0.0) == pytest.approx(float(score), rel=1e-5, abs=1e-6)


def test_bm25_across_segments_and_deletions_and_after_a_merge() -> None:
    terms = [t for _, _, ts in DOCS for t in ts]
    n = len(terms)
    ids = np.arange(1, n + 1, dtype=np.int64)
    deleted = set(range(0, n, 7))
    live = [i for i in range(n) if i not in deleted]
    whole = LexicalIndex(
        [LexicalPart(LexicalSegment.build([terms[i] for i in live]), ids[live], None)]
    )
    parts = []
    for lo, hi in ((0, n // 3), (n // 3, n // 2), (n // 2, n)):
        mask = np.asarray([i not in deleted for i in range(lo, hi)])
        parts.append(LexicalPart(LexicalSegment.build(terms[lo:hi]), ids[lo:hi], mask))
    split = LexicalIndex(parts)
    offsets = np.cumsum([0] + [int(p.live.sum()) for p in parts[:-1]])  # type: ignore[union-attr]
    merged_seg = LexicalSegment.merge(
        [(p.segment, np.where(p.live, np.cumsum(p.live) - 1 + k, -1))  # type: ignore[arg-type]
         for p, k in zip(parts, offsets, strict=True)],
        len(live),
    )  # fmt: skip
    merged = LexicalIndex([LexicalPart(merged_seg, ids[live], None)])
    assert merged.n_docs == whole.n_docs == len(live) and split.n_docs == n
    assert list(split.ids) == list(merged.ids) == list(ids[live])
    for query in ["Kazakhstan Russia culture", "министр культуры", "мәдениет министрі"]:
        q = tokenize(query)
        a, b, c = whole.search(q, 30), split.search(q, 30), merged.search(q, 30)
        assert a and a == c  # a merge gives exactly a fresh index of the live chunks
        assert not {i for i, _ in b} & {int(ids[d]) for d in deleted}
        close = dict(b)  # per-segment statistics shift scores a little, never by much
        common = [(i, s) for i, s in a if i in close]
        assert len(common) >= 20
        assert all(close[i] == pytest.approx(s, rel=0.15) for i, s in common)
    assert split.df("kazakhstan") == whole.df("kazakhstan") + sum(
        "kazakhstan" in terms[d] for d in deleted
    )


def test_pruned_search_equals_the_full_ranking() -> None:
    terms = [t for _, _, ts in DOCS for t in ts]
    n = len(terms)
    ids = np.arange(1, n + 1, dtype=np.int64)
    parts = [
        LexicalPart(LexicalSegment.build(terms[: n // 2]), ids[: n // 2], None),
        LexicalPart(
            LexicalSegment.build(terms[n // 2 :]), ids[n // 2 :], np.arange(n - n // 2) % 5 != 0
        ),
    ]
    index = LexicalIndex(parts)
    allowed = {int(i) for i in ids if i % 3}
    queries = [" ".join(ch.text.split()[3:12]) for _, chunks, _ in DOCS[::3] for ch in chunks[:1]]
    for query in [*queries, "Kazakhstan culture ministry GITIS 2024 opera"]:
        q = tokenize(query)
        for k in (1, 5, 20):
            assert index.search(q, k) == index.search(q, n)[:k], (query, k)
            assert index.search(q, k, allowed) == index.search(q, n, allowed)[:k], (query, k)


# -- segments and deletions --------------------------------------------------------------------


def test_a_commit_writes_a_segment_and_never_rewrites_one(tmp_path: Path) -> None:
    index = tmp_path / "index"
    _build(index, [[0, 1, 2, 3]])
    first = IndexReader.open(index)
    (seg,) = first.segments
    before = _files_of(seg.data.folder)
    _build(index, [[4, 5]])
    _remove(index, [DOCS[1][0].path])
    reader = IndexReader.open(index)
    assert reader.segments[0].name == seg.name and len(reader.segments) == 2
    after = _files_of(seg.data.folder)
    assert {k: v for k, v in after.items() if not k.startswith("del-")} == before
    assert [k for k in after if k.startswith("del-")] == [reader.segments[0].info.deletions.file]
    assert reader.manifest.counts["documents"] == 5
    assert {d.id for d in reader.documents()} == {DOCS[i][0].id for i in (0, 2, 3, 4, 5)}
    gone = {c for c in first.lexical.ids.tolist()} - set(reader.chunk_ids().tolist())
    assert len(gone) == len(DOCS[1][1])
    probe = first.vector(sorted(gone)[0])  # the old snapshot still reads the removed document
    assert all(i not in gone for i, _ in reader.search_dense(probe, 50))
    assert reader.chunks(sorted(gone)) == []
    with pytest.raises(Exception, match="not in the index"):
        reader.document(DOCS[1][0].id)
    assert first.document(DOCS[1][0].id).id == DOCS[1][0].id
    assert not reader.lexical.search(tokenize(DOCS[1][1][0].text), 200, allowed=gone)


def test_small_segments_merge_at_commit_and_mostly_deleted_ones_are_rewritten(
    tmp_path: Path,
) -> None:
    index = tmp_path / "index"
    _build(index, [[i] for i in range(5)], merge_factor=4)
    reader = IndexReader.open(index)
    assert len(reader.segments) == 2  # four merged into one at the fourth commit, then one more
    assert reader.manifest.counts["documents"] == 5
    _remove(index, [DOCS[i][0].path for i in range(4)], merge_factor=4)
    reader = IndexReader.open(index)
    assert all(s.info.deletions is None for s in reader.segments)  # rewritten without them
    assert {d.id for d in reader.documents()} == {DOCS[4][0].id}


def test_compact_merges_into_one_segment_with_the_same_results(tmp_path: Path) -> None:
    index = tmp_path / "index"
    _build(index, [[0, 1, 2], [3, 4, 5], [6, 7, 8]], exact_search_max=20)
    _remove(index, [DOCS[4][0].path], exact_search_max=20)
    before = IndexReader.open(index)
    assert len(before.segments) == 3
    query = before.vector(int(before.chunk_ids()[3]))
    terms = tokenize("culture ministry Kazakhstan")
    dense, lexical = before.search_dense(query, 10), before.lexical.search(terms, 10)
    report = merge_module.compact(index, exact_search_max=20)
    assert report.changed and report.segments_before == 3 and report.segments_after == 1
    assert report.deleted_dropped == len(DOCS[4][1])
    after = IndexReader.open(index)
    (seg,) = after.segments
    assert seg.info.deletions is None and seg.info.index_type == "hnsw"
    assert [i for i, _ in after.search_dense(query, 10)] == [i for i, _ in dense]
    assert {i for i, _ in after.lexical.search(terms, 10)} & {i for i, _ in lexical}
    fresh = tmp_path / "fresh"  # the same live documents ingested at once: the same BM25
    _build(fresh, [[0, 1, 2, 3, 5, 6, 7, 8]])
    fresh_reader = IndexReader.open(fresh)

    def named(reader: IndexReader) -> list[tuple[str, float]]:
        hits = reader.lexical.search(terms, 10)
        names = {c.rowid: c.chunk.id for c in reader.chunks([i for i, _ in hits])}
        return [(names[i], s) for i, s in hits]

    assert named(after) == named(fresh_reader)
    assert after.manifest.counts == {**before.manifest.counts, "segments": 1, "deleted_chunks": 0}
    assert after.file_states() == before.file_states()
    assert not merge_module.compact(index, exact_search_max=20).changed


def _means_from_vectors(reader: IndexReader, docs: list[int]) -> dict[str, np.ndarray]:
    """Each language's mean chunk vector, from the test's own vectors of ``docs``."""
    by_lang: dict[str, list[np.ndarray]] = {}
    for i in docs:
        doc, chunks, _ = DOCS[i]
        by_lang.setdefault(doc.lang or "", []).append(_vectors(doc, len(chunks)))
    return {k: np.concatenate(v).mean(axis=0) for k, v in by_lang.items()}


def test_each_language_s_mean_vector_is_kept_per_segment_and_survives_a_merge(
    tmp_path: Path,
) -> None:
    index = tmp_path / "index"
    docs = list(range(12))
    _build(index, [docs[:5], docs[5:]])
    reader = IndexReader.open(index)
    assert len(reader.segments) == 2
    assert all((s.data.folder / "languages.npz").exists() for s in reader.segments)
    expected = _means_from_vectors(reader, docs)
    assert len(expected) >= 2  # the sample corpus is in several languages
    assert reader.language_means.keys() == expected.keys()
    for lang, mean in expected.items():
        assert np.allclose(reader.language_means[lang], mean, atol=1e-6)
    ids = [int(i) for i in reader.chunk_ids()[:30]]
    langs = reader.chunk_languages(ids)
    assert {langs[c.rowid] for c in reader.chunks(ids)} <= expected.keys()
    assert all(langs[c.rowid] == (c.document.lang or "") for c in reader.chunks(ids))
    merge_module.compact(index, exact_search_max=20)  # one HNSW segment
    merged = IndexReader.open(index)
    for lang, mean in expected.items():
        assert np.allclose(merged.language_means[lang], mean, atol=1e-6)
    (seg,) = merged.segments  # a segment written before the file existed: computed on open
    (seg.data.folder / "languages.npz").unlink()
    seg.data.__dict__.pop("languages", None)
    for lang, mean in expected.items():
        assert np.allclose(
            IndexReader(index, merged.generation).language_means[lang], mean, atol=1e-6
        )


def test_deletions_committed_during_a_compaction_carry_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    _build(index, [[0, 1], [2, 3]])
    real_merge = merge_module.merge_segments
    during = threading.Event()

    def merge_while_an_ingest_commits(*args: object, **kwargs: object) -> object:
        info = real_merge(*args, **kwargs)  # type: ignore[arg-type]
        _remove(index, [DOCS[0][0].path])  # committed while the merged segment is unswitched
        _build(index, [[5]])
        during.set()
        return info

    monkeypatch.setattr(merge_module, "merge_segments", merge_while_an_ingest_commits)
    merge_module.compact(index, exact_search_max=20_000)
    assert during.is_set()
    reader = IndexReader.open(index)
    assert {d.id for d in reader.documents()} == {DOCS[i][0].id for i in (1, 2, 3, 5)}
    assert len(reader.segments) == 2
    merged = reader.segments[0]
    assert merged.info.deletions is not None and merged.info.deletions.documents == 1
    assert len(reader) == sum(len(DOCS[i][1]) for i in (1, 2, 3, 5))


def test_one_compaction_at_a_time(tmp_path: Path) -> None:
    from filelock import FileLock

    index = tmp_path / "index"
    _build(index, [[0], [1]])
    with FileLock(str(index / ".merge.lock")), pytest.raises(IndexBusyError):
        merge_module.compact(index, exact_search_max=20_000)


def test_an_interrupted_commit_leaves_no_trace(tmp_path: Path) -> None:
    index = tmp_path / "index"
    _build(index, [[0, 1]])
    before = IndexReader.open(index).manifest.counts
    with pytest.raises(RuntimeError), IndexWriter(index, _manifest(), segment_chunks=2) as w:
        _add(w, [DOCS[2], DOCS[3]])  # more than segment_chunks: a segment is already written
        w.remove_file(DOCS[0][0].path)
        raise RuntimeError("interrupted")
    assert IndexReader.open(index).manifest.counts == before
    assert not [p for p in index.iterdir() if p.name.startswith(".tmp-")]
    assert len(os.listdir(index / "segments")) == 1

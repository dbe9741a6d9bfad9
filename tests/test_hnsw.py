"""Past the configured size the index switches to HNSW, records it, and keeps working."""

from __future__ import annotations

import shutil
from pathlib import Path

import askculture
from askculture.settings import SAMPLE_CORPUS_DIR, Settings
from askculture.store import IndexReader


def test_index_switches_to_hnsw_and_back(tmp_path: Path) -> None:
    settings = Settings()
    settings.embedding.model = "minilm"
    settings.index.exact_search_max = 20
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS_DIR, corpus)
    index = tmp_path / "index"
    askculture.ingest([corpus], index, settings=settings)
    reader = IndexReader.open(index)
    assert reader.manifest.index_type == "hnsw" and len(reader) > 20
    hits = askculture.retrieve("roadmap GITIS Zhurgenov", k=3, index_dir=index, settings=settings)
    assert "subcommission" in Path(hits[0].path).name
    filtered = askculture.retrieve("GITIS", k=3, index_dir=index, lang="kk", settings=settings)
    assert filtered and all(p.lang == "kk" for p in filtered)

    for path in sorted(corpus.iterdir())[3:]:  # shrink below the threshold: back to exact
        path.unlink()
    askculture.ingest([corpus], index, prune=True, settings=settings)
    reader = IndexReader.open(index)
    assert reader.manifest.counts["documents"] == 3
    assert len(reader) == reader.manifest.counts["chunks"]
    assert reader.manifest.index_type == ("hnsw" if len(reader) > 20 else "flat")

"""Multilingual retrieval: the default e5 model, the lexical half and their fusion."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import askculture
from askculture.embedding import get_embedder
from askculture.lexical import skeleton, tokenize
from askculture.retrieval import open_index
from askculture.settings import SAMPLE_CORPUS_DIR, Settings
from askculture.store import IndexReader
from conftest import DEV_SET


def test_default_model_is_multilingual_e5(e5_index: Path) -> None:
    manifest = IndexReader.open(e5_index).manifest
    assert manifest.model_id == "intfloat/multilingual-e5-small"
    assert manifest.dim == 384
    assert (manifest.query_prefix, manifest.passage_prefix) == ("query: ", "passage: ")
    assert Settings().embedding.model == "multilingual-e5-small"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # English questions whose answer is only in a Russian or Kazakh document
        ("How much money did the Presidential Fund for Cultural Initiatives award in June 2024?",
         "2024-06-11-ru-presidential-culture-fund-grants.md"),
        ("What targets for the state language does Kazakhstan's language policy concept set?",
         "2023-10-16-kz-language-policy-concept.md"),
        # Kazakh and Russian questions about English-only documents
        ("Венеция биенналесінде Қазақстанды кім таныстырады?",
         "2024-02-09-kz-venice-biennale-artists.md"),
        ("Какой меморандум подписали Казахстан и Сербия в Белграде?",
         "2023-11-29-kz-serbia-culture-memorandum.md"),
    ],
)  # fmt: skip
def test_cross_lingual_questions_find_their_source(
    e5_index: Path, e5: Settings, question: str, expected: str
) -> None:
    passages = askculture.retrieve(question, k=5, index_dir=e5_index, settings=e5)
    assert expected in [Path(p.path).name for p in passages]


def test_lexical_terms_cross_scripts_and_languages() -> None:
    assert skeleton("гитис") == skeleton("gitis")
    assert skeleton("жүргенов") == skeleton("zhurgenov")
    assert skeleton("балаева") == skeleton("balayeva")
    # Russian inflection is stemmed as Russian, Kazakh words keep their first letters (whatever
    # endings follow, nominal or verbal), never stemmed as English
    assert set(tokenize("Жургенова", "ru")) & set(tokenize("Zhurgenov", "en"))
    assert set(tokenize("академиясының", "kk")) & set(tokenize("академиясы", "kk"))
    assert set(tokenize("жариялады", "kk")) & set(tokenize("жариялау", "kk"))
    assert set(tokenize("Жүргенов", "kk")) & set(tokenize("Zhurgenov", "en"))  # whole forms kept
    assert "5,67" in tokenize("гранты на 5,67 млрд рублей", "ru")
    assert tokenize("What is the and of", "en") == []


def _doc_ranks(retriever: askculture.Retriever, question: str, dense_only: bool) -> list[str]:
    if dense_only:
        hits = retriever.reader.search_dense(retriever.embedder.embed_query(question), 40)
        names = [Path(c.document.path).name for c in retriever.reader.chunks([r for r, _ in hits])]
    else:
        names = [Path(p.path).name for p in retriever.search(question, 40)]
    return list(dict.fromkeys(names))


@pytest.mark.skipif(not DEV_SET.exists(), reason="../shared/eval/dev.jsonl not present")
def test_dev_set_hit_at_5_and_fusion_never_below_dense(e5_index: Path, e5: Settings) -> None:
    questions = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines()]
    retriever = open_index(e5_index, settings=e5)
    hybrid: dict[str, list[bool]] = {}
    dense: dict[str, list[bool]] = {}
    for q in questions:
        if not q["gold"]:
            continue
        for table, dense_only in ((hybrid, False), (dense, True)):
            docs = _doc_ranks(retriever, q["question"], dense_only)[:5]
            hit = any(g in docs for g in q["gold"])
            table.setdefault(q["type"], []).append(hit)
            table.setdefault("all", []).append(hit)

    def rate(table: dict[str, list[bool]], key: str) -> float:
        return sum(table[key]) / len(table[key])

    assert rate(hybrid, "all") >= 0.95
    assert rate(hybrid, "cross_lingual") >= 0.83
    for qtype in dense:
        assert rate(hybrid, qtype) >= rate(dense, qtype), qtype


def test_ingest_with_another_model_rebuilds(tmp_path: Path, e5: Settings) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("2025-10-11-kz-russia-culture-subcommission.md",
                 "2025-10-10-kz-russia-culture-subcommission-kk.md"):  # fmt: skip
        shutil.copy(SAMPLE_CORPUS_DIR / name, corpus)
    index = tmp_path / "index"
    askculture.ingest([corpus], index, settings=e5)
    again = askculture.ingest([corpus], index, settings=Settings())  # no model given: the index's
    assert again.chunks_embedded == 0 and not again.rebuilt
    rebuilt = askculture.ingest([corpus], index, model="minilm", settings=Settings())
    assert rebuilt.rebuilt and rebuilt.chunks_embedded > 0
    assert IndexReader.open(index).manifest.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    with pytest.raises(askculture.ModelMismatchError):
        askculture.open_index(index, model="multilingual-e5-small")


def test_a_passage_ranks_by_how_far_it_stands_out_from_its_language(
    e5_index: Path, e5: Settings
) -> None:
    settings = e5.model_copy(deep=True)
    settings.retrieval.lexical_weight = 0.0  # the dense half alone
    settings.retrieval.language_centering = True
    reader, embedder = IndexReader.open(e5_index), get_embedder(settings.embedding)
    retriever = askculture.Retriever(reader, embedder, settings)
    question = "Кто подписал меморандум о сотрудничестве в области культуры?"
    passages = retriever.search(question, 20)
    qvec = retriever.query_vector(question)
    means = retriever.reader.language_means
    assert {p.lang for p in passages} <= means.keys() and len({p.lang for p in passages}) > 1
    for p in passages:
        assert p.dense_score is not None
        assert p.language_shift == pytest.approx(float(means[p.lang or ""] @ qvec), abs=1e-5)
        assert p.score == pytest.approx(p.dense_score - p.language_shift, abs=1e-5)
        assert p.match_score == pytest.approx(p.dense_score, abs=1e-5)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    settings.retrieval.language_centering = False
    raw = askculture.Retriever(reader, embedder, settings).search(question, 20)
    assert all(p.score == pytest.approx(p.dense_score or 0.0, abs=1e-6) for p in raw)
    assert all(p.language_shift == 0.0 for p in raw)
    settings.retrieval.language_centering = 0.5  # a part of the shift
    for p in askculture.Retriever(reader, embedder, settings).search(question, 20):
        assert p.language_shift == pytest.approx(0.5 * float(means[p.lang or ""] @ qvec), abs=1e-5)
        assert p.match_score == pytest.approx(p.dense_score or 0.0, abs=1e-5)


def test_centering_is_read_from_the_environment_as_a_share_or_a_switch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for value, share in (("true", 1.0), ("off", 0.0), ("0.7", 0.7)):
        monkeypatch.setenv("ASKCULTURE_RETRIEVAL__LANGUAGE_CENTERING", value)
        assert Settings().retrieval.language_centering == share
    monkeypatch.setenv("ASKCULTURE_RETRIEVAL__LANGUAGE_CENTERING", "2")
    with pytest.raises(ValueError, match="language_centering"):
        Settings()


def test_each_search_of_an_opened_index_uses_its_own_settings(e5_index: Path, e5: Settings) -> None:
    question = "Кто подписал меморандум о сотрудничестве в области культуры?"
    plain, centered = e5.model_copy(deep=True), e5.model_copy(deep=True)
    plain.retrieval.language_centering = 0.0
    centered.retrieval.language_centering = 1.0
    first = askculture.retrieve(question, 10, e5_index, settings=plain)
    second = askculture.retrieve(question, 10, e5_index, settings=centered)
    again = askculture.retrieve(question, 10, e5_index, settings=plain)
    assert all(p.language_shift == 0.0 for p in first + again)
    assert all(p.language_shift > 0.0 for p in second)
    assert [p.chunk_id for p in again] == [p.chunk_id for p in first]

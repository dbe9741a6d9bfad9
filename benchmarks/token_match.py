"""Would the reader gain from matching the question's tokens with the sentence's? Measured.

The reader's one signal from the embedding model is the cosine of the whole question with the
whole "title. sentence". The model's token vectors (its last layer before pooling, from the same
forward pass, so free at question time) can also be matched one by one, as BERTScore does:

- ``token_recall``: the mean over the question's tokens of each one's best cosine with a token of
  the sentence;
- ``token_precision``: the mean over the sentence's tokens of each one's best cosine with a
  question token;
- and each minus the best among the question's embedded candidates (as ``cos_gap``).

A word and its translation, or two inflections of one Kazakh root, get near token vectors where
the text signals see different words. This script adds those four signals to the reader's vector
signals and runs ``benchmarks/fit_reader.py``'s fitting on the same candidates (its cache in
``--work``), with folds grouped by article:

- ``none``: the shipped signals (reproduces the shipped reader's figures);
- ``tokens``: with the four token signals;
- ``across``: with them only where the sentence's language differs from the question's;
- ``late``: with one *text* signal instead, ``late``: the question's cosine with the mean of the
  sentence's token vectors in the pass over its passage ("late chunking"). Ingest makes that pass
  anyway, so the vector could be stored for every sentence and read at question time; as a text
  signal it also decides which candidates are embedded;
- ``query``: one more vector signal where the languages differ, the question's cosine with
  the sentence embedded as a *query* (``query: title. sentence``, e5's prefix for symmetric
  tasks such as finding a translation) instead of as a passage, and its gap to the best;
- variants join with ``+``: ``late+across`` has both.

It prints, per set, the share of right responses (a correct answer, or an abstention where the
documents do not answer) with the cross-validated thresholds and with thresholds chosen on the
other articles. A signal is kept only if it measures better on every set.

``--centering 0.8`` collects the candidates on the search ``ask`` runs (language centering at its
default) instead of the plain one the shipped reader is fitted on; it needs a ``--work`` of its
own, as the caches do not record how they were collected.

Run::

    .venv/bin/python benchmarks/token_match.py                 # ~15 min the first time
    .venv/bin/python benchmarks/token_match.py --grid          # fit_reader.py's whole grid
    .venv/bin/python benchmarks/token_match.py --seeds 4       # and 4 other deals of the folds
    .venv/bin/python benchmarks/token_match.py --variants none,late,late+across --grid
    .venv/bin/python benchmarks/token_match.py --variants none --news 4 --seeds 3  # another weight
    .venv/bin/python benchmarks/token_match.py --work DIR --centering 0.8 --seeds 6 \
        --variants none,across

Needs ``../shared/bench`` and ``../shared/eval/dev.jsonl`` (test data, never shipped) and
scikit-learn (``pip install -e '.[dev]'``).
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import fit_reader as fr
import numpy as np
import torch

from askculture.answering.ask import Filters, reading
from askculture.answering.features import (
    TEXT_FEATURES,
    VECTOR_FEATURES,
    Candidate,
    DocView,
    SentenceEncoder,
)
from askculture.answering.question import analyse_question
from askculture.answering.reader import Reader, load_reader
from askculture.evaluation import load_questions
from askculture.retrieval import Passage, Retriever, clean_query, open_index
from askculture.settings import Settings

VARIANTS = ("none", "tokens", "across", "late", "query")
TOKEN_FEATURES = ("token_recall", "token_precision")
"""The token-match signals' names (each is also added as its gap to the question's best)."""


@dataclass
class TokenSet(fr.SetData):
    """A set's candidates with each one's token match (recall, precision), late cosine and
    cosine as a query."""

    tok: fr.Array = field(default_factory=lambda: np.zeros((0, 2)))
    late: fr.Array = field(default_factory=lambda: np.zeros(0))
    query: fr.Array = field(default_factory=lambda: np.zeros(0))
    variant: str = "none"

    def take(self, rows: np.ndarray) -> TokenSet:  # type: ignore[type-arg]
        out = super().take(rows)
        assert isinstance(out, TokenSet)
        out.tok = self.tok[rows] if len(self.tok) else self.tok
        out.late = self.late[rows] if len(self.late) else self.late
        out.query = self.query[rows] if len(self.query) else self.query
        return out

    def full(self) -> fr.Array:
        signals = set(self.variant.split("+"))
        other = (1.0 - self.x[:, fr.SAME])[:, None]
        parts = [super().full()]
        if signals & {"tokens", "across"}:
            parts.append(self.tok * other if "across" in signals else self.tok)
        if "query" in signals:
            parts.append(self.query[:, None] * other)
        for signal in parts[1:]:
            gap = np.zeros_like(signal)
            for i in np.unique(self.q):
                rows = np.flatnonzero(self.q == i)
                gap[rows] = signal[rows] - signal[rows].max(axis=0)
            parts.append(gap)
        return np.hstack(parts)


def token_vectors(model: object, texts: list[str], prefix: str) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    """Each text's normalised last-layer token vectors, without ``<s>``, the prefix and ``</s>``."""
    tok = model.tokenizer  # type: ignore[attr-defined]

    def count(text: str) -> int:
        return len(tok(text, add_special_tokens=False)["input_ids"])

    skip = 1 + (count(prefix + "x") - count("x") if prefix else 0)  # a trailing space joins "x"
    out = {}
    embedded = model.encode(  # type: ignore[attr-defined]
        [prefix + t for t in texts], output_value="token_embeddings", batch_size=32,
        show_progress_bar=False,
    )  # fmt: skip
    for text, states in zip(texts, embedded, strict=True):
        own = torch.nn.functional.normalize(torch.as_tensor(states)[skip:-1].float(), dim=1)
        out[text] = own.numpy()
    return out


@functools.cache
def _model(location: str) -> object:
    """The embedding model, loaded once for every set (a plain sentence-transformers model)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(location, device="cpu")


def token_match(work: Path, name: str, questions: Path, d: fr.SetData, s: Settings) -> fr.Array:
    """(recall, precision) of every candidate row of ``d``, recomputed from its search."""
    cache = work / f"tokens-{name}.npz"
    if cache.exists() and len(tok := np.load(cache)["tok"]) == len(d.y):
        return tok  # type: ignore[no-any-return]
    retriever, found = _candidates(work, name, questions, s)
    asked = [text for text, _ in found]
    rows = _embedded(found, d, name)
    spec = retriever.embedder.spec
    model = _model(spec.location)
    sentences = token_vectors(model, list(dict.fromkeys(t for _, t in rows)), spec.passage_prefix)
    asked_vectors = token_vectors(model, list(dict.fromkeys(asked)), spec.query_prefix)
    tok = np.zeros((len(rows), 2))
    for r, (n, text) in enumerate(rows):
        q, sv = asked_vectors[asked[n]], sentences[text]
        if len(q) and len(sv):
            sim = q @ sv.T
            tok[r] = sim.max(axis=1).mean(), sim.max(axis=0).mean()
    np.savez(cache, tok=tok)
    return tok


def _candidates(
    work: Path, name: str, questions: Path, s: Settings
) -> tuple[Retriever, list[tuple[str, list[Candidate]]]]:
    """The index of set ``name`` and, per question, its text and candidates, as collect() finds
    them."""
    index = work / f"ix-xquad-{name.split('>')[1]}" if ">" in name else work / f"ix-{name}"
    retriever = open_index(index, settings=s)
    here = reading(retriever)
    out = []
    for item in load_questions(questions):
        text = clean_query(item.question, 10**6)
        found = Filters().search(retriever, text, s.answer.passages)
        out.append((text, here.text_signals(analyse_question(text), found, s.answer)[0]))
    return retriever, out


def _embedded(
    found: list[tuple[str, list[Candidate]]], d: fr.SetData, name: str
) -> list[tuple[int, str]]:
    """(question number, embedded text) of every candidate row, checked against the cache's."""
    rows = [(n, SentenceEncoder.embedded_text(c.doc, c.i)) for n, (_, cs) in enumerate(found)
            for c in cs]  # fmt: skip
    assert np.array_equal([n for n, _ in rows], d.q), f"{name}: the candidates changed"
    return rows


def late_match(work: Path, name: str, questions: Path, d: fr.SetData, s: Settings) -> fr.Array:
    """Every candidate row's *late* cosine: the question's vector against the mean of the
    sentence's token vectors in the pass over its passage as ingest embeds it ("title\\ntext")."""
    cache = work / f"late-{name}.npz"
    if cache.exists() and len(late := np.load(cache)["late"]) == len(d.y):
        return late  # type: ignore[no-any-return]
    retriever, found = _candidates(work, name, questions, s)
    spec = retriever.embedder.spec
    model = _model(spec.location)
    pooled: dict[tuple[str, int, int], dict[int, np.ndarray]] = {}  # type: ignore[type-arg]
    late, q = [], []
    for n, (text, cands) in enumerate(found):
        qv = retriever.embedder.embed_query(text)
        for c in cands:
            key = (c.doc.doc_id, c.passage.start, c.passage.end)
            if key not in pooled:
                pooled[key] = sentence_pool(model, spec.passage_prefix, c.doc, c.passage)
            v = pooled[key].get(c.i)
            late.append(np.nan if v is None else float(v @ qv))
            q.append(n)
    assert np.array_equal(q, d.q), f"{name}: the candidates changed"
    out = np.asarray(late)
    out[np.isnan(out)] = np.nanmin(out)  # a sentence past the model's 512 tokens
    np.savez(cache, late=out)
    return out


def query_cosine(work: Path, name: str, questions: Path, d: fr.SetData, s: Settings) -> fr.Array:
    """Every candidate row's cosine with the question, the sentence embedded as a query."""
    cache = work / f"query-{name}.npz"
    if cache.exists() and len(cos := np.load(cache)["cos"]) == len(d.y):
        return cos  # type: ignore[no-any-return]
    retriever, found = _candidates(work, name, questions, s)
    spec = retriever.embedder.spec
    rows = _embedded(found, d, name)
    texts = list(dict.fromkeys(t for _, t in rows))
    vectors = _model(spec.location).encode(  # type: ignore[attr-defined]
        [spec.query_prefix + t for t in texts], batch_size=64, normalize_embeddings=True,
        show_progress_bar=False,
    )  # fmt: skip
    at = {t: i for i, t in enumerate(texts)}
    asked = {text: retriever.embedder.embed_query(text) for text, _ in found}
    cos = np.asarray([float(vectors[at[t]] @ asked[found[n][0]]) for n, t in rows])
    np.savez(cache, cos=cos)
    return cos


def sentence_pool(model: object, prefix: str, doc: DocView, p: Passage) -> dict[int, np.ndarray]:  # type: ignore[type-arg]
    """Each sentence of ``doc`` in passage ``p``: the normalised mean of its token vectors in
    one pass over the passage (late chunking)."""
    head = prefix + (f"{doc.title}\n" if doc.title else "")
    text = head + doc.text[p.start : p.end]
    tok = model.tokenizer  # type: ignore[attr-defined]
    offsets = np.asarray(tok(text, truncation=True, max_length=512, return_offsets_mapping=True)
                         ["offset_mapping"])  # fmt: skip
    states = model.encode([text], output_value="token_embeddings", show_progress_bar=False)[0]  # type: ignore[attr-defined]
    states = torch.as_tensor(states).float().numpy()[: len(offsets)]
    offsets = offsets[: len(states)]
    out = {}
    for i, (a, b) in enumerate(doc.spans):
        a, b = a - p.start + len(head), b - p.start + len(head)
        inside = (offsets[:, 1] > a) & (offsets[:, 0] < b) & (offsets[:, 1] > offsets[:, 0])
        if b > len(head) and a < len(text) and inside.any():
            v = states[inside].mean(axis=0)
            out[i] = v / np.linalg.norm(v)
    return out


def _shuffled(
    xs: list[fr.Array], data: list[fr.SetData], spec: fr.Spec, news: float, seed: int
) -> list[fr.Array]:
    """:func:`fit_reader.out_of_fold` with the articles dealt to the folds at random (seeded):
    one assignment moves a set's figures by about 0.01, as much as some signals do."""
    x, y, w = np.vstack(xs), np.concatenate([d.y for d in data]), fr._weights(data, news)
    groups = np.concatenate([np.asarray(d.groups)[d.q] for d in data])
    articles = np.unique(groups)
    dealt = np.random.default_rng(seed).permutation(len(articles)) % fr.FOLDS
    deal = dict(zip(articles, dealt, strict=True))
    fold = np.asarray([deal[g] for g in groups])
    p = np.zeros(len(y))
    for k in range(fr.FOLDS):
        p[fold == k] = spec.fit(x[fold != k], y[fold != k], w[fold != k]).probabilities(
            x[fold == k]
        )
    return np.split(p, np.cumsum([len(d.y) for d in data])[:-1])


def report(
    title: str, data: list[TokenSet], news: list[float], tops: list[int]
) -> tuple[float, list[tuple[float, float]]]:
    """Fit, print each set's figures, and return the script's "right" and each set's
    right-response shares (CV, held out)."""
    reader, cv = fr.fit_reader(data, news, tops)
    kept = f"news {reader.meta['news_weight']:g}, embed {reader.embed_top}"
    right_all = reader.meta["cv_right"][kept]  # type: ignore[index]
    print(f"{title}: {kept}, right {right_all:.4f}, thresholds {reader.thresholds}")
    held: dict[str, dict[str, float | None]] = reader.meta["cv_held_out_thresholds"]
    print(f"  {'set':12} {'right':>6} {'held':>6}  acc / abst / f-abst (held out)")
    out = []
    for d in data:
        ans = float(d.answerable.mean())

        def right(f: dict[str, float | None], ans: float = ans) -> float:
            return float(f["accuracy"] or 0) * ans + float(f["abstention"] or 0) * (1 - ans)

        h = held[d.name]
        ab = "–" if h["abstention"] is None else f"{h['abstention']:.3f}"
        print(f"  {d.name:12} {right(cv[d.name]):6.3f} {right(h):6.3f}  "
              f"{h['accuracy']:.3f} / {ab} / {h['false_abstention']:.3f}")  # fmt: skip
        out.append((right(cv[d.name]), right(h)))
    return float(right_all), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--work", type=Path, default=fr.ROOT / "benchmarks" / "results" / "reader")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    ap.add_argument("--grid", action="store_true", help="fit the whole grid, not the shipped one")
    ap.add_argument("--seeds", type=int, default=0, help="also fit this many random deals of folds")
    ap.add_argument("--centering", type=float, default=0.0, help="language centering to collect at")
    ap.add_argument("--news", type=float, help="the sample set's weight (default: the shipped one)")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    settings.retrieval.language_centering = args.centering  # 0: as fit_reader.py collects
    data: list[TokenSet] = []
    for name, questions, corpus in fr.sets(fr.SHARED / "bench", fr.SHARED / "eval" / "dev.jsonl",
                                           args.work):  # fmt: skip
        cache = args.work / f"{name}.npz"
        d = fr.SetData.load(name, cache) if cache.exists() else None
        if d is None:
            d = fr.collect(name, questions, corpus, args.work, settings)
            d.save(cache)
        t0 = time.perf_counter()
        wanted = {s for v in args.variants.split(",") for s in v.split("+")}
        tok = token_match(args.work, name, questions, d, settings) if {"tokens", "across"} & (
            wanted) else np.zeros((0, 2))  # fmt: skip
        late = late_match(args.work, name, questions, d, settings) if "late" in wanted else None
        query = query_cosine(args.work, name, questions, d, settings) if "query" in wanted else (
            np.zeros(0))  # fmt: skip
        print(f"  {name}: signals of {len(d.y)} candidates in {time.perf_counter() - t0:.0f} s")
        fields = {f: getattr(d, f) for f in fr.SetData.__dataclass_fields__}
        data.append(TokenSet(**fields, tok=tok, late=np.zeros(0) if late is None else late,
                             query=query))  # fmt: skip
    shipped = load_reader()
    news = args.news or float(shipped.meta["news_weight"])
    grid = (fr.NEWS_WEIGHTS, fr.EMBED_TOP) if args.grid else ([news], [shipped.embed_top])
    fr.Reader = Reader.model_construct  # type: ignore[assignment,misc]  # may have more signals
    grouped = fr.out_of_fold
    for variant in args.variants.split(","):
        signals = set(variant.split("+"))
        for d in data:
            d.variant = variant
            d.x = d.x[:, : len(TEXT_FEATURES)]
            if "late" in signals:  # a text signal: the text model ranks by it too
                d.x = np.column_stack([d.x, d.late])
        text = (*TEXT_FEATURES, "late") if "late" in signals else TEXT_FEATURES
        added = (*(TOKEN_FEATURES if signals & {"tokens", "across"} else ()),
                 *(("query_cos_across",) if "query" in signals else ()))  # fmt: skip
        fr.FEATURES = (*text, *VECTOR_FEATURES, *added, *(f"{a}_gap" for a in added))
        runs, rights = [], []
        for seed in range(args.seeds + 1):  # 0: the fitting script's own folds
            fr.out_of_fold = grouped if seed == 0 else functools.partial(_shuffled, seed=seed)
            right_all, per_set = report(f"{variant}, folds {seed or 'as fitted'}", data, *grid)
            runs.append(per_set)
            rights.append(right_all)
        if args.seeds:
            mean = np.mean(runs, axis=0)
            print(f"{variant}, mean over {len(runs)} fold assignments: right {np.mean(rights):.4f}")
            for d, (cv, held) in zip(data, mean, strict=True):
                print(f"  {d.name:12} {cv:6.3f} {held:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

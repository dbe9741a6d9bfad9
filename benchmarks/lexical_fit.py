"""Fit the lexical side of retrieval on data: Kazakh word normalisation and the fusion weight.

Three sections, each measured on real indexes of the public QA suites in ``../shared/bench/``
(``kazqad-kk``, ``xquad-en``, ``xquad-ru``, ``xquad-x``) and of the sample set
(``../shared/corpus`` + ``../shared/eval/dev.jsonl``):

stemmers  Kazakh word normalisation candidates (what :func:`askculture.lexical.tokenize` does to a
          Kazakh word before the Latin skeleton): the package's own ("package"), the hand-written
          suffix stripper it had until LEXICAL_VERSION "skeleton-2" ("suffix-list/min4") and with
          other minimum stems, no stemming, Snowball Turkish on a letter-for-letter Turkish
          transliteration, prefix truncation to N letters, stripping then truncating, and "A & B",
          both forms indexed beside the whole word. Each is scored lexical-only (BM25 alone) and
          fused (dense + lexical, exactly as ``Retriever.search`` ranks); a last row
          cross-validates the choice itself: the candidate with the best lexical MRR on 4/5 of the
          articles, scored on the fifth.
weights   ``retrieval.lexical_weight`` swept over a grid on every set, with the package's
          tokenizer; the rule that picks a value is printed with the table.
compare   the package's defaults against a baseline (default: the previous defaults) on every set.

Only the BM25 side is rebuilt per candidate; the dense vectors are the index's own. Indexes are
built once per set with ``askculture ingest`` into ``--index-root`` and reused; question vectors
are cached beside them. Metrics are over answerable questions, on distinct documents in the order
retrieval ranks them (as ``askculture eval`` counts them): hit@1, hit@5, MRR. "±" is twice the
paired standard error of the hit@1 difference from the reference row (the noise band the rules
use).

Run::

    .venv/bin/python benchmarks/lexical_fit.py                        # every section, all sets
    .venv/bin/python benchmarks/lexical_fit.py --section stemmers --sets kazqad-kk,sample
    .venv/bin/python benchmarks/lexical_fit.py --section weights --weights 0,0.04,0.08,0.16
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import Stemmer

import askculture.lexical as lexical
from askculture.documents import detect_language
from askculture.embedding import get_embedder
from askculture.evaluation import EvalQuestion, load_questions
from askculture.ingest import ingest
from askculture.lexical import tokenize
from askculture.retrieval import Retriever, clean_query
from askculture.settings import Settings
from askculture.store import IndexReader, current_generation
from askculture.store.lexical import LexicalIndex, LexicalPart, LexicalSegment

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import log, table  # noqa: E402

SHARED = HERE.parents[1] / "shared"
SETS = ("kazqad-kk", "sample", "xquad-en", "xquad-ru", "xquad-x")
SECTIONS = ("stemmers", "weights", "compare")
DEFAULT_WEIGHTS = "0,0.02,0.04,0.08,0.12,0.16,0.24,0.32,0.48"
BASELINE = "suffix-list/min4@0.08"
"""The defaults before this fit (LEXICAL_VERSION "skeleton-2", lexical_weight 0.08)."""
PASSAGES = 20
"""Passages retrieved per question, as the answering step takes them."""

Normaliser = Callable[[str], str]


# --------------------------------------------------------------------------------------------
# Kazakh word normalisation candidates (lower-case Cyrillic word -> stem)
# --------------------------------------------------------------------------------------------


SUFFIXES = sorted(
    """
    лардың лердің дардың дердің тардың тердің ларды лерді дарды дерді тарды терді ларға
    лерге дарға дерге тарға терге ларда лерде дарда дерде тарда терде лардан лерден
    дардан дерден тардан терден ларымен лерімен дың дің тың тің ның нің ды ді ты ті ны
    ні ға ге қа ке на не да де та те нда нде дан ден тан тен нан нен мен бен пен лар лер
    дар дер тар тер сы сі ы і ым ім ың ің ымыз іміз ыңыз іңіз ндағы ндегі дағы дегі тағы
    тегі лық лік дық дік тық тік ғы гі қы кі
    """.split(),
    key=len,
    reverse=True,
)
"""The hand-written Kazakh endings (case, plural, possessive) that lexical.py stripped until
LEXICAL_VERSION "skeleton-2", with a minimum stem of four letters."""


def suffix_stripper(min_stem: int) -> Normaliser:
    """The hand-written suffix list, stripping while the stem keeps ``min_stem`` letters."""

    def stem(word: str) -> str:
        changed = True
        while changed:
            changed = False
            for suffix in SUFFIXES:
                if word.endswith(suffix) and len(word) - len(suffix) >= min_stem:
                    word = word[: -len(suffix)]
                    changed = True
                    break
        return word

    return stem


def prefix(n: int) -> Normaliser:
    """The first ``n`` letters of a word (shorter words unchanged)."""
    return lambda word: word[:n]


# One Latin letter per Kazakh Cyrillic letter, in Turkish spelling where Turkish has the sound,
# so that Snowball's Turkish suffix rules and vowel harmony apply and a stem's length maps back.
_TO_TURKISH = str.maketrans(
    "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя",
    "aebvgğdeojziykklmnnoöprstuuüfhhsçşşyıiyeua",
)


def snowball_turkish(word: str) -> str:
    """Snowball Turkish on a letter-for-letter Turkish transliteration, mapped back to Cyrillic."""
    latin = word.translate(_TO_TURKISH)
    stem = Stemmer.Stemmer("turkish").stemWord(latin)
    n = 0
    while n < min(len(stem), len(latin)) and stem[n] == latin[n]:
        n += 1
    return word[: max(n, 1)]


Candidate = tuple[Normaliser, ...]
"""A Kazakh word's stem, then any further forms indexed beside it (and beside the whole word)."""


def candidates() -> dict[str, Candidate]:
    """Every measured candidate by name; ``package`` is what ``tokenize`` does today."""
    out: dict[str, Candidate] = {"package": (lexical._stem_kk,), "none": (lambda w: w,)}
    for m in (3, 4, 5, 6):
        out[f"suffix-list/min{m}"] = (suffix_stripper(m),)
    out["snowball-turkish"] = (snowball_turkish,)
    for n in range(3, 10):
        out[f"prefix-{n}"] = (prefix(n),)
    strip = suffix_stripper(4)
    for n in (5, 6, 7):
        out[f"suffix-list+prefix-{n}"] = (lambda w, n=n: strip(w)[:n],)  # type: ignore[misc]
    for n in (4, 5):
        out[f"prefix-{n} & suffix-list"] = (prefix(n), strip)
    return out


@contextlib.contextmanager
def kazakh_normaliser(candidate: Candidate) -> Iterator[None]:
    """Make :func:`tokenize` (index and query side alike) treat Kazakh words as ``candidate``."""
    saved_stem, saved_terms = lexical._stem_kk, lexical._word_terms

    def word_terms(word: str, lang: str | None) -> list[str]:
        terms = saved_terms(word, lang)
        if lexical._language(word, lang) == "kk":
            for extra in candidate[1:]:
                term = lexical.skeleton(extra(word))
                if term not in terms:
                    terms.append(term)
        return terms

    lexical._stem_kk = candidate[0]  # type: ignore[assignment]
    lexical._word_terms = word_terms
    try:
        yield
    finally:
        lexical._stem_kk, lexical._word_terms = saved_stem, saved_terms


# --------------------------------------------------------------------------------------------
# one set: its index, questions, cached question vectors, a retriever with a swappable BM25 side
# --------------------------------------------------------------------------------------------


class SwappableReader(IndexReader):
    """An index reader whose lexical side can be rebuilt in memory.

    Once :meth:`swap_lexical` has run, :attr:`lexical` (the BM25 search) and
    :meth:`matched_terms` (the query terms fusion finds in each hit) both answer from the
    rebuilt side; dense search and everything else stay the index's own.
    """

    swapped: LexicalIndex | None = None

    @property
    def lexical(self) -> LexicalIndex:
        """The rebuilt BM25 once there is one, else the index's own."""
        return self.swapped if self.swapped is not None else super().lexical

    def swap_lexical(self, ids: list[int], token_lists: list[list[str]]) -> None:
        """BM25 over these chunks (ids ascending, none deleted), as one in-memory segment."""
        part = LexicalPart(LexicalSegment.build(token_lists), np.asarray(ids, np.int64), None)
        self.swapped = LexicalIndex([part])


class CachedRetriever(Retriever):
    """A retriever whose question vectors were computed once (by the real path) and cached."""

    vectors: dict[str, npt.NDArray[np.float32]]

    def query_vector(self, text: str) -> npt.NDArray[np.float32]:
        """The cached vector, or the real one."""
        vec = self.vectors.get(text)
        return vec if vec is not None else super().query_vector(text)


@dataclass
class EvalSet:
    """A set's questions (answerable, with gold documents) and its retriever."""

    name: str
    questions: list[EvalQuestion]
    retriever: CachedRetriever
    doc_of_row: dict[int, str]
    chunk_inputs: list[tuple[int, str, str | None]]
    articles: list[str]
    """Per question, the title of its first gold document: the group for cross-validation."""

    @property
    def reader(self) -> SwappableReader:
        """The set's reader."""
        reader = self.retriever.reader
        assert isinstance(reader, SwappableReader)
        return reader

    def rebuild_lexical(self) -> None:
        """Re-tokenise every chunk with the current :func:`tokenize` and rebuild BM25."""
        ids = [rid for rid, _, _ in self.chunk_inputs]
        self.reader.swap_lexical(ids, [tokenize(text, lang) for _, text, lang in self.chunk_inputs])

    def check_rebuild(self) -> None:
        """Check that BM25 rebuilt with the current :func:`tokenize` (the package's, unpatched)
        gives the index's own hits and scores on every question.

        Raises:
            RuntimeError: The rebuilt side differs (the script would not measure the package).
        """
        rs = self.retriever.settings.retrieval
        queries = [clean_query(q.question, rs.max_query_chars) for q in self.questions]
        terms = [tokenize(t, detect_language(t)) for t in queries]
        self.reader.swapped = None
        own = [self.reader.lexical.search(t, rs.candidates) for t in terms]
        self.rebuild_lexical()
        rebuilt = [self.reader.lexical.search(t, rs.candidates) for t in terms]
        differ = sum(a != b for a, b in zip(own, rebuilt, strict=True))
        if differ:
            raise RuntimeError(f"{self.name}: rebuilt BM25 differs on {differ} questions")
        log(f"{self.name}: rebuilt BM25 = the index's own on {len(terms)} questions")


def set_paths(name: str, shared: Path) -> tuple[Path, Path]:
    """The corpus folder and questions file of a set."""
    if name == "sample":
        return shared / "corpus", shared / "eval" / "dev.jsonl"
    return shared / "bench" / name / "corpus", shared / "bench" / name / "questions.jsonl"


def open_set(name: str, shared: Path, root: Path, settings: Settings) -> EvalSet:
    """Build (once) and open a set's index, with its question vectors cached on disk."""
    corpus, qfile = set_paths(name, shared)
    index_dir = root / name
    if current_generation(index_dir) is None:
        log(f"{name}: building the index from {corpus} (once)")
        report = ingest([corpus], index_dir, settings=settings)
        if report.skipped:
            log(f"{name}: {len(report.skipped)} files skipped")
    reader = SwappableReader.open(index_dir)
    emb = settings.embedding.model_copy()
    emb.model = reader.manifest.model
    embedder = get_embedder(emb)
    retriever = CachedRetriever(reader, embedder, settings)
    questions = [q for q in load_questions(qfile) if q.answerable and q.gold]
    texts = [clean_query(q.question, settings.retrieval.max_query_chars) for q in questions]
    key = hashlib.sha256(("\n".join(texts) + reader.manifest.model_id).encode()).hexdigest()[:16]
    cache = root / f"{name}.qvec-{key}.npy"
    if cache.exists():
        matrix = np.load(cache)
    else:
        log(f"{name}: embedding {len(texts)} questions (cached in {cache.name})")
        retriever.vectors = {}
        matrix = np.stack([retriever.query_vector(t) for t in texts])
        np.save(cache, matrix)
    retriever.vectors = dict(zip(texts, matrix, strict=True))
    doc_of_row: dict[int, str] = {}
    inputs: list[tuple[int, str, str | None]] = []
    titles: dict[str, str] = {}
    for doc in reader.documents():
        titles[Path(doc.path).name] = doc.title
        for ch in reader.doc_chunks(doc.id):
            doc_of_row[ch.rowid] = Path(doc.path).name
            inputs.append((ch.rowid, f"{doc.title}\n{ch.chunk.text}", doc.lang))
    inputs.sort()  # chunk ids ascending, as a lexical segment holds them
    articles = [titles.get(q.gold[0], q.gold[0]) for q in questions]
    out = EvalSet(name, questions, retriever, doc_of_row, inputs, articles)
    out.check_rebuild()
    return out


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------


@dataclass
class Scores:
    """Per-question reciprocal ranks (0 = gold document not retrieved)."""

    rr: npt.NDArray[np.float64]

    @property
    def hit1(self) -> float:
        """Share with a gold document first."""
        return float(np.mean(self.rr == 1.0))

    @property
    def hit5(self) -> float:
        """Share with a gold document in the first five."""
        return float(np.mean(self.rr >= 0.2))

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank."""
        return float(np.mean(self.rr))

    def noise(self, ref: Scores) -> float:
        """Twice the paired standard error of this hit@1 minus ``ref``'s."""
        diff = (self.rr == 1.0).astype(float) - (ref.rr == 1.0).astype(float)
        return float(2 * diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0


def _rr(docs: list[str], gold: tuple[str, ...]) -> float:
    for rank, doc in enumerate(dict.fromkeys(docs), start=1):
        if doc in gold:
            return 1.0 / rank
    return 0.0


def cross_validated(
    judged: dict[str, Scores], chosen_by: dict[str, Scores], articles: list[str], folds: int = 5
) -> tuple[Scores, list[str]]:
    """Held-out scores of "take the candidate best on the other articles".

    Questions are split into ``folds`` groups by article (a stable hash of the title); for each
    fold the candidate with the best ``chosen_by`` MRR on the other folds is scored on this one.

    Returns:
        The held-out scores (from ``judged``) and the candidate chosen for each fold.
    """
    fold = np.array([int(hashlib.sha1(a.encode()).hexdigest(), 16) % folds for a in articles])
    out = np.zeros(len(articles))
    picks = []
    for f in range(folds):
        train, test = fold != f, fold == f
        best = max(chosen_by, key=lambda n: float(chosen_by[n].rr[train].mean()))
        out[test] = judged[best].rr[test]
        picks.append(best)
    return Scores(out), picks


def lexical_only(s: EvalSet) -> Scores:
    """BM25 alone, as the retriever queries it."""
    n = s.retriever.settings.retrieval.candidates
    rr = []
    for q in s.questions:
        text = clean_query(q.question, s.retriever.settings.retrieval.max_query_chars)
        hits = s.reader.lexical.search(tokenize(text, detect_language(text)), n)
        rr.append(_rr([s.doc_of_row[rid] for rid, _ in hits], q.gold))
    return Scores(np.asarray(rr))


def fused(s: EvalSet, weight: float) -> Scores:
    """``Retriever.search`` with this lexical weight."""
    base = s.retriever.settings
    s.retriever.settings = base.model_copy(
        update={"retrieval": base.retrieval.model_copy(update={"lexical_weight": weight})}
    )
    try:
        rr = [
            _rr([Path(p.path).name for p in s.retriever.search(q.question, PASSAGES)], q.gold)
            for q in s.questions
        ]
    finally:
        s.retriever.settings = base
    return Scores(np.asarray(rr))


# --------------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------------


def _vs(rows: dict[str, Scores], ref: str) -> list[list[str]]:
    return [
        [name, f"{v.hit1:.3f}", f"{v.hit5:.3f}", f"{v.mrr:.3f}",
         f"{v.hit1 - rows[ref].hit1:+.3f} ± {v.noise(rows[ref]):.3f}"]
        for name, v in rows.items()
    ]  # fmt: skip


def _figures(v: Scores) -> dict[str, float]:
    return {"hit@1": v.hit1, "hit@5": v.hit5, "mrr": v.mrr}


def run_stemmers(sets: list[EvalSet], names: list[str], weights: list[float]) -> dict[str, Any]:
    """Score each Kazakh normaliser on each set: lexical-only, and fused at each weight."""
    pool = candidates()
    results: dict[str, Any] = {}
    for s in sets:
        lex: dict[str, Scores] = {}
        fus: dict[float, dict[str, Scores]] = {w: {} for w in weights}
        for name in names:
            with kazakh_normaliser(pool[name]):
                s.rebuild_lexical()
                lex[name] = lexical_only(s)
                for w in weights:
                    fus[w][name] = fused(s, w)
        with kazakh_normaliser(pool["package"]):
            s.rebuild_lexical()
        ref = names[0]
        header = ["normaliser", "hit@1", "hit@5", "MRR", f"h@1 vs {ref}"]
        n = len(s.questions)
        cv = "best by lexical MRR, 5-fold CV by article"
        lex[cv], picks = cross_validated(lex, lex, s.articles)
        print(table(f"{s.name}: lexical only (BM25), {n} answerable", header, _vs(lex, ref)))
        print(f"  CV picks per fold: {', '.join(picks)}")
        for w in weights:
            fus[w][cv] = cross_validated(fus[w], {k: v for k, v in lex.items() if k != cv},
                                         s.articles)[0]  # fmt: skip
            print(table(f"{s.name}: fused at lexical_weight {w:g}", header, _vs(fus[w], ref)))
        results[s.name] = {
            name: {
                "lexical": _figures(lex[name]),
                **{f"fused@{w:g}": _figures(fus[w][name]) for w in weights},
            }
            for name in [*names, cv]
        }
    return results


def run_weights(sets: list[EvalSet], weights: list[float], current: float) -> dict[str, Any]:
    """Sweep the fusion weight on every set and pick one by the stated rule."""
    scores: dict[str, dict[float, Scores]] = {}
    for s in sets:
        s.rebuild_lexical()
        scores[s.name] = {w: fused(s, w) for w in sorted({*weights, current})}
        ref = scores[s.name][current]
        print(
            table(
                f"{s.name}: fused retrieval by lexical_weight ({len(s.questions)} answerable)",
                ["weight", "hit@1", "hit@5", "MRR", f"h@1 vs {current}"],
                [
                    [f"{w:g}", f"{v.hit1:.3f}", f"{v.hit5:.3f}", f"{v.mrr:.3f}",
                     f"{v.hit1 - ref.hit1:+.3f} ± {v.noise(ref):.3f}"]
                    for w, v in scores[s.name].items()
                ],
            ),
            flush=True,
        )  # fmt: skip
    grid = sorted({*weights, current})
    rows, admissible = [], []
    for w in grid:
        mean1 = float(np.mean([scores[n][w].hit1 for n in scores]))
        mean_mrr = float(np.mean([scores[n][w].mrr for n in scores]))
        worse = [
            n
            for n in scores
            if scores[n][current].hit1 - scores[n][w].hit1 > scores[n][w].noise(scores[n][current])
        ]
        rows.append([f"{w:g}", f"{mean1:.3f}", f"{mean_mrr:.3f}", ", ".join(worse) or "-"])
        if not worse:
            admissible.append((mean1, mean_mrr, -abs(w - current), w))
    chosen = max(admissible)[3]
    print(
        table(
            f"mean over {len(scores)} sets (rule: best mean hit@1, then mean MRR, among weights "
            f"with no set's hit@1 below the current {current:g}'s by more than 2 paired SE)",
            ["weight", "mean h@1", "mean MRR", "sets worse beyond noise"],
            rows,
        )
    )
    print(f"\nchosen lexical_weight: {chosen:g} (current {current:g})")
    return {
        "chosen": chosen,
        "current": current,
        "sets": {
            n: {f"{w:g}": {"hit@1": v.hit1, "hit@5": v.hit5, "mrr": v.mrr} for w, v in d.items()}
            for n, d in scores.items()
        },
    }


def run_compare(sets: list[EvalSet], baseline: str, current: float) -> dict[str, Any]:
    """Today's defaults against a baseline ``NORMALISER@WEIGHT`` (e.g. the previous defaults)."""
    name, _, weight = baseline.partition("@")
    rows, out = [], {}
    for s in sets:
        with kazakh_normaliser(candidates()[name]):
            s.rebuild_lexical()
            old = fused(s, float(weight))
        s.rebuild_lexical()
        new = fused(s, current)
        rows.append(
            [s.name, len(s.questions), f"{old.hit1:.3f} → {new.hit1:.3f}",
             f"{old.hit5:.3f} → {new.hit5:.3f}", f"{old.mrr:.3f} → {new.mrr:.3f}",
             f"{new.hit1 - old.hit1:+.3f} ± {new.noise(old):.3f}"]
        )  # fmt: skip
        out[s.name] = {"baseline": _figures(old), "package": _figures(new)}
    print(
        table(
            f"fused retrieval: {baseline} → package@{current:g} ({lexical.LEXICAL_VERSION})",
            ["set", "n", "hit@1", "hit@5", "MRR", "Δ hit@1"],
            rows,
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, open the sets, run the sections, print tables (and write JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--section", choices=(*SECTIONS, "all"), default="all")
    ap.add_argument(
        "--sets", default=",".join(SETS), help="comma-separated, from " + ", ".join(SETS)
    )
    ap.add_argument("--stemmer-sets", default="kazqad-kk,sample", help="sets for 'stemmers'")
    ap.add_argument("--normalisers", default=",".join(candidates()), help="for 'stemmers'")
    ap.add_argument(
        "--stemmer-weights", help="fused weights for 'stemmers' (default: the current one)"
    )
    ap.add_argument("--normaliser", default="package", help="Kazakh normaliser for 'weights'")
    ap.add_argument("--weights", default=DEFAULT_WEIGHTS, help="grid for 'weights'")
    ap.add_argument(
        "--baseline", default=BASELINE, help="NORMALISER@WEIGHT that 'compare' sets against"
    )
    ap.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    ap.add_argument(
        "--index-root",
        type=Path,
        default=Path.home() / ".cache" / "askculture" / "lexical-fit",
        help="where each set's index is built once and reused",
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    settings = Settings()
    if args.section in ("compare", "all"):
        name = args.baseline.partition("@")[0]
        if name not in candidates():
            ap.error(f"unknown normaliser {name!r} in --baseline")
    current = settings.retrieval.lexical_weight
    wanted = args.sets.split(",")
    if args.section in ("stemmers", "all"):
        wanted += [n for n in args.stemmer_sets.split(",") if n not in wanted]
    unknown = [n for n in wanted if n not in SETS]
    if unknown:
        ap.error(f"unknown set {unknown[0]!r}")
    args.index_root.mkdir(parents=True, exist_ok=True)
    sets = {n: open_set(n, args.shared, args.index_root, settings) for n in dict.fromkeys(wanted)}
    out: dict[str, Any] = {"lexical_version": lexical.LEXICAL_VERSION}
    if args.section in ("stemmers", "all"):
        names = args.normalisers.split(",")
        chosen = [sets[n] for n in args.stemmer_sets.split(",")]
        sw = [float(w) for w in args.stemmer_weights.split(",")] if args.stemmer_weights else []
        out["stemmers"] = run_stemmers(chosen, names, sw or [current])
    if args.section in ("weights", "all"):
        grid = [float(w) for w in args.weights.split(",")]
        with kazakh_normaliser(candidates()[args.normaliser]):
            out["weights"] = run_weights([sets[n] for n in args.sets.split(",")], grid, current)
    if args.section in ("compare", "all"):
        out["compare"] = run_compare(
            [sets[n] for n in args.sets.split(",")], args.baseline, current
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

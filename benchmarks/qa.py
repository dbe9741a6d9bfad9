"""Answer quality on every QA set: the four public suites in ``../shared/bench`` and the sample set.

For each set it builds (once) an index of its corpus, runs ``askculture eval`` on its questions
(in-process: the same :func:`askculture.evaluation.evaluate`) and prints one table with every set
— retrieval, answer accuracy, abstention, false abstention, answer length, short-answer EM/F1,
citation validity and latency — plus a JSON file with the full reports. "abst*" is the abstention
on the unanswerable questions that are not label conflicts (worded exactly as an answerable
question of the same set; ``askculture eval`` names them).

Run::

    .venv/bin/python benchmarks/qa.py                 # all five sets (~1 h on 2 busy cores)
    .venv/bin/python benchmarks/qa.py --sets xquad-en,sample-dev --limit 100

``make bench-qa`` runs the first. The suites are test data (CC BY-SA 4.0), never shipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from askculture.evaluation import EvalReport, evaluate, load_questions
from askculture.ingest import ingest
from askculture.settings import SAMPLE_CORPUS_DIR, Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SETS = ("xquad-en", "xquad-ru", "xquad-x", "kazqad-kk", "sample-dev")
COLUMNS = (
    "n",
    "hit_at_1",
    "answer_accuracy",
    "abstention_accuracy",
    "consistent_abstention_accuracy",
    "false_abstention_rate",
    "mean_answer_chars",
    "short_answer_em",
    "short_answer_f1",
    "citation_validity",
    "median_latency_ms",
)
HEADS = ("n", "hit@1", "acc", "abst", "abst*", "f-abst", "chars", "EM", "F1", "cites", "ms")


def paths(name: str) -> tuple[Path, Path]:
    """(questions file, corpus folder) of a set."""
    if name == "sample-dev":
        return SHARED / "eval" / "dev.jsonl", SAMPLE_CORPUS_DIR
    return SHARED / "bench" / name / "questions.jsonl", SHARED / "bench" / name / "corpus"


def run(name: str, work: Path, settings: Settings, limit: int | None) -> EvalReport:
    """Index a set's corpus (once) and evaluate its questions."""
    questions, corpus = paths(name)
    index = work / f"ix-{name}"
    if not (index / "CURRENT").exists():
        print(f"{name}: indexing {corpus} ...", flush=True)
        ingest([corpus], index, settings=settings)
    qs = load_questions(questions)[:limit]
    t0 = time.perf_counter()
    report = evaluate(qs, index, settings=settings)
    print(f"{name}: {len(qs)} questions in {time.perf_counter() - t0:.0f} s", flush=True)
    return report


def row(name: str, report: EvalReport) -> str:
    data = report.to_dict()
    data["n"] = report.overall.n
    cells = []
    for key in COLUMNS:
        v = data.get(key)
        cells.append(
            "  –  "
            if v is None
            else f"{v:.0f}"
            if key in {"n", "mean_answer_chars", "median_latency_ms"}
            else f"{v:.3f}"
        )
    return f"{name:11} " + " ".join(f"{c:>6}" for c in cells)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated, default all")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "results" / "reader")
    ap.add_argument("--limit", type=int, default=None, help="first N questions of each set")
    ap.add_argument("--out", type=Path, default=None, help="write the full reports as JSON")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    reports = {name: run(name, args.work, settings, args.limit) for name in args.sets.split(",")}
    print(f"{'set':11} " + " ".join(f"{h:>6}" for h in HEADS))
    for name, report in reports.items():
        print(row(name, report))
    if args.out:
        args.out.write_text(
            json.dumps({k: v.to_dict() for k, v in reports.items()}, indent=1, ensure_ascii=False)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Choose how much language centering retrieval applies, from answers on the QA sets.

``retrieval.language_centering`` (α) takes α × the query's cosine with the mean vector of a
passage's language off the passage's score (README, "Across languages"). In a corpus of one
language that shift is the same for every passage, so ranking and answers do not change; only
sets whose corpus mixes languages can tell one α from another: ``xquad-x`` and the sample set.
This script answers both with the shipped reader for each α of a grid (``askculture eval``
in-process, :func:`benchmarks.qa.run`) and checks on a slice of ``kazqad-kk`` that a
one-language corpus answers the same at α = 0 and 1.

"right" is the share of questions with the right response: a correct answer, or an abstention
where the documents do not answer. The rule: the α with the most right responses on ``xquad-x``
among those no set answers worse than at α = 0 (the rule the project keeps for every
change: better on one set, worse on none); ties go to the smaller α.

The reader is fitted on the plain search (``benchmarks/fit_reader.py`` collects its candidates
with α = 0): its signals use each passage's match before centering, so centering only changes
which passages it reads, and α is chosen here with that reader held fixed.

Run::

    .venv/bin/python benchmarks/centering_fit.py                    # the grid below
    .venv/bin/python benchmarks/centering_fit.py --grid 0,0.5,1

Needs ``../shared/bench`` (test data, never shipped).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qa import ROOT, run

from askculture.evaluation import EvalReport
from askculture.settings import Settings

GRID = (0.0, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
MIXED = ("xquad-x", "sample-dev")
ONE_LANGUAGE_CHECK = ("kazqad-kk", 60)


def right(report: EvalReport) -> float:
    """Share of questions with the right response."""
    rs = report.questions
    good = sum(r.correct if r.answerable else r.abstained for r in rs)
    return good / len(rs) if rs else 0.0


def with_centering(settings: Settings, alpha: float) -> Settings:
    """A copy of ``settings`` with this much language centering."""
    out = settings.model_copy(deep=True)
    out.retrieval.language_centering = alpha
    return out


def check_one_language(work: Path, settings: Settings) -> None:
    """Fail unless a one-language corpus answers the same with and without centering."""
    name, n = ONE_LANGUAGE_CHECK
    plain = run(name, work, with_centering(settings, 0.0), n)
    full = run(name, work, with_centering(settings, 1.0), n)
    differ = sum(a.answer != b.answer for a, b in zip(plain.questions, full.questions, strict=True))
    if differ:
        raise SystemExit(f"{name}: {differ} of {n} answers change with centering")
    print(f"{name}: the first {n} answers are the same at α = 0 and 1", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--grid", default=",".join(map(str, GRID)), help="values of α to try")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "results" / "reader")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    check_one_language(args.work, settings)
    grid = sorted(float(a) for a in args.grid.split(","))
    table: dict[float, dict[str, EvalReport]] = {
        a: {name: run(name, args.work, with_centering(settings, a), None) for name in MIXED}
        for a in grid
    }
    print(f"{'α':>5} " + " ".join(f"{n + ' right':>17} {'acc':>6} {'abst':>6} {'f-abst':>6}"
                                   for n in MIXED))  # fmt: skip
    for a, reports in table.items():
        cells = []
        for name in MIXED:
            r = reports[name].overall
            ab = "   –  " if r.abstention_accuracy is None else f"{r.abstention_accuracy:6.3f}"
            cells.append(f"{right(reports[name]):17.3f} {r.answer_accuracy or 0:6.3f} {ab} "
                         f"{r.false_abstention_rate or 0:6.3f}")  # fmt: skip
        print(f"{a:5.2f} " + " ".join(cells))
    base = {name: right(table[grid[0]][name]) for name in MIXED}
    allowed = [a for a in grid if all(right(table[a][n]) >= base[n] for n in MIXED)]
    best = max(allowed, key=lambda a: (right(table[a][MIXED[0]]), -a))
    print(f"chosen: α = {best:g} (the most right on {MIXED[0]} among α no set answers worse than "
          f"at α = {grid[0]:g})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""askculture benchmarks: ingest, query latency at scale, index choice, a peer, web load, hardening.

Run (prints tables, writes JSON)::

    .venv/bin/python benchmarks/run.py            # full: sizes 1k,10k,100k; ~30 min on 2 cores
    .venv/bin/python benchmarks/run.py --quick    # smoke run: small sizes, short load test (~4 min)
    .venv/bin/python benchmarks/run.py --million  # also 1M chunks (+~20 min, several GB of RAM)

    # what the figures in README "Performance" used for serving (see there why):
    .venv/bin/python benchmarks/run.py --sections query,index,peer,load --million \
        --torch-threads 1 --faiss-threads 1

Sections (``--sections``; all by default):

ingest       chunks/s of ``askculture.ingest`` on the sample corpus and on a larger corpus of
             varied copies, next to the raw encode throughput of the same model on the same
             chunks in the same run (ratio target >= 0.9); a cold ``askculture ingest`` CLI run
             with its wall time and peak memory.
ask-cli      one-shot ``askculture ask`` processes on the sample index, questions embedded by
             ONNX Runtime and by torch alternating: wall time and peak memory.
upload       the web chat's first upload in a fresh serving process (a copy of the sample
             index): at once, and after the documents tab has been open a few seconds (the
             indexing model loading in the background meanwhile).
query        indexes of 1k/10k/100k(/1M) synthetic chunks written straight through IndexWriter
             (random unit vectors, texts from the sample corpus's words): p50/p95 of
             ``retrieve`` (query embedding included) and ``ask``, size on disk and in memory
             per chunk, the time to add one file to such an index.
index        exact (flat) vs HNSW at each size: search latency, recall@10 against exact search
             for several efSearch values, build time; the suggested exact_search_max.
peer         the same chunks, same model through txtai (dense only; skipped if not installed):
             index time, query latency, hit@5 on the dev set, beside askculture's.
load         N simulated users (default 20) asking dev-set questions through gradio_client
             against a real ``askculture serve`` on 127.0.0.1 for 60 s.
bad-files    the 100+ malformed files of benchmarks/malformed.py beside good ones.
crash        kill -9 a CLI ingest at random moments, 20 times; the index is always whole and
             equal to the state before or after.
concurrency  readers in threads while ingests commit.

The machine is assumed shared: every figure is a median/percentile over repeats, and the load
average at start and end is recorded. For quotable numbers, rerun on a quiet machine. Temporary
files go to one folder that is removed at the end (``--keep DIR`` keeps them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

DEV_SET = Path(os.environ.get("ASKCULTURE_DEV_SET", HERE.parents[1] / "shared/eval/dev.jsonl"))
SIZE_NAMES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
DEFAULT_SIZES = "1k,10k,100k"
SECTIONS = (
    "ingest",
    "embed-pool",
    "ask-cli",
    "upload",
    "query",
    "index",
    "peer",
    "load",
    "bad-files",
    "crash",
    "concurrency",
)
DENSE_BUDGET_MS = 15.0
"""Share of the 50 ms retrieve budget that exact dense search may take (the suggested threshold
is the largest size whose flat-search p95 stays under it)."""


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress on stderr (tables go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (0 when empty)."""
    arr = np.asarray(list(values), dtype=np.float64)
    return float(np.percentile(arr, q)) if arr.size else 0.0


def timed(fn: Callable[[], Any], times: int) -> list[float]:
    """Milliseconds of ``times`` calls of ``fn``."""
    out = []
    for _ in range(times):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def dir_size(path: Path) -> int:
    """Bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def rss_mb() -> float:
    """Current resident memory of this process, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    """A fixed-width text table."""
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = [f"\n{title}", line]
    for n, row in enumerate(cells):
        out.append(
            "  ".join(c.rjust(w) if n else c.ljust(w) for c, w in zip(row, widths, strict=True))
        )
        if n == 0:
            out.append(line)
    return "\n".join(out)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def load_dev_set() -> list[dict[str, Any]]:
    """The dev questions (``id, question, lang, type, answers, gold``); empty if missing."""
    if not DEV_SET.exists():
        log(f"no dev set at {DEV_SET}: using three built-in questions")
        return [
            {"question": q, "gold": []}
            for q in (
                "Who signed the roadmap with GITIS?",
                "Кто возглавил заседание подкомиссии в Москве?",
                "Жүргенов академиясы қай институтпен жол картасына қол қойды?",
            )
        ]
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]


class Bench:
    """Shared state of one benchmark run."""

    def __init__(self, args: argparse.Namespace, work: Path):
        from askculture.settings import Settings

        self.args = args
        self.work = work
        self.settings = Settings()
        if args.model:
            self.settings.embedding.model = args.model
        if args.torch_threads:
            self.settings.embedding.threads = args.torch_threads
            os.environ["ASKCULTURE_EMBEDDING__THREADS"] = str(args.torch_threads)
        self.dev = load_dev_set()
        self.questions = [d["question"] for d in self.dev]
        self.results: dict[str, Any] = {}
        self.out: Path | None = None
        self.tables: list[str] = []
        self.sample_index: Path | None = None
        self._embedder: Any = None

    @property
    def embedder(self) -> Any:
        """The embedding model, loaded once."""
        if self._embedder is None:
            from askculture.embedding import get_embedder

            t0 = time.perf_counter()
            self._embedder = get_embedder(self.settings.embedding)
            self.results.setdefault("model", {})["load_s"] = round(time.perf_counter() - t0, 2)
        return self._embedder

    def checkpoint(self) -> None:
        """Write the results so far (so that a killed run still leaves its figures)."""
        if self.out is not None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.out.write_text(json.dumps(self.results, indent=2, default=str), encoding="utf-8")

    def emit(self, text: str) -> None:
        """Print a table now and keep it for the final summary."""
        print(text, flush=True)
        self.tables.append(text)


# --------------------------------------------------------------------------------------------
# ingest
# --------------------------------------------------------------------------------------------


def _embedding_inputs(bench: Bench, paths: list[Path]) -> list[str]:
    """Exactly the texts ingest embeds for these files (title + chunk, per the settings)."""

    from askculture.documents import iter_files, load_file
    from askculture.reading import Preparer

    emb = Preparer.for_embedder(bench.embedder, bench.settings)
    texts: list[str] = []
    for path in iter_files(paths):
        for doc in load_file(path.resolve()):
            texts.extend(emb.prepare(doc)[2])
    return texts


def _raw_encode(bench: Bench, texts: list[str]) -> float:
    """Seconds for the bare sentence-transformers encode of ``texts`` (prefix added)."""
    model = bench.embedder.sentence_transformer
    prefixed = [bench.embedder.spec.passage_prefix + t for t in texts]
    t0 = time.perf_counter()
    model.encode(
        prefixed,
        batch_size=bench.settings.embedding.batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return time.perf_counter() - t0


_CLI_WITH_PEAK = """
import atexit, os, pathlib, sys
def _peak():  # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec
    status = pathlib.Path("/proc/self/status").read_text()
    pathlib.Path(os.environ["BENCH_PEAK_FILE"]).write_text(status.split("VmHWM:")[1].split()[0])
atexit.register(_peak)
from askculture.cli import main
sys.argv[0] = "askculture"
main()
"""


def _cli(bench: Bench, argv: list[str], **env: str) -> tuple[int, float, float, float, Path, Path]:
    """A cold ``askculture`` process: (exit code, wall seconds, peak RSS MB of it and its
    children by ``wait4``, its own peak RSS MB (VmHWM), stdout, stderr)."""
    peak_file = bench.work / "cli.peak"
    env = {
        **os.environ, "ASKCULTURE_EMBEDDING__MODEL": bench.settings.embedding.model,
        "BENCH_PEAK_FILE": str(peak_file), **env,
    }  # fmt: skip
    out_path, err_path = bench.work / "cli.out", bench.work / "cli.err"
    t0 = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CLI_WITH_PEAK, *argv], env=env, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    own = int(peak_file.read_text()) / 1024 if peak_file.exists() else float("nan")
    return os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024, own, out_path, err_path


def _cli_ingest(bench: Bench, corpus: Path, index: Path) -> dict[str, Any]:
    """A cold ``askculture ingest`` process: wall time and peak RSS (its own, or its worker's)."""
    code, wall, rss, _, out_path, err_path = _cli(
        bench, ["ingest", str(corpus), "--index", str(index), "--json"]
    )
    try:
        report = json.loads(out_path.read_text(encoding="utf-8"))
    except ValueError:
        report = {}
    return {
        "exit": code,
        "wall_s": round(wall, 2),
        "chunks": report.get("chunks_embedded", 0),
        "peak_rss_mb": round(rss, 1),
        "stderr": "" if code in (0, 3) else err_path.read_text(errors="replace")[-300:],
    }


def bench_ask_cli(bench: Bench) -> None:
    """One-shot ``askculture ask`` processes on the sample index, the two runtimes of question
    embedding alternating: wall time (start-up, model load, one answer) and peak RSS."""
    import askculture
    from askculture.settings import SAMPLE_CORPUS_DIR

    if bench.sample_index is None:
        bench.sample_index = bench.work / "ask-cli-index"
        askculture.ingest([SAMPLE_CORPUS_DIR], bench.sample_index, settings=bench.settings)
    argv = ["ask", "Who signed the roadmap with GITIS?", "--index", str(bench.sample_index)]
    runs: dict[str, list[tuple[float, float]]] = {"onnx": [], "torch": []}
    for _ in range(bench.args.repeats):
        for runtime, got in runs.items():
            code, wall, _, rss, _, err = _cli(bench, argv, ASKCULTURE_EMBEDDING__RUNTIME=runtime)
            if code != 0:
                raise RuntimeError(f"askculture ask failed: {err.read_text(errors='replace')}")
            got.append((wall, rss))
    out = {
        runtime: {
            "wall_s": [round(w, 2) for w, _ in got],
            "peak_rss_mb": [round(r, 1) for _, r in got],
        }
        for runtime, got in runs.items()
    }
    bench.results["ask_cli"] = out
    rows = [
        [r, statistics.median(v["wall_s"]), min(v["wall_s"]), statistics.median(v["peak_rss_mb"])]
        for r, v in out.items()
    ]
    bench.emit(
        table(
            f"One-shot `askculture ask` ({bench.settings.embedding.model}; "
            f"{bench.args.repeats} alternating repeats)",
            ["question runtime", "median s", "min s", "peak MB"],
            rows,
        )
    )


_FIRST_UPLOAD = """
import json, sys, time
from pathlib import Path
from askculture.settings import Settings
from askculture.web.engine import ChatEngine
index, doc, tab_open = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
engine = ChatEngine(index, Settings(), log=lambda message: None)
engine.start(background=False)
if tab_open:
    engine.warm_ingest()  # what opening the documents tab does
    time.sleep(tab_open)
t0 = time.perf_counter()
engine.add_files([doc])
print(json.dumps(time.perf_counter() - t0))
"""
TAB_OPEN_S = 8.0
"""How long the documents tab is open before the upload (choosing the files)."""


def bench_upload(bench: Bench) -> None:
    """The first upload of a one-paragraph file in a fresh serving process, at once and after
    the documents tab has been open ``TAB_OPEN_S``, alternating."""
    import askculture
    from askculture.settings import SAMPLE_CORPUS_DIR

    base, index = bench.work / "upload-base", bench.work / "upload-index"
    askculture.ingest([SAMPLE_CORPUS_DIR], base, settings=bench.settings)
    doc = bench.work / "upload.md"
    doc.write_text("---\ntitle: Upload\nlang: en\n---\n\nThe museum opened in May.\n", "utf-8")
    env = {**os.environ, "ASKCULTURE_EMBEDDING__MODEL": bench.settings.embedding.model}
    runs: dict[float, list[float]] = {0.0: [], TAB_OPEN_S: []}
    for _ in range(bench.args.repeats):
        for wait, got in runs.items():
            shutil.rmtree(index, ignore_errors=True)
            shutil.copytree(base, index)
            argv = [sys.executable, "-c", _FIRST_UPLOAD, str(index), str(doc), str(wait)]
            done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"the upload failed: {done.stderr[-2000:]}")
            got.append(round(float(done.stdout.strip().splitlines()[-1]), 2))
    bench.results["upload"] = {f"tab_open_{w:g}s": v for w, v in runs.items()}
    rows = [[f"{w:g} s", statistics.median(v), min(v), max(v)] for w, v in runs.items()]
    bench.emit(
        table(
            f"First upload in a fresh serving process ({bench.args.repeats} alternating repeats)",
            ["documents tab open before", "median s", "min s", "max s"],
            rows,
        )
    )


class _EmbedClock:
    """Wraps the embedder's ``embed_passages`` to add up the time ingest spends in it."""

    def __init__(self, embedder: Any):
        self.embedder = embedder
        self.seconds = 0.0
        self._original = embedder.embed_passages

    def __enter__(self) -> _EmbedClock:
        def timed_embed(texts: list[str]) -> Any:
            t0 = time.perf_counter()
            try:
                return self._original(texts)
            finally:
                self.seconds += time.perf_counter() - t0

        self.embedder.embed_passages = timed_embed
        return self

    def __exit__(self, *exc: object) -> None:
        del self.embedder.embed_passages  # back to the class's method


def bench_ingest(bench: Bench) -> None:
    """Ingest throughput next to raw encode throughput, on the sample and a varied corpus.

    Raw encode and ingest alternate, ``--repeats`` times; the reported ratio is the median of
    the ratios of neighbouring pairs (so that load from other processes, which drifts, hits
    both alike). A second ratio needs no pairing at all: the share of each ingest's own wall
    time spent inside the embedding model (``embed share``); 1 - share is ingest's overhead.
    """
    from synth import vary_corpus

    import askculture
    from askculture.settings import SAMPLE_CORPUS_DIR

    args = bench.args
    corpora = {"sample (33 files)": SAMPLE_CORPUS_DIR}
    if args.copies > 0:
        varied = bench.work / "varied"
        files = vary_corpus(varied, args.copies)
        corpora[f"varied x{args.copies} ({len(files)} files)"] = varied
    log("ingest: warming up the model and the reading worker")
    askculture.ingest(
        [sorted(SAMPLE_CORPUS_DIR.glob("*.md"))[0]], bench.work / "warmup", settings=bench.settings
    )
    _raw_encode(bench, ["warm up the model"] * 8)
    rows, out = [], []
    for name, corpus in corpora.items():
        texts = _embedding_inputs(bench, [corpus])
        raw_s, ing_s, embed_s = [], [], []
        chunks = 0
        for r in range(args.repeats):
            log(f"ingest: {name}, repeat {r + 1}/{args.repeats}")
            gc.collect()
            raw_s.append(_raw_encode(bench, texts))
            index = bench.work / f"ingest-{len(out)}-{r}"
            gc.collect()
            with _EmbedClock(bench.embedder) as clock:
                report = askculture.ingest([corpus], index, settings=bench.settings)
            ing_s.append(report.seconds)
            embed_s.append(clock.seconds)
            chunks = report.chunks_embedded
            if name.startswith("sample") and bench.sample_index is None:
                bench.sample_index = index
            else:
                shutil.rmtree(index, ignore_errors=True)
        ratio = statistics.median(r / i for r, i in zip(raw_s, ing_s, strict=True))
        share = statistics.median(e / i for e, i in zip(embed_s, ing_s, strict=True))
        cold = _cli_ingest(bench, corpus, bench.work / f"cli-{len(out)}")
        shutil.rmtree(bench.work / f"cli-{len(out)}", ignore_errors=True)
        entry = {
            "corpus": name,
            "chunks": chunks,
            "encode_inputs": len(texts),
            "raw_encode_chunks_per_s": round(len(texts) / statistics.median(raw_s), 2),
            "ingest_chunks_per_s": round(chunks / statistics.median(ing_s), 2),
            "ratio": round(ratio, 3),
            "embed_share_of_ingest": round(share, 3),
            "raw_encode_s": [round(x, 2) for x in raw_s],
            "ingest_s": [round(x, 2) for x in ing_s],
            "embed_in_ingest_s": [round(x, 2) for x in embed_s],
            "cli_cold": cold,
        }
        out.append(entry)
        rows.append(
            [
                name,
                chunks,
                entry["raw_encode_chunks_per_s"],
                entry["ingest_chunks_per_s"],
                entry["ratio"],
                entry["embed_share_of_ingest"],
                cold["wall_s"],
                cold["peak_rss_mb"],
            ]
        )
    bench.results["ingest"] = out
    bench.emit(
        table(
            f"Ingest ({bench.settings.embedding.model}; {args.repeats} alternating repeats; "
            "target ratio >= 0.9)",
            [
                "corpus",
                "chunks",
                "raw encode ch/s",
                "ingest ch/s",
                "ratio",
                "embed share",
                "CLI cold s",
                "CLI peak MB",
            ],
            rows,
        )
        + "\nratio: median of raw-encode time / ingest time over neighbouring pairs; embed share:"
        " time inside the model / ingest time, within each ingest. CLI cold: a fresh"
        " `askculture ingest` process (start-up and model load included)."
    )


def bench_embed_pool(bench: Bench) -> None:
    """Passage encoding in-process (1 and all threads) against sentence-transformers'
    multi-process pool (``embedding.processes``), on the same chunks in the same run."""
    import torch

    from askculture.embedding import get_embedder
    from askculture.settings import SAMPLE_CORPUS_DIR

    texts = _embedding_inputs(bench, [SAMPLE_CORPUS_DIR]) * 2
    cpus = os.cpu_count() or 1
    rows, out = [], []
    for processes, threads in ((1, 1), (1, cpus), (cpus, 1)):
        settings = bench.settings.embedding.model_copy()
        settings.processes, settings.threads = processes, threads * processes
        emb = get_embedder(settings)
        torch.set_num_threads(threads)
        log(f"embed-pool: {processes} process(es) x {threads} thread(s)")
        emb.embed_passages(texts[: 2 * emb.batch_size])  # warm up (starts the pool)
        times = []
        for _ in range(bench.args.repeats):
            t0 = time.perf_counter()
            emb.embed_passages(texts)
            times.append(time.perf_counter() - t0)
        emb.close()
        rate = len(texts) / statistics.median(times)
        out.append({"processes": processes, "threads": threads, "chunks_per_s": rate})
        rows.append([processes, threads, len(texts), rate])
    torch.set_num_threads(bench.settings.embedding.threads)
    bench.results["embed_pool"] = out
    bench.emit(
        table(
            f"Embedding in-process vs a worker pool ({bench.settings.embedding.model}, "
            f"{cpus} CPUs, median of {bench.args.repeats})",
            ["processes", "threads each", "chunks", "chunks/s"],
            rows,
        )
    )


# --------------------------------------------------------------------------------------------
# query latency and index choice at scale
# --------------------------------------------------------------------------------------------


def _manifest(bench: Bench) -> Any:
    import importlib

    from askculture.reading import Preparer
    from askculture.store import Manifest

    ingest_module = importlib.import_module("askculture.ingest")
    e = bench.embedder
    emb = Preparer.for_embedder(e, bench.settings)
    return Manifest(
        model=bench.settings.embedding.model,
        model_id=e.model_id,
        dim=e.dim,
        query_prefix=e.spec.query_prefix,
        passage_prefix=e.spec.passage_prefix,
        chunking=ingest_module._chunking_params(bench.settings, emb.chunk_tokens),
    )


def probe_memory(index: str, model: str | None) -> None:
    """(Subprocess) RSS after loading the model, then after opening the index and querying."""
    from askculture.embedding import get_embedder
    from askculture.retrieval import open_index, retrieve
    from askculture.settings import Settings

    settings = Settings()
    if model:
        settings.embedding.model = model
    e = get_embedder(settings.embedding)
    e.embed_query("warm up")
    gc.collect()
    before = rss_mb()
    open_index(index, settings=settings)
    retrieve("Who signed the roadmap with GITIS?", 5, index, settings=settings)
    gc.collect()
    print(json.dumps({"model_mb": before, "index_mb": rss_mb() - before}))


def _memory_per_chunk(bench: Bench, index: Path) -> dict[str, float]:
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--probe-memory",
            str(index),
            "--model",
            bench.settings.embedding.model,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    try:
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        log(f"memory probe failed: {proc.stderr[-300:]}")
        return {}


def _index_choice(
    bench: Bench, vectors: Any, index_vectors: Any, index_type: str, queries: Any
) -> dict[str, Any]:
    """Flat vs HNSW on these vectors: latency, recall@10 per efSearch, build time."""
    import faiss

    from askculture import store

    n, dim = vectors.shape
    ids = np.arange(1, n + 1, dtype=np.int64)
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    _, truth = flat.search(queries, 10)
    truth_ids = truth + 1
    nq = len(queries)
    flat_ms = [
        ms for i in range(nq) for ms in timed(lambda i=i: flat.search(queries[i : i + 1], 10), 1)
    ]
    if index_type == "hnsw":
        hnsw, build_s = index_vectors, None  # the index's own graph, built at commit
    else:
        t0 = time.perf_counter()
        hnsw = store._hnsw_index(dim)
        hnsw.add_with_ids(vectors, ids)
        build_s = time.perf_counter() - t0
    inner = faiss.downcast_index(hnsw.index)
    sweep = []
    for ef in bench.args.ef:
        inner.hnsw.efSearch = ef
        ms = [
            x for i in range(nq) for x in timed(lambda i=i: hnsw.search(queries[i : i + 1], 10), 1)
        ]
        _, got = hnsw.search(queries, 10)
        recall = float(np.mean([len(set(got[i]) & set(truth_ids[i])) / 10 for i in range(nq)]))
        sweep.append(
            {"ef_search": ef, "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "recall_at_10": recall}
        )
    inner.hnsw.efSearch = store.HNSW_EF_SEARCH
    return {
        "flat_p50_ms": pct(flat_ms, 50),
        "flat_p95_ms": pct(flat_ms, 95),
        "hnsw_build_s": build_s,
        "hnsw_M": store.HNSW_M,
        "hnsw_ef_construction": store.HNSW_EF_CONSTRUCTION,
        "sweep": sweep,
        "flat_bytes_per_vector": dim * 4 + 8,
        "hnsw_bytes_per_vector": len(faiss.serialize_index(hnsw)) / n,
    }


def _add_one_file(bench: Bench, index: Path, which: int = 0) -> float | None:
    """Seconds to ingest one more (real) file into ``index``; None if it would rebuild."""
    import askculture
    from askculture.settings import SAMPLE_CORPUS_DIR
    from askculture.store import IndexReader

    manifest = _manifest(bench)
    live = IndexReader.open(index)
    same = (
        live.manifest.chunking == manifest.chunking and live.manifest.model_id == manifest.model_id
    )
    live.close()
    if not same:
        return None
    one = bench.work / f"one-file-{which}"
    one.mkdir(exist_ok=True)
    src = sorted(SAMPLE_CORPUS_DIR.glob("*.md"))[which]
    shutil.copy(src, one / src.name)
    report = askculture.ingest([one], index, settings=bench.settings)
    return report.seconds


def _ms(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Milliseconds of one call."""
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - t0) * 1000


def _forget_queries(retriever: Any) -> None:
    """Empty the retriever's cache of query vectors, so each timed query embeds its text."""
    cache = getattr(retriever, "_qcache", None)
    if isinstance(cache, dict):
        cache.clear()


def _queries(questions: list[str], n: int) -> list[str]:
    """``n`` distinct queries: the questions, then again with one more "?" each round.

    The trailing question marks change no search term but make each text new, so that no
    query-vector cache can answer a repeated question without embedding it.
    """
    return [questions[i % len(questions)] + "?" * (i // len(questions)) for i in range(n)]


def _query_timings(bench: Bench, path: Path, qs: list[str]) -> dict[str, Any]:
    """Per-call milliseconds of retrieve, and of its parts: query embedding, dense, BM25."""
    from askculture.documents import detect_language
    from askculture.lexical import tokenize
    from askculture.retrieval import open_index, retrieve

    retriever = open_index(path, settings=bench.settings)
    for q in qs[:5]:
        retrieve(q, 5, path, settings=bench.settings)  # warm up
    questions = bench.questions
    qvecs = [retriever.embedder.embed_query(q) for q in questions]
    terms = [tokenize(q, detect_language(q)) for q in questions]

    def cold_retrieve(q: str) -> float:
        _forget_queries(retriever)
        return _ms(retrieve, q, 5, path, settings=bench.settings)

    return {
        "_retrieve_ms": [cold_retrieve(q) for q in qs],
        "_embed_ms": [_ms(retriever.embedder.embed_query, q) for q in questions],
        "_dense_ms": [_ms(retriever.reader.search_dense, v, 50) for v in qvecs],
        "_lexical_ms": [_ms(retriever.reader.lexical.search, t, 50) for t in terms],
    }


def build_child(spec: str) -> None:
    """(Subprocess) Build one synthetic index; print its figures as JSON (own peak RSS)."""
    from synth import Vocabulary, build_index

    from askculture.store import IndexReader, Manifest

    job = json.loads(spec)
    vocab = Vocabulary.from_sample()
    built = build_index(
        Path(job["path"]), job["n"], Manifest(**job["manifest"]), vocab,
        exact_search_max=job["exact_search_max"], kind=job["kind"],
        words_per_chunk=job["words"], segment_chunks=job["segment_chunks"],
    )  # fmt: skip
    reader = IndexReader.open(Path(job["path"]))
    segments = len(reader.segments)
    reader.close()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(
        json.dumps(
            {
                "seconds": built.seconds,
                "documents": built.documents,
                "index_type": built.index_type,
                "segments": segments,
                "peak_rss_mb": peak_kb / 1024,
            }
        )
    )


def _build_in_child(bench: Bench, path: Path, n: int, manifest: Any) -> dict[str, Any]:
    """Build a synthetic index in a fresh process: its time and its own peak memory."""
    from dataclasses import asdict

    job = {
        "path": str(path), "n": n, "manifest": asdict(manifest),
        "exact_search_max": bench.settings.index.exact_search_max, "kind": bench.args.vectors,
        "words": bench.args.words_per_chunk, "segment_chunks": bench.settings.index.segment_chunks,
    }  # fmt: skip
    proc = subprocess.run(
        [sys.executable, __file__, "--build-index", json.dumps(job)],
        capture_output=True, text=True, timeout=4 * 3600,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"building the {n:,}-chunk index failed: {proc.stderr[-800:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _disk(path: Path) -> dict[str, int]:
    """Bytes of an index folder, in all and by kind of file."""
    files = [p for p in path.rglob("*") if p.is_file()]
    return {
        "total": sum(p.stat().st_size for p in files),
        "vectors": sum(p.stat().st_size for p in files if p.name == "vectors.faiss"),
        "sqlite": sum(p.stat().st_size for p in files if p.name == "meta.sqlite"),
        "lexical": sum(p.stat().st_size for p in files if p.parent.name == "lexical"),
    }


def _updates(bench: Bench, path: Path) -> dict[str, Any]:
    """Seconds to add one real file (ingest), to remove one document (a commit), and for a
    serving process to pick up each change (``open_index`` of the new generation)."""
    from askculture.retrieval import open_index
    from askculture.store import IndexReader, IndexWriter

    out: dict[str, Any] = {"add_one_file_s": _add_one_file(bench, path)}
    t0 = time.perf_counter()
    open_index(path, settings=bench.settings)
    out["reopen_after_add_s"] = time.perf_counter() - t0
    out["add_another_file_s"] = _add_one_file(bench, path, 1)  # the reading worker is warm now
    reader = IndexReader.open(path)
    seg = reader.segments[0]
    row = seg.con.execute("SELECT path FROM documents LIMIT 1 OFFSET 7").fetchone()
    victim = row[0]
    manifest = reader.manifest
    reader.close()
    t0 = time.perf_counter()
    with IndexWriter(path, manifest, exact_search_max=bench.settings.index.exact_search_max) as w:
        removed = w.remove_file(victim)
    out["remove_one_document_s"] = time.perf_counter() - t0
    out["removed_documents"] = removed
    t0 = time.perf_counter()
    retriever = open_index(path, settings=bench.settings)
    out["reopen_after_remove_s"] = time.perf_counter() - t0
    out["segments_after"] = len(retriever.reader.segments)
    return out


def bench_query(bench: Bench, sections: set[str]) -> None:
    """Build synthetic indexes of each size; measure queries, updates, memory, disk."""
    from synth import unit_vectors

    from askculture.answering import ask
    from askculture.retrieval import open_index

    args = bench.args
    manifest = _manifest(bench)
    questions = bench.questions
    nq = args.queries
    qs = _queries(questions, nq)
    rows, choice_rows, out = [], [], []
    for size_name in args.sizes:
        n = SIZE_NAMES[size_name]
        log(f"query: building a {size_name} index ({args.words_per_chunk} words per chunk)")
        path = bench.work / f"synthetic-{size_name}"
        built = _build_in_child(bench, path, n, manifest)
        disk = _disk(path)
        entry: dict[str, Any] = {
            "size": size_name,
            "chunks": n,
            "words_per_chunk": args.words_per_chunk,
            **{f"build_{k}": v for k, v in built.items()},
            "disk_bytes": disk,
            "disk_bytes_per_chunk": round(disk["total"] / n),
        }
        log(
            f"query: built in {built['seconds']:.0f} s, {built['segments']} segments, peak RSS "
            f"{built['peak_rss_mb']:.0f} MB"
        )
        if "query" in sections:
            log(f"query: memory probe at {size_name}")
            mem = _memory_per_chunk(bench, path)
            entry["memory"] = mem
            entry["memory_bytes_per_chunk"] = (
                round(mem["index_mb"] * 2**20 / n) if "index_mb" in mem else None
            )
            log(f"query: {nq} retrieve calls at {size_name}")
            timings = _query_timings(bench, path, qs)
            log(f"query: {args.ask_queries} ask calls at {size_name}")
            retriever = open_index(path, settings=bench.settings)
            ask_ms = []
            for q in _queries(questions, args.ask_queries):
                _forget_queries(retriever)
                ask_ms.append(_ms(ask, q, path, settings=bench.settings))
            lat = timings.pop("_retrieve_ms")
            embed_ms = timings.pop("_embed_ms")
            dense_ms = timings.pop("_dense_ms")
            lex_ms = timings.pop("_lexical_ms")
            entry.update(
                {
                    "retrieve_p50_ms": pct(lat, 50),
                    "retrieve_p95_ms": pct(lat, 95),
                    "ask_p50_ms": pct(ask_ms, 50),
                    "ask_p95_ms": pct(ask_ms, 95),
                    "embed_query_p50_ms": pct(embed_ms, 50),
                    "dense_p50_ms": pct(dense_ms, 50),
                    "dense_p95_ms": pct(dense_ms, 95),
                    "lexical_p50_ms": pct(lex_ms, 50),
                    "lexical_p95_ms": pct(lex_ms, 95),
                    "queries": len(lat),
                }
            )
            log(f"query: updates at {size_name}")
            entry.update(_updates(bench, path))
            rows.append(
                [
                    size_name,
                    built["segments"],
                    round(built["seconds"]),
                    round(built["peak_rss_mb"]),
                    entry["retrieve_p50_ms"],
                    entry["retrieve_p95_ms"],
                    entry["ask_p50_ms"],
                    entry["ask_p95_ms"],
                    entry["embed_query_p50_ms"],
                    entry["dense_p95_ms"],
                    entry["lexical_p95_ms"],
                    entry["disk_bytes_per_chunk"],
                    entry["memory_bytes_per_chunk"],
                    entry["add_one_file_s"],
                    entry["add_another_file_s"],
                    entry["remove_one_document_s"],
                    entry["reopen_after_add_s"],
                ]
            )
        if "index" in sections:
            log(f"index: flat vs HNSW at {size_name}")
            queries = unit_vectors(args.recall_queries, manifest.dim, seed=999, kind=args.vectors)
            vectors = unit_vectors(n, manifest.dim, 0, args.vectors)
            choice = _index_choice(bench, vectors, None, "flat", queries)
            del vectors
            choice["vectors"] = args.vectors
            entry["index_choice"] = choice
            at_default = next(
                (s for s in choice["sweep"] if s["ef_search"] == choice_default_ef()), None
            )
            best = [s for s in choice["sweep"] if s["recall_at_10"] >= 0.95]
            choice_rows.append(
                [
                    size_name,
                    choice["flat_p50_ms"],
                    choice["flat_p95_ms"],
                    choice["hnsw_build_s"],
                    at_default["p95_ms"] if at_default else "-",
                    at_default["recall_at_10"] if at_default else "-",
                    min(s["ef_search"] for s in best) if best else "none >= 0.95",
                    round(choice["hnsw_bytes_per_vector"]),
                ]
            )
        out.append(entry)
        bench.results["query"] = out
        bench.checkpoint()
        if rows and rows[-1][0] == size_name:
            log("query: " + " | ".join(_fmt(c) for c in rows[-1]))
        _forget_indexes()
        gc.collect()
        if not args.keep:
            shutil.rmtree(path, ignore_errors=True)
    bench.results["query"] = out
    if rows:
        bench.emit(
            table(
                f"Query latency and updates at scale ({args.vectors} random unit vectors, "
                f"{args.words_per_chunk}-word chunks of sample-corpus words; segments of "
                f"{bench.settings.index.segment_chunks:,}, HNSW above "
                f"{bench.settings.index.exact_search_max:,}; torch threads "
                f"{bench.settings.embedding.threads}, faiss threads {_faiss_threads()}; "
                f"{nq} retrieve / {args.ask_queries} ask calls)",
                [
                    "size",
                    "segs",
                    "build s",
                    "build MB",
                    "retrieve p50",
                    "p95",
                    "ask p50",
                    "p95",
                    "embed q",
                    "dense p95",
                    "bm25 p95",
                    "disk B/ch",
                    "mem B/ch",
                    "+1 file s",
                    "+1 more",
                    "-1 doc s",
                    "reopen s",
                ],
                rows,
            )
            + "\nbuild MB: peak RSS of the process that wrote the index (vectors, SQLite and BM25"
            " postings, segment by segment). +1 file: askculture.ingest of one real file (e5"
            " embedding included; the first one may start the reading worker), +1 more: another"
            " right after; -1 doc: a commit removing one document; reopen: open_index"
            " of the new generation in the serving process (unchanged segments are shared)."
        )
    if choice_rows:
        suggestion = _suggest_threshold(out)
        bench.results["index_suggestion"] = suggestion
        bench.emit(
            table(
                f"Index choice (single-query search, {args.recall_queries} queries; HNSW M="
                f"{_store().HNSW_M}, efConstruction={_store().HNSW_EF_CONSTRUCTION}, "
                f"efSearch={_store().HNSW_EF_SEARCH}; recall@10 vs exact; faiss threads "
                f"{_faiss_threads()})",
                [
                    "size",
                    "flat p50",
                    "flat p95",
                    "HNSW build s",
                    "HNSW p95",
                    "recall@10",
                    "min ef >= .95",
                    "HNSW B/vec",
                ],
                choice_rows,
            )
            + f"\n{suggestion['text']}"
        )


def _forget_indexes() -> None:
    """Drop the indexes ``open_index`` keeps open (their memory) between sizes."""
    from askculture import retrieval

    cache = getattr(retrieval, "_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def _store() -> Any:
    from askculture import store

    return store


def _faiss_threads() -> int:
    import faiss

    return int(faiss.omp_get_max_threads())


def choice_default_ef() -> int:
    """The efSearch the index uses."""
    return int(_store().HNSW_EF_SEARCH)


def _suggest_threshold(entries: list[dict[str, Any]]) -> dict[str, Any]:
    measured = [
        (e["chunks"], e["index_choice"]["flat_p95_ms"]) for e in entries if "index_choice" in e
    ]
    fast = [n for n, p95 in measured if p95 <= DENSE_BUDGET_MS]
    slow = [n for n, p95 in measured if p95 > DENSE_BUDGET_MS]
    from askculture.settings import IndexSettings

    current = IndexSettings().exact_search_max
    if fast and slow and max(fast) < min(slow):
        text = (
            f"Flat search p95 <= {DENSE_BUDGET_MS:g} ms up to {max(fast):,} chunks and above it "
            f"from {min(slow):,}: exact_search_max belongs between them (now {current:,})."
        )
    elif fast and not slow:
        text = f"Flat search stays under {DENSE_BUDGET_MS:g} ms at every size measured."
    else:
        text = f"Flat search exceeds {DENSE_BUDGET_MS:g} ms already at {min(slow or [0]):,} chunks."
    return {"budget_ms": DENSE_BUDGET_MS, "flat_p95": measured, "current": current, "text": text}


# --------------------------------------------------------------------------------------------
# peer
# --------------------------------------------------------------------------------------------


def _askculture_hits(bench: Bench, index: Path, repeats: int) -> dict[str, Any]:
    from askculture.retrieval import open_index, retrieve

    retriever = open_index(index, settings=bench.settings)
    hits = asked = 0
    lat = []
    for d in bench.dev:
        for _ in range(repeats):
            _forget_queries(retriever)
            t0 = time.perf_counter()
            passages = retrieve(d["question"], 5, index, settings=bench.settings)
            lat.append((time.perf_counter() - t0) * 1000)
        if d.get("gold"):
            asked += 1
            hits += bool({Path(p.path).name for p in passages} & set(d["gold"]))
    return {
        "hit_at_5": hits / asked if asked else 0.0,
        "questions": asked,
        "p50_ms": pct(lat, 50),
        "p95_ms": pct(lat, 95),
    }


def bench_peer(bench: Bench) -> None:
    """txtai over the same chunks with the same model, beside askculture."""

    from peer import run_txtai, txtai_available

    import askculture
    from askculture.documents import iter_files, load_file
    from askculture.embedding import resolve_model
    from askculture.settings import SAMPLE_CORPUS_DIR

    if bench.sample_index is None:
        bench.sample_index = bench.work / "peer-index"
        askculture.ingest([SAMPLE_CORPUS_DIR], bench.sample_index, settings=bench.settings)
    index = bench.sample_index
    t0 = time.perf_counter()
    again = bench.work / "peer-askculture"
    report = askculture.ingest([SAMPLE_CORPUS_DIR], again, settings=bench.settings)
    ac_ingest = time.perf_counter() - t0
    shutil.rmtree(again, ignore_errors=True)
    ours = _askculture_hits(bench, index, bench.args.peer_repeats)
    result: dict[str, Any] = {
        "askculture": {**ours, "ingest_s": ac_ingest, "chunks": report.chunks_embedded}
    }
    rows = [
        [
            "askculture (hybrid)",
            report.chunks_embedded,
            ac_ingest,
            ours["p50_ms"],
            ours["p95_ms"],
            ours["hit_at_5"],
            ours["questions"],
        ]
    ]
    if not txtai_available():
        result["txtai"] = {"skipped": "txtai is not installed (pip install txtai)"}
        note = "txtai: skipped (not installed; `pip install txtai` into the venv to compare)."
    else:
        from askculture.reading import Preparer

        emb = Preparer.for_embedder(bench.embedder, bench.settings)
        chunks = [
            (Path(path).name, text)
            for path in iter_files([SAMPLE_CORPUS_DIR])
            for doc in load_file(path.resolve())
            for text in emb.prepare(doc)[2]
        ]
        spec = resolve_model(bench.settings.embedding)
        log("peer: txtai")
        peer = run_txtai(
            spec.location,
            spec.query_prefix,
            spec.passage_prefix,
            chunks,
            [(d["question"], d.get("gold") or []) for d in bench.dev],
            batch_size=bench.settings.embedding.batch_size,
            repeats=bench.args.peer_repeats,
        )
        result["txtai"] = peer.__dict__
        rows.append(
            [
                "txtai (dense, same chunks)",
                peer.chunks,
                peer.index_s,
                peer.query_p50_ms,
                peer.query_p95_ms,
                peer.hit_at_5,
                peer.questions,
            ]
        )
        note = (
            f"txtai model load {peer.model_load_s:.1f} s (not in its index time); askculture's "
            "ingest time includes reading, splitting and BM25, txtai's only embedding + FAISS."
        )
    bench.results["peer"] = result
    bench.emit(
        table(
            f"Peer: sample corpus, {bench.settings.embedding.model}, dev set hit@5, torch threads "
            f"{bench.settings.embedding.threads}",
            ["system", "chunks", "ingest s", "query p50 ms", "p95 ms", "hit@5", "questions"],
            rows,
        )
        + "\n"
        + note
    )


# --------------------------------------------------------------------------------------------
# web load, hardening
# --------------------------------------------------------------------------------------------


def bench_load(bench: Bench) -> None:
    """N users against a real server for ``--duration`` seconds."""
    from loadtest import run_load_test

    import askculture
    from askculture.settings import SAMPLE_CORPUS_DIR

    if bench.sample_index is None:
        bench.sample_index = bench.work / "load-index"
        askculture.ingest([SAMPLE_CORPUS_DIR], bench.sample_index, settings=bench.settings)
    log(f"load: {bench.args.users} users for {bench.args.duration:g} s")
    work = bench.work / "load"
    work.mkdir(exist_ok=True)
    res = run_load_test(
        bench.sample_index,
        work,
        bench.questions,
        users=bench.args.users,
        duration=bench.args.duration,
        hostile_users=bench.args.hostile_users,
    )
    summary = res.summary()
    bench.results["load"] = summary
    if res.skipped:
        bench.emit(f"\nWeb load: skipped: {res.skipped}")
        return
    bench.emit(
        table(
            f"Web load ({summary['users']} users + {bench.args.hostile_users} hostile, "
            f"{summary['duration_s']:g} s, gradio_client -> askculture serve on 127.0.0.1, torch "
            f"threads {bench.settings.embedding.threads})",
            [
                "served",
                "errors",
                "req/s",
                "p50 ms",
                "p95 ms",
                "max ms",
                "hostile sent/refused",
                "server peak MB",
            ],
            [
                [
                    summary["served"],
                    summary["errors"],
                    summary["throughput_rps"],
                    summary["p50_ms"],
                    summary["p95_ms"],
                    summary["max_ms"],
                    f"{summary['hostile_sent']}/{summary['hostile_refused']}",
                    summary["server_peak_rss_mb"],
                ]
            ],
        )
        + (f"\nerrors: {summary['error_samples']}" if summary["errors"] else "")
    )


def bench_bad_files(bench: Bench) -> None:
    """The malformed set beside good files."""
    from hardening import run_bad_files

    settings = bench.settings.model_copy(deep=True)
    settings.embedding.model = "minilm"
    if bench.args.file_timeout:
        settings.index.file_timeout_s = bench.args.file_timeout
    log(
        f"bad-files: {bench.args.big_mb} MB single lines, {settings.index.file_timeout_s:g} s limit"
    )
    rep = run_bad_files(bench.work / "bad", settings, big_mb=bench.args.big_mb)
    reasons: dict[str, int] = {}
    for reason in rep.skipped.values():
        key = reason.split("(")[0].split(":")[0].strip()
        reasons[key] = reasons.get(key, 0) + 1
    bench.results["bad_files"] = {
        **rep.__dict__,
        "reason_counts": reasons,
        "file_timeout_s": settings.index.file_timeout_s,
    }
    bench.emit(
        table(
            f"Bad files (file_timeout_s={settings.index.file_timeout_s:g}, MiniLM)",
            ["malformed", "skipped", "indexed", "good indexed", "seconds", "problems"],
            [
                [
                    rep.malformed,
                    len(rep.skipped),
                    len(rep.indexed) - rep.good_indexed,
                    f"{rep.good_indexed}/{rep.good_total}",
                    rep.seconds,
                    len(rep.problems),
                ]
            ],
        )
        + "\nreasons: "
        + ", ".join(f"{k} x{v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]))
        + "\nslowest: "
        + ", ".join(f"{n} {s:.1f}s" for n, s in rep.slowest)
        + ("\nPROBLEMS: " + "; ".join(rep.problems) if rep.problems else "")
    )


def bench_crash(bench: Bench) -> None:
    """kill -9 at random moments of ingests, merging commits and compactions."""
    from hardening import compact_kill_trials, crash_trials

    log(f"crash: {bench.args.crash_trials} kill -9 trials")
    rep = crash_trials(bench.work / "crash", bench.args.crash_trials, seed=bench.args.seed)
    log(f"crash: {bench.args.compact_kills} kill -9 trials during a long compaction")
    merge = compact_kill_trials(bench.work / "compact-kill", bench.args.compact_kills)
    counts = rep.counts()
    bench.results["crash"] = {
        "full_ingest_s": rep.full_ingest_s,
        "full_compact_s": rep.full_compact_s,
        "outcomes": counts,
        "trials": [t.__dict__ for t in rep.trials],
        "compact_kills": {"full_compact_s": merge.full_compact_s, "trials": merge.trials},
    }
    counts["compact (12k chunks)"] = {
        "before": len(merge.trials) - merge.broken,
        "BROKEN": merge.broken,
    }
    rows = []
    for kind, per in counts.items():
        trials = [t for t in rep.trials if t.kind == kind]
        merged: Any = sum(1 for t in trials if t.segments == 1) if kind == "compact" else "-"
        if kind.startswith("compact ("):
            trials = merge.trials  # type: ignore[assignment]
            merged = len(trials) - merge.killed_before_switch
        rows.append(
            [kind, len(trials), per.get("before", 0), per.get("after", 0), per.get("BROKEN", 0),
             merged]
        )  # fmt: skip
    bench.emit(
        table(
            f"Crash (kill -9 during `askculture ingest` / a commit that merges / `askculture "
            f"compact`, MiniLM; full ingest {rep.full_ingest_s:.1f} s, compact "
            f"{rep.full_compact_s:.1f} s)",
            ["kind", "trials", "old state", "new state", "broken/lost", "merge switched in"],
            rows,
        )
        + f"\n{len(rep.trials) + len(merge.trials)} trials, "
        f"{len(rep.failures) + merge.broken} broken or with documents lost; the long compaction"
        f" was killed before its switch {merge.killed_before_switch} times"
        + "".join(f"\nBROKEN: {t.kind}: {t.outcome}" for t in rep.failures)
    )


def bench_concurrency(bench: Bench) -> None:
    """Readers in threads while ingests commit."""
    from hardening import searches_during_ingests

    settings = bench.settings.model_copy(deep=True)
    settings.embedding.model = "minilm"
    log("concurrency: readers while ingests commit")
    rep = searches_during_ingests(bench.work / "concurrency", settings, rounds=bench.args.rounds)
    bench.results["concurrency"] = rep.__dict__
    bench.emit(
        table(
            "Concurrency (threads reading while ingests commit, MiniLM)",
            ["commits", "whole-index checks", "searches", "generations seen", "errors"],
            [[rep.commits, rep.checks, rep.searches, rep.generations_seen, len(rep.errors)]],
        )
        + "".join(f"\nERROR: {e}" for e in rep.errors[:5])
    )


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see ``--help``)."""

    class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
        pass

    p = argparse.ArgumentParser(
        description=__doc__,
        epilog=(
            "Default sizes: 1k,10k,100k (~30 min for everything on 2 cores). Add 1M with "
            "--million: a 1M-chunk index of 200-word chunks (ten HNSW segments + BM25 postings) "
            "written through IndexWriter in a child process, whose peak memory is reported. "
            "--quick: sizes 1k,10k, 1 repeat, 5 users x 15 s, 3 crash trials, 3 s file limit."
            " The run ends with the targets of issue 11, measured in that run."
        ),
        formatter_class=Formatter,
    )
    p.add_argument("--quick", action="store_true", help="smoke run (see below)")
    p.add_argument("--sizes", default=DEFAULT_SIZES, help="synthetic index sizes: 1k,10k,100k,1m")
    p.add_argument("--million", action="store_true", help="add the 1M-chunk size")
    p.add_argument("--sections", default=",".join(SECTIONS), help="which sections to run")
    p.add_argument("--model", default=None, help="embedding model (None: the settings')")
    p.add_argument("--repeats", type=int, default=3, help="ingest repeats (median)")
    p.add_argument("--copies", type=int, default=3, help="varied copies of the sample corpus")
    p.add_argument("--queries", type=int, default=200, help="retrieve calls per size")
    p.add_argument("--ask-queries", type=int, default=44, help="ask calls per size")
    p.add_argument("--recall-queries", type=int, default=300, help="queries for recall@10")
    p.add_argument(
        "--ef",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[16, 32, 64, 128],
        help="efSearch values to sweep",
    )
    p.add_argument(
        "--vectors",
        choices=("structured", "uniform"),
        default="structured",
        help="synthetic vector distribution (see benchmarks/synth.py)",
    )
    p.add_argument(
        "--words-per-chunk",
        type=int,
        default=200,
        help="synthetic chunk length in words (real chunks are ~200 model tokens)",
    )
    p.add_argument("--peer-repeats", type=int, default=3, help="timings per dev question")
    p.add_argument("--users", type=int, default=20, help="simulated web users")
    p.add_argument("--hostile-users", type=int, default=2, help="extra users sending junk")
    p.add_argument("--duration", type=float, default=60.0, help="load test seconds")
    p.add_argument(
        "--crash-trials",
        type=int,
        default=24,
        help="kill -9 trials (a third each: ingest, merging commit, compact)",
    )
    p.add_argument(
        "--compact-kills", type=int, default=8, help="kill -9 trials during a long compaction"
    )
    p.add_argument("--rounds", type=int, default=6, help="ingests during the concurrency check")
    p.add_argument("--big-mb", type=int, default=20, help="size of the single-line bad files")
    p.add_argument(
        "--file-timeout",
        type=float,
        default=None,
        help="per-file time limit for bad-files (default: settings, 60 s)",
    )
    p.add_argument(
        "--faiss-threads",
        type=int,
        default=None,
        help="set faiss OpenMP threads in this process (None: faiss's default, as in the product)",
    )
    p.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="embedding threads here and in the servers/CLIs started (None: settings, = CPUs)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="JSON output path")
    p.add_argument("--keep", type=Path, default=None, help="keep work files in this folder")
    p.add_argument("--probe-memory", default=None, help=argparse.SUPPRESS)
    p.add_argument("--build-index", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        defaults = {
            "sizes": "1k,10k",
            "repeats": 1,
            "copies": 1,
            "queries": 50,
            "ask_queries": 10,
            "recall_queries": 100,
            "peer_repeats": 1,
            "users": 5,
            "hostile_users": 1,
            "duration": 15.0,
            "crash_trials": 3,
            "compact_kills": 2,
            "rounds": 3,
            "file_timeout": 3.0,
        }
        for key, value in defaults.items():
            if getattr(args, key) == p.get_default(key):
                setattr(args, key, value)
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    if args.million and "1m" not in sizes:
        sizes.append("1m")
    bad = [s for s in sizes if s not in SIZE_NAMES]
    if bad:
        p.error(f"unknown size {bad[0]!r}: use {', '.join(SIZE_NAMES)}")
    args.sizes = sizes
    args.sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    unknown = args.sections - set(SECTIONS)
    if unknown:
        p.error(f"unknown section {sorted(unknown)[0]!r}: use {', '.join(SECTIONS)}")
    return args


def targets(bench: Bench) -> None:
    """The targets of issue 11 beside what this run measured (at the largest size run)."""
    res = bench.results
    query = [e for e in res.get("query", []) if "retrieve_p95_ms" in e]
    big = max(query, key=lambda e: e["chunks"]) if query else None
    rows: list[list[Any]] = []

    def row(figure: str, value: float | None, target: float, unit: str, fmt: str) -> None:
        shown = "not measured" if value is None else f"{value:{fmt}} {unit}"
        met = "-" if value is None else ("yes" if value < target else "NO")
        rows.append([figure, shown, f"< {target:g} {unit}", met])

    at = f" at {big['size']}" if big else ""
    row(f"add one file{at}", big and big.get("add_one_file_s"), 3, "s", ".2f")
    row(f"add another file{at} (reader warm)", big and big.get("add_another_file_s"), 3, "s",
        ".2f")  # fmt: skip
    row(f"remove one document{at}", big and big.get("remove_one_document_s"), 3, "s", ".2f")
    row(
        f"peak RSS building{at} x {bench.args.words_per_chunk}-word chunks",
        big and big["build_peak_rss_mb"] / 1024, 12, "GB", ".1f",
    )  # fmt: skip
    row(f"retrieve p95{at} (query embedding included)", big and big["retrieve_p95_ms"], 100,
        "ms", ".0f")  # fmt: skip
    row(f"ask p95{at}", big and big["ask_p95_ms"] / 1000, 1, "s", ".2f")
    ratios = [e["ratio"] for e in res.get("ingest", [])]
    rows.append(
        ["ingest throughput / raw encode", " / ".join(f"{r:.2f}" for r in ratios) or "not measured",
         ">= 0.9", "-" if not ratios else ("yes" if min(ratios) >= 0.9 else "NO")]
    )  # fmt: skip
    crash = res.get("crash")
    if crash:
        trials = sum(sum(v.values()) for v in crash["outcomes"].values())
        broken = sum(v.get("BROKEN", 0) for v in crash["outcomes"].values())
        kinds = ", ".join(f"{k} {sum(v.values())}" for k, v in crash["outcomes"].items())
        rows.append(
            [f"kill -9 trials ({kinds})", f"{trials} trials, {broken} corrupt or lossy",
             ">= 20, 0 corrupt/lost", "yes" if trials >= 20 and not broken else "NO"]
        )  # fmt: skip
    bench.results["targets"] = rows
    bench.emit(table("Targets (issue 11), this run", ["figure", "measured", "target", "met"], rows))


def _environment(bench: Bench) -> dict[str, Any]:
    import faiss
    import torch

    return {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "faiss": faiss.__version__,
        "model": bench.settings.embedding.model,
        "torch_threads": bench.settings.embedding.threads,
        "faiss_threads": faiss.omp_get_max_threads(),
        "loadavg_start": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections; print tables; write JSON."""
    args = parse_args(argv)
    if args.probe_memory:
        probe_memory(args.probe_memory, args.model)
        return 0
    if args.build_index:
        build_child(args.build_index)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that finally cleans up
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="askculture-bench-", dir=args.keep))
    else:
        work = Path(tempfile.mkdtemp(prefix="askculture-bench-"))
    bench = Bench(args, work)
    bench.out = args.out or HERE / "results" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    if args.faiss_threads:
        import faiss

        faiss.omp_set_num_threads(args.faiss_threads)
    bench.results["environment"] = _environment(bench)
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        log(f"note: load average {load:.1f} on {os.cpu_count()} CPUs: figures will be noisy")
    t0 = time.perf_counter()
    runners: list[tuple[str, Callable[[], None]]] = [
        ("ingest", lambda: bench_ingest(bench)),
        ("embed-pool", lambda: bench_embed_pool(bench)),
        ("ask-cli", lambda: bench_ask_cli(bench)),
        ("upload", lambda: bench_upload(bench)),
        ("query", lambda: bench_query(bench, args.sections)),
        ("peer", lambda: bench_peer(bench)),
        ("load", lambda: bench_load(bench)),
        ("bad-files", lambda: bench_bad_files(bench)),
        ("crash", lambda: bench_crash(bench)),
        ("concurrency", lambda: bench_concurrency(bench)),
    ]
    failed: list[str] = []
    try:
        for name, run in runners:
            wanted = name in args.sections or (name == "query" and "index" in args.sections)
            if not wanted:
                continue
            try:
                run()
                bench.checkpoint()
            except Exception as exc:  # one broken section must not lose the others
                import traceback

                traceback.print_exc()
                failed.append(name)
                bench.results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
                bench.emit(f"\n{name}: FAILED: {type(exc).__name__}: {exc}")
    finally:
        env = bench.results["environment"]
        env["loadavg_end"] = os.getloadavg()
        targets(bench)
        env["seconds"] = round(time.perf_counter() - t0, 1)
        out = bench.out
        bench.checkpoint()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        print(
            f"\nload average {env['loadavg_start'][0]:.1f} -> {env['loadavg_end'][0]:.1f} on "
            f"{env['cpus']} CPUs; {env['seconds']:.0f} s; JSON: {out}"
            + (f"; work files kept in {work}" if args.keep else ""),
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Written answers: time to the first token and to the whole checked answer, as a chat sees them.

Each question goes through :func:`askculture.stream_reply` (retrieval, the extractive reader,
then the model's stream and the quote check), timed from the moment it is asked; with ``--web``
it is asked in the real web chat instead (``serve`` on 127.0.0.1, Debian's Chromium under
Playwright, a new conversation for each question) and timed in the page, from the Enter key to
what the user sees::

    .venv/bin/python benchmarks/written.py --index /tmp/ix-sample            # starts llama-server
    .venv/bin/python benchmarks/written.py --index /tmp/ix-sample --web      # in the web chat
    .venv/bin/python benchmarks/written.py --index ix --base-url http://127.0.0.1:11434/v1 \\
        --model qwen2.5:7b --questions ../shared/eval/dev.jsonl --n 20

Without ``--base-url`` it starts llama.cpp's ``llama-server`` with the bundled Gemma 3 270M on a
free port of 127.0.0.1 (as the tests do) and stops it at the end. Prints one line per question
and the median / p90 of: the reader (question to evidence; in the page: to the draft bubble), the
first token (in the page: the first draft text shown), the whole answer (in the page: the checked
answer or the quotes shown); and how many answers were shown written vs fell back (by kind). With
``--web`` it also gives the server's own first-token and write times (model only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import askculture  # noqa: E402
from askculture.settings import Settings  # noqa: E402
from askculture.writing import Reply  # noqa: E402
from llm_support import MODEL_ALIAS, gguf_model, server_binary, start_llama_server  # noqa: E402

DEV_SET = HERE.parents[1] / "shared" / "eval" / "dev.jsonl"


def pct(values: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank) of values, or None."""
    values = sorted(values)
    return round(values[int(q * (len(values) - 1))], 1) if values else None


Row = dict[str, object]


def row(question: str, outcome: str, reader: float, first: float | None, total: float) -> Row:
    """One question's figures, printed as a line."""
    print(
        f"{outcome:>16}  reader {reader:7.0f} ms  first token "
        f"{first if first is not None else float('nan'):7.0f} ms  whole {total:7.0f} ms  "
        f"{question[:60]}",
        flush=True,
    )
    return {
        "question": question, "outcome": outcome, "reader_ms": round(reader, 1),
        "first_token_ms": round(first, 1) if first is not None else None,
        "total_ms": round(total, 1),
    }  # fmt: skip


def through_the_library(questions: list[str], index: Path, settings: Settings) -> list[Row]:
    """Each question through :func:`askculture.stream_reply`, timed in this process."""
    rows = []
    askculture.ask("warm up", index, settings=settings)
    for q in questions:
        t0 = time.perf_counter()
        first: float | None = None
        result: Reply | None = None
        for item in askculture.stream_reply(q, index, settings=settings):
            if isinstance(item, str):
                if first is None:
                    first = (time.perf_counter() - t0) * 1000
            else:
                result = item
        total = (time.perf_counter() - t0) * 1000
        assert result is not None
        outcome = "written" if result.written else (result.fallback or "not asked")
        rows.append(row(q, outcome, total - (result.write_ms or 0.0), first, total))
    return rows


def in_the_chat(questions: list[str], index: Path, settings: Settings) -> list[Row]:
    """Each question asked in the web chat (real server, Chromium), timed in the page."""
    from playwright.sync_api import sync_playwright

    from web_support import (
        CHROMIUM,
        CHROMIUM_ARGS,
        ask_in_page,
        open_tab,
        reply_clock,
        start_reply_clock,
        start_server,
        stores,
    )

    if CHROMIUM is None:
        sys.exit("Debian's chromium is not on PATH (apt-get install chromium)")
    rows = []
    chat = start_server(Path(tempfile.mkdtemp(prefix="askculture-web-")), settings, index)
    server = next(chat)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            tab = open_tab(browser, server)
            page = tab.page
            browser_id = page.evaluate("localStorage.getItem('askculture-browser')")
            conversations = stores(server).conversations
            for q in questions:
                page.click("#ac-new")
                page.wait_for_function("!document.querySelector('#ac-chat .ac-question')")
                start_reply_clock(page)
                ask_in_page(page, q)
                clock = reply_clock(page)
                latest = conversations.of_browser(browser_id)[0]
                body = conversations.turns(browser_id, latest.id)[-1].body
                outcome = (
                    "written" if body.get("written") else (body.get("fallback") or "not asked")
                )
                t0 = clock["asked"]
                first = clock["draft"] - t0 if clock["draft"] is not None else None
                reader = (clock["writing"] or clock["answered"]) - t0
                rows.append(row(q, outcome, reader, first, clock["answered"] - t0))
                rows[-1]["server_first_token_ms"] = body.get("first_token_ms")
                rows[-1]["server_write_ms"] = body.get("write_ms")
            browser.close()
    finally:
        chat.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="Index to answer from.")
    parser.add_argument("--questions", type=Path, default=DEV_SET, help="JSON Lines questions.")
    parser.add_argument("--n", type=int, default=20, help="Questions asked (first N).")
    parser.add_argument("--base-url", help="A running server (default: start llama-server).")
    parser.add_argument("--model", default=MODEL_ALIAS, help="Model name for --base-url.")
    parser.add_argument("--out", type=Path, help="Write the figures as JSON here.")
    parser.add_argument("--web", action="store_true", help="Ask in the web chat, in Chromium.")
    args = parser.parse_args()

    server = None
    if args.base_url is None:
        binary = server_binary()
        settings_cache = Settings().embedding.models_dir
        model = gguf_model(settings_cache)
        if binary is None or model is None:
            sys.exit("llama-server or the GGUF model is not installed (scripts/setup.sh --dev)")
        log = Path(tempfile.mkdtemp(prefix="askculture-llama-")) / "server.log"
        server = start_llama_server(binary, model, log)
        args.base_url = server.base_url
    settings = Settings()
    settings.answer.backend = "llm"
    settings.llm.base_url = args.base_url
    settings.llm.model = args.model
    questions = [
        json.loads(line)["question"]
        for line in args.questions.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ][: args.n]
    try:
        if args.web:
            rows = in_the_chat(questions, args.index, settings)
        else:
            rows = through_the_library(questions, args.index, settings)
    finally:
        if server is not None:
            server.stop()
    asked = [r for r in rows if r["first_token_ms"] is not None]
    figures = {
        "server": args.base_url if server is None else "llama.cpp llama-server (started here)",
        "measured": "in the web chat (Chromium)" if args.web else "through askculture.stream_reply",
        "model": args.model,
        "questions": len(rows),
        "outcomes": dict(Counter(str(r["outcome"]) for r in rows)),
        "load_average": os.getloadavg(),
    }
    keys = ["reader_ms", "first_token_ms", "total_ms"]
    keys += ["server_first_token_ms", "server_write_ms"] if args.web else []
    for key in keys:
        values = [float(r[key]) for r in asked if r[key] is not None]  # type: ignore[arg-type]
        figures[f"{key}_p50"] = pct(values, 0.5)
        figures[f"{key}_p90"] = pct(values, 0.9)
        figures[f"{key}_mean"] = round(statistics.fmean(values), 1) if values else None
    print(json.dumps(figures, indent=2))
    if args.out:
        args.out.write_text(json.dumps({"figures": figures, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()

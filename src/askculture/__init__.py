"""askculture: cited question answering over ministry communications (en/ru/kk).

The public API::

    import askculture
    report = askculture.ingest(["corpus/"], index_dir="index")
    passages = askculture.retrieve("Who signed the roadmap with GITIS?", k=5, index_dir="index")
    answer = askculture.ask("Who signed the roadmap with GITIS?", index_dir="index")
    reply = askculture.reply("Who signed the roadmap with GITIS?", index_dir="index")
    for item in askculture.stream_reply("Кто подписал дорожную карту?", index_dir="index"):
        ...  # str deltas of a written answer (answer.backend = "llm"), then the checked Reply
"""

from __future__ import annotations

from askculture.answering import Answer, Citation, ask
from askculture.errors import (
    AskCultureError,
    ConfigError,
    DocumentError,
    IndexBusyError,
    IndexStoreError,
    ModelMismatchError,
    QueryError,
)
from askculture.ingest import IngestReport, SkippedFile, ingest
from askculture.retrieval import Passage, Retriever, open_index, retrieve
from askculture.settings import SAMPLE_CORPUS_DIR, Settings
from askculture.writing import Reply, reply, stream_reply

__version__ = "0.1.0"

__all__ = [
    "SAMPLE_CORPUS_DIR",
    "Answer",
    "AskCultureError",
    "Citation",
    "ConfigError",
    "DocumentError",
    "IndexBusyError",
    "IndexStoreError",
    "IngestReport",
    "ModelMismatchError",
    "Passage",
    "QueryError",
    "Reply",
    "Retriever",
    "Settings",
    "SkippedFile",
    "__version__",
    "ask",
    "ingest",
    "open_index",
    "reply",
    "retrieve",
    "stream_reply",
]

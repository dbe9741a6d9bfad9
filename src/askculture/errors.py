"""The askculture error hierarchy.

The library raises these; only the edges (CLI, web app) turn them into messages.
"""

from __future__ import annotations


class AskCultureError(Exception):
    """Base class of every error askculture raises on purpose."""


class ConfigError(AskCultureError):
    """Settings or arguments that cannot work (bad model name, bad date, ...)."""


class DocumentError(AskCultureError):
    """A file that cannot be read as a document; the message says why."""


class IndexStoreError(AskCultureError):
    """An index directory that is missing, not an index, or built differently."""


class ModelMismatchError(IndexStoreError):
    """The index was built with another embedding model than the one requested."""


class IndexBusyError(IndexStoreError):
    """Another process is writing to the index."""


class QueryError(AskCultureError):
    """A question or query that cannot be answered as given (empty, too long, ...)."""


__all__ = [
    "AskCultureError",
    "ConfigError",
    "DocumentError",
    "IndexBusyError",
    "IndexStoreError",
    "ModelMismatchError",
    "QueryError",
]

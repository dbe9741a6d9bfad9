"""Documents → chunks, sized in the embedding model's own tokens.

Splitting uses langchain-text-splitters' recursive splitter with separators that respect
paragraphs first, then lines, then sentences (Latin and Cyrillic punctuation), then clauses and
words. Every chunk keeps its character offsets into the document text, so that
``document.text[chunk.start:chunk.end] == chunk.text`` always holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from askculture.documents import Document

# Regex separators, coarsest first. Sentence ends cover ". ! ? …" and closing quotes/brackets
# used in Russian and Kazakh typography (» ” ")").
SEPARATORS: list[str] = [
    r"\n\s*\n",
    r"\n",
    r"(?<=[.!?…])[\"'»”)]*\s+",
    r"(?<=[;:])\s+",
    r"(?<=,)\s+",
    r"\s+",
    "",
]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A span of a document's text; ``doc.text[start:end] == text``."""

    doc_id: str
    n: int
    text: str
    start: int
    end: int

    @property
    def id(self) -> str:
        """Stable chunk id: the document id and the chunk's position in it."""
        return f"{self.doc_id}:{self.n}"


class Chunker:
    """Split documents into token-bounded, overlapping chunks with character offsets.

    Args:
        count_tokens: The embedding model's token counter (no special tokens).
        chunk_tokens: Largest chunk, in tokens.
        overlap_tokens: Tokens neighbouring chunks share.
    """

    def __init__(
        self, count_tokens: Callable[[str], int], chunk_tokens: int, overlap_tokens: int
    ) -> None:
        overlap = min(overlap_tokens, chunk_tokens // 2)
        self.count_tokens = count_tokens
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap
        self._splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            chunk_size=chunk_tokens,
            chunk_overlap=overlap,
            length_function=count_tokens,
            strip_whitespace=True,
        )

    def split(self, doc: Document) -> list[Chunk]:
        """Split one document.

        Args:
            doc: The document; its ``text`` is what offsets refer to.

        Returns:
            The chunks in document order (empty for a document without text).
        """
        text = doc.text
        chunks: list[Chunk] = []
        cursor = 0
        for piece in self._splitter.split_text(text):
            piece = piece.strip()
            if not piece:
                continue
            start = text.find(piece, cursor)
            if start < 0:  # overlap can start before the cursor; search from the top once
                start = text.find(piece)
            if start < 0:  # the splitter never invents text, but never trust it blindly
                continue
            end = start + len(piece)
            chunks.append(Chunk(doc.id, len(chunks), piece, start, end))
            cursor = start + 1
        return chunks

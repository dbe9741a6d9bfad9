"""The interface's message catalogue: one JSON file per language in ``web/locales/``.

A fourth language is a file (``locales/de.json`` with the same keys and a ``_name``), not a code
change. Keys missing from a language fall back to English, so a half-translated file still works.
:func:`negotiate` picks the interface language from the browser's ``Accept-Language`` header.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANGUAGE = "en"
_RANGE = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


@cache
def catalogues() -> dict[str, dict[str, str]]:
    """Every language's messages by code (``{"en": {...}, "ru": {...}, "kk": {...}}``)."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(LOCALES_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out[path.stem] = {str(k): str(v) for k, v in data.items()}
    return out


def languages() -> dict[str, str]:
    """Interface languages: code → own name (``{"en": "English", "ru": "Русский", ...}``)."""
    return {code: msgs.get("_name", code) for code, msgs in catalogues().items()}


def supported(code: str | None) -> str | None:
    """``code`` if it is an interface language (case-insensitive), else None."""
    code = (code or "").strip().lower()
    return code if code in catalogues() else None


def negotiate(accept_language: str | None) -> str:
    """The interface language a browser asks for in its ``Accept-Language`` header.

    Args:
        accept_language: The header, e.g. ``"kk-KZ,kk;q=0.9,ru;q=0.8,en;q=0.5"``.

    Returns:
        The supported language with the highest weight (ties: the first named); English when
        none is supported or the header is missing or malformed.
    """
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for item in (accept_language or "").split(","):
        m = _RANGE.match(item)
        if not m:
            continue
        try:
            q = float(m.group(2)) if m.group(2) else 1.0
        except ValueError:
            continue
        code = supported(m.group(1))
        if code and q > best_q:
            best, best_q = code, q
    return best


@dataclass(frozen=True)
class Messages:
    """The messages of one interface language: ``m("key", name=value)``.

    Args:
        lang: Interface language code; an unknown code means English.
    """

    lang: str = DEFAULT_LANGUAGE

    def __post_init__(self) -> None:
        object.__setattr__(self, "lang", supported(self.lang) or DEFAULT_LANGUAGE)

    def __call__(self, key: str, **values: Any) -> str:
        """The message ``key`` with ``{placeholders}`` filled in (English when untranslated)."""
        text = catalogues()[self.lang].get(key) or catalogues()[DEFAULT_LANGUAGE].get(key)
        if text is None:
            raise KeyError(f"no message {key!r} in the catalogue")
        return text.format(**values) if values else text


def messages(lang: str | None) -> Messages:
    """The :class:`Messages` of ``lang`` (English for an unknown or missing code)."""
    return Messages(lang or DEFAULT_LANGUAGE)

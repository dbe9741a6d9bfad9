"""The chat's filters: dates, document languages and publishers, checked before a question is asked.

A refused filter raises :class:`FilterError`, which carries its catalogue key and values so that
the page can say what is wrong in the interface language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from askculture.errors import ConfigError
from askculture.web.i18n import Messages
from askculture.web.publishers import publisher_label, publisher_names

LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
"""The corpus languages, each by its own name."""

_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


class FilterError(ConfigError):
    """A filter that cannot be used; ``key`` and ``values`` give the message in any language."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(Messages("en")(key, **values))

    def message(self, m: Messages) -> str:
        """The message in ``m``'s language."""
        values = dict(self.values)
        if "name" in values:
            values["name"] = m(f"filters.{values['name']}")
        return m(self.key, **values)


@dataclass(frozen=True)
class Filters:
    """The filters a question was asked with (empty = no restriction).

    ``publishers`` holds filter choices: publisher group keys (``group:<id>``) or names.
    """

    date_from: str = ""
    date_to: str = ""
    languages: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True when any filter restricts the search."""
        return bool(self.date_from or self.date_to or self.languages or self.publishers)

    @property
    def publisher_names(self) -> list[str]:
        """Every publisher name the chosen publishers stand for."""
        return publisher_names(self.publishers)

    def describe(self, m: Messages | None = None) -> str:
        """A one-line summary, e.g. ``"dates 2024 – any · languages: English, Русский"``."""
        m = m or Messages()
        if not self.active:
            return m("filters.none")
        parts = []
        if self.date_from or self.date_to:
            any_ = m("filters.any")
            parts.append(
                m("filters.dates", date_from=self.date_from or any_, date_to=self.date_to or any_)
            )
        if self.languages:
            names = ", ".join(LANGUAGE_NAMES.get(x, x) for x in self.languages)
            parts.append(m("filters.langs", names=names))
        if self.publishers:
            names = "; ".join(publisher_label(p, m.lang) for p in self.publishers)
            parts.append(m("filters.pubs", names=names))
        return " · ".join(parts)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "date_from": self.date_from or None,
            "date_to": self.date_to or None,
            "languages": list(self.languages),
            "publishers": list(self.publishers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Filters:
        """Inverse of :meth:`to_dict`."""
        return cls(
            str(data.get("date_from") or ""),
            str(data.get("date_to") or ""),
            tuple(data.get("languages") or ()),
            tuple(data.get("publishers") or ()),
        )


def _check_date(value: str | None, name: str) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    padded = text + "-01-01"[len(text) - 4 :] if len(text) < 10 else text
    try:
        if _DATE.fullmatch(text) and date.fromisoformat(padded):
            return text
    except ValueError:
        pass
    raise FilterError("error.date_format", name=name, value=text)


def _bounds(text: str, upper: bool) -> date:
    """The first (or last) day a date filter value stands for: ``2024`` → 2024-01-01/12-31."""
    if len(text) == 4:
        return date(int(text), 12, 31) if upper else date(int(text), 1, 1)
    if len(text) == 7:
        first = date.fromisoformat(text + "-01")
        if not upper:
            return first
        return date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)
    return date.fromisoformat(text)


def make_filters(
    date_from: str | None = None,
    date_to: str | None = None,
    languages: Sequence[str] | None = None,
    publishers: Sequence[str] | None = None,
) -> Filters:
    """Check the filter inputs; all languages (or none) ticked means no language filter.

    Raises:
        FilterError: A date is not like ``2024``, ``2024-05`` or ``2024-05-13``, the From date
            is after the To date, or a language is not one of en, ru, kk.
    """
    chosen = [str(x).strip().lower() for x in languages or () if str(x).strip()]
    unknown = [x for x in chosen if x not in LANGUAGE_NAMES]
    if unknown:
        raise FilterError("error.unknown_language", code=unknown[0])
    langs = tuple(x for x in LANGUAGE_NAMES if x in chosen)
    if len(langs) == len(LANGUAGE_NAMES):
        langs = ()
    pubs = tuple(dict.fromkeys(str(p).strip() for p in publishers or () if p and str(p).strip()))
    start, end = _check_date(date_from, "from"), _check_date(date_to, "to")
    if start and end and _bounds(start, upper=False) > _bounds(end, upper=True):
        raise FilterError("error.date_order", date_from=start, date_to=end)
    return Filters(start, end, langs, pubs)


def filters_html(
    m: Messages,
    date_from: str | None,
    date_to: str | None,
    languages: Sequence[str] | None,
    publishers: Sequence[str] | None,
) -> str:
    """The line under the question box that says which filters the next question gets."""
    from askculture.web.render import esc

    try:
        text = make_filters(date_from, date_to, languages, publishers).describe(m)
    except FilterError as exc:
        error = esc(m("filters.invalid", error=exc.message(m)))
        return f'<div class="ac-filter-summary ac-invalid" role="alert">{error}</div>'
    return f'<div class="ac-filter-summary">{esc(m("filters.next", what=text))}</div>'

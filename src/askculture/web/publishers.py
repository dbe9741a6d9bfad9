"""One publisher, many names: the publisher filter groups names across languages.

The same ministry publishes in English, Russian and Kazakh under three names. The groups come from
``askculture/data/publishers.json`` (a publisher's names by language, plus aliases); a name found
in the index but in no group is a publisher of its own. A filter choice is a group key
(``group:<id>``) or such a lone name, and stands for all the group's names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from askculture.settings import PACKAGE_DIR

PUBLISHERS_FILE = PACKAGE_DIR / "data" / "publishers.json"
GROUP_PREFIX = "group:"


def _norm(name: str) -> str:
    return re.sub(r"[\s\-–—]+", " ", name).strip().casefold()


@dataclass(frozen=True)
class Publisher:
    """A publisher: its filter key and its names (by language first, then aliases)."""

    key: str
    names: dict[str, str]
    aliases: tuple[str, ...] = ()
    documents: int = 0

    @property
    def all_names(self) -> list[str]:
        """Every name, the ones by language first."""
        return list(dict.fromkeys([*self.names.values(), *self.aliases]))

    def label(self, lang: str) -> str:
        """The name to show in interface language ``lang`` (else the first name)."""
        return self.names.get(lang) or self.all_names[0]


@cache
def known_publishers() -> tuple[Publisher, ...]:
    """The publishers of ``data/publishers.json``."""
    data = json.loads(PUBLISHERS_FILE.read_text(encoding="utf-8"))
    return tuple(
        Publisher(
            GROUP_PREFIX + str(p["id"]),
            {str(k): str(v) for k, v in p["names"].items()},
            tuple(str(a) for a in p.get("aliases", ())),
        )
        for p in data["publishers"]
    )


def _by_name() -> dict[str, Publisher]:
    return {_norm(n): p for p in known_publishers() for n in p.all_names}


def group_publishers(counts: Mapping[str, int]) -> list[Publisher]:
    """The publishers of an index, one per publisher whatever its names, most documents first.

    Args:
        counts: Documents per publisher name as stored in the index.

    Returns:
        Known publishers (with their names in every language) that have documents, and one
        publisher per unknown name.
    """
    by_name = _by_name()
    totals: dict[str, int] = {}
    lone: dict[str, Publisher] = {}
    for name, n in counts.items():
        known = by_name.get(_norm(name))
        if known is not None:
            totals[known.key] = totals.get(known.key, 0) + n
        else:
            lone[name] = Publisher(name, {}, (name,), n)
    found = [
        Publisher(p.key, p.names, p.aliases, totals[p.key])
        for p in known_publishers()
        if p.key in totals
    ]
    return sorted([*found, *lone.values()], key=lambda p: -p.documents)


def publisher_names(choices: Iterable[str]) -> list[str]:
    """The publisher names a filter choice stands for.

    Args:
        choices: Group keys (``group:<id>``) or names; a name of a known publisher stands for
            all that publisher's names.

    Returns:
        The names, without duplicates, in the order given.
    """
    keys = {p.key: p for p in known_publishers()}
    by_name = _by_name()
    out: list[str] = []
    for choice in choices:
        p = keys.get(choice) or by_name.get(_norm(choice))
        out.extend(p.all_names if p is not None else [choice])
    return list(dict.fromkeys(out))


def publisher_label(choice: str, lang: str) -> str:
    """How a filter choice is shown in interface language ``lang``."""
    p = {p.key: p for p in known_publishers()}.get(choice)
    return p.label(lang) if p is not None else choice


def choices(publishers: Sequence[Publisher], lang: str) -> list[tuple[str, str]]:
    """Dropdown choices ``(label, key)`` for interface language ``lang``."""
    return [(f"{p.label(lang)} ({p.documents})", p.key) for p in publishers]

"""Index terms for lexical (BM25) search that understand English, Russian and Kazakh words.

Words are lower-cased and stemmed in their own language (English and Russian with Snowball,
Kazakh cut to its first four letters — Kazakh and Russian words are never stemmed as English),
then written in one Latin skeleton so that a name matches across scripts: "GITIS" ~ "ГИТИС",
"Zhurgenov" ~ "Жүргенов", "Balayeva" ~ "Балаева". Each word yields its stem and, when different,
its unstemmed form, so proper names survive stemmers that disagree about them.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_RUSSIAN

LEXICAL_VERSION = "skeleton-3-kk4"
"""Changes whenever :func:`tokenize` changes, so that old lexical indexes get rebuilt."""
KAZAKH_LETTERS = frozenset("әғқңөұүһі")
_WORD = re.compile(r"[^\W_]+(?:[.,][0-9]+)*", re.UNICODE)

STOPWORDS_KK = frozenset(
    [
        "және",
        "мен",
        "бен",
        "пен",
        "да",
        "де",
        "та",
        "те",
        "бұл",
        "осы",
        "сол",
        "ол",
        "олар",
        "біз",
        "сіз",
        "үшін",
        "туралы",
        "бойынша",
        "арқылы",
        "дейін",
        "кейін",
        "жылы",
        "жылғы",
        "жыл",
        "еді",
        "екен",
        "болып",
        "болды",
        "болады",
        "бар",
        "жоқ",
        "қай",
        "қандай",
        "кім",
        "не",
        "неше",
        "қашан",
        "қайда",
        "қалай",
        "ма",
        "ме",
        "ба",
        "бе",
        "па",
        "пе",
        "ғой",
        "ғана",
        "тағы",
        "сондай",
        "ақ",
    ]
)
STOPWORDS_EN_QUESTIONS = frozenset(
    """what which who whom whose when where why how many much was were did does do has have had
    been being its from about than also which whose what's who's i you he she we our your his her
    them those any all some each other under over between during after before""".split()
)
STOPWORDS_RU_QUESTIONS = frozenset(
    """каких какие каким какого какую каком сколько кого кому кем чей чья чьи также который
    которая которые которых этих этим этими года году годы""".split()
)
STOPWORDS = (
    frozenset(STOPWORDS_EN)
    | STOPWORDS_EN_QUESTIONS
    | frozenset(STOPWORDS_RUSSIAN)
    | STOPWORDS_RU_QUESTIONS
    | STOPWORDS_KK
)

KAZAKH_PREFIX = 4
"""Kazakh words are indexed by their first letters (plus, as every word, their whole form).

Kazakh is agglutinative: case, plural and possessive endings pile up after the root, so a word's
first letters are a robust stem. Chosen by ``benchmarks/lexical_fit.py`` on the KazQAD suite
(286 answerable questions, 5-fold cross-validation by article): the first four letters gave BM25
hit@1 0.57 and MRR 0.71 where the previous hand-written suffix stripper gave 0.51 and 0.65 and
no stemming 0.50 and 0.63; Snowball Turkish on a transliteration did no better than stripping.
"""


_IOTATED_E = re.compile(r"([аеёиоуыэюяәөұүі])([её])")
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u",
        "һ": "h", "і": "i",
    }
)  # fmt: skip


@functools.lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(lang)


def _stem_kk(word: str) -> str:
    return word[:KAZAKH_PREFIX]


def skeleton(word: str) -> str:
    """A script-independent form of a word: Latin letters, accents dropped.

    Args:
        word: A lower-cased word in any of the three languages.

    Returns:
        The skeleton, e.g. ``"balayeva"`` for both "балаева" and "Balayeva".
    """
    word = _IOTATED_E.sub(r"\1й\2", word)  # "балаева" -> "балайева" ~ "balayeva"
    latin = unicodedata.normalize("NFKD", word.translate(_TRANSLIT))
    latin = "".join(c for c in latin if not unicodedata.combining(c))
    latin = latin.replace("kh", "h").replace("j", "y").replace("w", "u").replace("yy", "y")
    return re.sub(r"(.)\1+", r"\1", latin)


def _language(word: str, lang: str | None) -> str | None:
    """The stemmer a word gets: "en", "ru", "kk", or None for numbers and codes."""
    if word.isdigit() or not word.isalpha():
        return None
    if not ("а" <= word[0] <= "я" or word[0] in KAZAKH_LETTERS or word[0] == "ё"):
        return "en"
    if lang == "kk" or any(c in KAZAKH_LETTERS for c in word):
        return "kk"
    return "ru"


def _stem(word: str, lang: str | None) -> str:
    stemmer = _language(word, lang)
    if stemmer is None:
        return word
    if stemmer == "kk":
        return _stem_kk(word)
    return str(_stemmer("english" if stemmer == "en" else "russian").stemWord(word))


def _word_terms(word: str, lang: str | None) -> list[str]:
    """A word's stem and, when different, its whole form, both as skeletons."""
    stem = skeleton(_stem(word, lang))
    raw = skeleton(word)
    return [stem] if raw == stem else [stem, raw]


def words(text: str) -> list[str]:
    """Lower-cased words and numbers of ``text`` ("5,67" stays one token; "1 189" does not)."""
    return [m.group(0) for m in _WORD.finditer(text.lower().replace("ё", "е"))]


def tokenize(text: str, lang: str | None = None) -> list[str]:
    """Index terms of ``text``: stems and unstemmed forms in their Latin skeleton.

    Args:
        text: Any text in English, Russian or Kazakh.
        lang: The text's language when known; Cyrillic words in a Kazakh text get the Kazakh
            stemmer even when they lack Kazakh-only letters.

    Returns:
        Terms, stop words removed, in order (a word may give two terms).
    """
    terms: list[str] = []
    for word in words(text):
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        terms.extend(_word_terms(word, lang))
    return terms

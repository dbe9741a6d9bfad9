"""The fitted reader: how much each signal counts, and when to abstain.

Two models over the signals of :mod:`askculture.answering.features`: the first, a logistic
regression, reads only the text signals of every candidate and picks the few (``embed_top``)
worth embedding; the second (a logistic regression or gradient-boosted trees, whichever the
fitting script measures better) adds the embedding model's view of those and gives each the
probability that it answers the question. Their weights, the abstention thresholds and the rule
for quoting a second sentence are fitted by ``benchmarks/fit_reader.py`` on public QA suites and
the sample dev set (cross-validated by article) and ship in ``reader.json`` beside this module;
nothing here is tuned by hand.

Probabilities are not equally high in every language — the embedding model and the word
matching are surest in English — so the abstention threshold is fitted per *language group*: the
question's language when the best sentence is in it (``en``, ``ru``, ``kk``), and ``cross``
when it is in another language.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field, PrivateAttr, ValidationError, model_validator

from askculture.answering.features import FEATURES, TEXT_FEATURES
from askculture.errors import ConfigError

WEIGHTS_FILE = Path(__file__).with_name("reader.json")
CROSS = "cross"
"""The language group of a best sentence in another language than the question."""


def language_group(question_lang: str, sentence_lang: str | None) -> str:
    """The group whose threshold applies: the question's language, or ``cross``."""
    return CROSS if sentence_lang and sentence_lang != question_lang else question_lang


class Logistic(BaseModel):
    """A logistic regression on standardised inputs."""

    mean: list[float] = Field(description="Per-signal mean used to standardise the inputs.")
    scale: list[float] = Field(description="Per-signal standard deviation used to standardise.")
    coef: list[float] = Field(description="Weights of the standardised signals.")
    intercept: float = Field(description="Intercept.")

    def probabilities(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """P(positive) for each row of ``x``."""
        if x.shape[0] == 0:
            return np.zeros(0)
        z = ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef)
        return np.asarray(1.0 / (1.0 + np.exp(-(z + self.intercept))), dtype=np.float64)


class Boosted(BaseModel):
    """Gradient-boosted regression trees giving log-odds (scikit-learn's histogram boosting).

    All trees' nodes sit in flat lists; a node is a leaf when its ``feature`` is -1.
    """

    baseline: float = Field(description="Log-odds before any tree.")
    roots: list[int] = Field(description="Index of each tree's root node.")
    feature: list[int] = Field(description="Per node: the signal it splits on (-1: a leaf).")
    threshold: list[float] = Field(description="Per node: go left when the signal is <= this.")
    missing_left: list[bool] = Field(description="Per node: where a missing (NaN) signal goes.")
    left: list[int] = Field(description="Per node: its left child.")
    right: list[int] = Field(description="Per node: its right child.")
    value: list[float] = Field(description="Per node: a leaf's log-odds contribution.")
    _arrays: tuple[npt.NDArray[Any], ...] = PrivateAttr()

    @model_validator(mode="after")
    def _as_arrays(self) -> Boosted:
        n = len(self.feature)
        lists = (self.threshold, self.missing_left, self.left, self.right, self.value)
        if any(len(v) != n for v in lists):
            raise ValueError("the reader's trees do not have one value per node")
        self._arrays = (
            np.asarray(self.feature), np.asarray(self.threshold), np.asarray(self.missing_left),
            np.asarray(self.left), np.asarray(self.right), np.asarray(self.value),
        )  # fmt: skip
        return self

    @property
    def n_features(self) -> int:
        """How many signals a row must have (one more than the highest split on)."""
        return max(self.feature, default=-1) + 1

    def probabilities(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """P(positive) for each row of ``x``: all trees walked at once, one level per step."""
        feature, threshold, missing_left, left, right, value = self._arrays
        node = np.tile(np.asarray(self.roots), (x.shape[0], 1))  # rows x trees
        rows = np.arange(x.shape[0])[:, None]
        while True:
            f = feature[node]
            inner = f >= 0
            if not inner.any():
                break
            v = x[rows, np.where(inner, f, 0)]
            go_left = np.where(np.isnan(v), missing_left[node], v <= threshold[node])
            node = np.where(inner, np.where(go_left, left[node], right[node]), node)
        z = self.baseline + value[node].sum(axis=1)
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


class Reader(BaseModel):
    """A fitted sentence scorer (the content of ``reader.json``)."""

    features: tuple[str, ...] = Field(description="Signal names: the text ones, then vectors'.")
    text_model: Logistic = Field(description="Ranks candidates by their text signals alone.")
    model: Logistic | Boosted = Field(
        description="P(answers) from all signals of an embedded candidate."
    )
    embed_top: int = Field(ge=1, description="Candidates embedded: the text model's best.")
    thresholds: dict[str, float] = Field(
        description="Abstain when the best sentence is less probable than this, per language "
        "group (en, ru, kk, cross); 'default' for any other."
    )
    second_ratio: float = Field(
        description="Quote a second sentence when it is at least this share as probable as the "
        "best (and above the threshold); above 1 = never."
    )
    meta: dict[str, Any] = Field(
        default_factory=dict, description="What it was fitted on and how it measured."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Reader:
        if self.features != FEATURES:
            raise ValueError(
                "the reader's weights were fitted for other signals; refit them with "
                "benchmarks/fit_reader.py"
            )
        for model, n in ((self.text_model, len(TEXT_FEATURES)), (self.model, len(FEATURES))):
            if isinstance(model, Boosted):
                if model.n_features > n:
                    raise ValueError("the reader's trees split on signals it does not have")
            elif not len(model.mean) == len(model.scale) == len(model.coef) == n:
                raise ValueError("the reader's weights do not have one value per signal")
        if "default" not in self.thresholds:
            raise ValueError("the reader's thresholds lack a 'default'")
        return self

    def threshold(self, question_lang: str, sentence_lang: str | None) -> float:
        """The abstention threshold for a best sentence in ``sentence_lang``."""
        group = language_group(question_lang, sentence_lang)
        return self.thresholds.get(group, self.thresholds["default"])


@functools.lru_cache(maxsize=4)
def load_reader(path: Path = WEIGHTS_FILE) -> Reader:
    """The shipped (or given) fitted reader, loaded once per path.

    Raises:
        ConfigError: The file is missing, unreadable or for other signals.
    """
    try:
        return Reader.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read the reader's weights {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        reason = exc.errors()[0].get("msg", str(exc)).removeprefix("Value error, ")
        raise ConfigError(f"{path}: {reason}") from exc

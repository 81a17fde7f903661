"""Codebooks: streams, codes, labels, ratings, derived codes and questionnaires as data.

A codebook is a TOML file (see ``lagnest/data/codebooks/*.toml`` for the shipped ones). Codebooks
combine with ``+`` (``"3rs_2015+mia"``) and derived-code mappings are overridable with
:meth:`Codebook.with_groups`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from lagnest._files import check_readable, parse_toml
from lagnest.data._columns import CONTROL_EXPECTED, control_character
from lagnest.data._streams import label_of
from lagnest.errors import CodebookError, LagnestDataError, ProblemCollector

STREAM_KINDS = ("categorical", "indicator")
LANGUAGES = ("en", "es")


def _labels(entry: Mapping | str | None, default: str) -> Mapping[str, str]:
    """Normalise an ``{en=..., es=...}`` table (or a plain string) to a read-only mapping."""
    if entry is None:
        entry = {}
    elif isinstance(entry, str):
        entry = {"en": entry}
    out = {lang: str(entry.get(lang, entry.get("en", default))) for lang in LANGUAGES}
    return MappingProxyType(out)


@dataclass(frozen=True)
class StreamInfo:
    """A family of codes of one kind (``categorical`` or ``indicator``)."""

    name: str
    kind: str
    codes: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    code_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    families: Mapping[str, str] = field(default_factory=dict)
    actor: str | None = None


@dataclass(frozen=True)
class RatingInfo:
    """A numeric per-segment rating with its allowed range."""

    name: str
    min: float
    max: float
    integer: bool = True
    stream: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Derivation:
    """A categorical stream derived by lumping the codes of an indicator stream.

    A segment is ``none`` when no grouped code is present, the group's name when codes of one
    group are present, ``both`` when codes of several groups are, and ``other`` (when set)
    when only ungrouped codes are present. An uncoded source segment stays uncoded.
    """

    name: str
    source: str
    groups: Mapping[str, tuple[str, ...]]
    none: str = "none"
    both: str = "both"
    other: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    code_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def codes(self) -> tuple[str, ...]:
        """Codes of the derived stream, in table order."""
        extra = (self.other,) if self.other else ()
        return (self.none, *self.groups, self.both, *extra)

    def apply(self, matrix: np.ndarray, source_codes: tuple[str, ...]) -> np.ndarray:
        """Derive int64 codes (``-1`` = uncoded) from an indicator matrix of the source."""
        n = matrix.shape[0]
        group_present = np.zeros((n, len(self.groups)), dtype=bool)
        for g, members in enumerate(self.groups.values()):
            cols = [source_codes.index(c) for c in members if c in source_codes]
            if cols:
                group_present[:, g] = (matrix[:, cols] == 1).any(axis=1)
        n_groups = group_present.sum(axis=1)
        out = np.zeros(n, dtype=np.int64)  # none
        one = n_groups == 1
        out[one] = 1 + group_present[one].argmax(axis=1)
        out[n_groups >= 2] = 1 + len(self.groups)
        if self.other:
            any_present = (matrix == 1).any(axis=1)
            out[(n_groups == 0) & any_present] = 2 + len(self.groups)
        out[(matrix < 0).any(axis=1)] = -1
        return out


@dataclass(frozen=True)
class Questionnaire:
    """A session-level questionnaire: items with a range, reverse keys and subscales."""

    name: str
    prefix: str
    n_items: int
    min: float
    max: float
    score: str
    reverse: tuple[int, ...]
    subscales: Mapping[str, tuple[int, ...]]
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def item_columns(self) -> tuple[str, ...]:
        """Column names of the items, e.g. ``tms_1`` .. ``tms_13``."""
        return tuple(f"{self.prefix}{i}" for i in range(1, self.n_items + 1))

    @property
    def subscale_columns(self) -> tuple[str, ...]:
        """Column names of the scored subscales, e.g. ``tms_curiosity``."""
        return tuple(f"{self.name}_{s}" for s in self.subscales)

    def score_items(self, items: pd.DataFrame) -> pd.DataFrame:
        """Score subscales from item columns (reverse-keyed items as ``min + max - x``)."""
        keyed = items.astype(float).copy()
        for i in self.reverse:
            col = f"{self.prefix}{i}"
            keyed[col] = self.min + self.max - keyed[col]
        scores = {}
        for sub, idx in self.subscales.items():
            cols = keyed[[f"{self.prefix}{i}" for i in idx]]
            scores[f"{self.name}_{sub}"] = (
                cols.sum(axis=1, skipna=False)
                if self.score == "sum"
                else cols.mean(axis=1, skipna=False)
            )
        return pd.DataFrame(scores, index=items.index)


@dataclass(frozen=True)
class SessionVariable:
    """A session-level covariate with its allowed range."""

    name: str
    min: float
    max: float
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Codebook:
    """Streams, codes, ratings, derived codes and questionnaires of a study.

    Load one with :func:`load_codebook` (a shipped name, a path, or names joined by ``+``).
    """

    name: str
    streams: Mapping[str, StreamInfo] = field(default_factory=dict)
    ratings: Mapping[str, RatingInfo] = field(default_factory=dict)
    derived: Mapping[str, Derivation] = field(default_factory=dict)
    questionnaires: Mapping[str, Questionnaire] = field(default_factory=dict)
    session_variables: Mapping[str, SessionVariable] = field(default_factory=dict)

    def __add__(self, other: Codebook) -> Codebook:
        """Combine two codebooks; names must not clash."""
        merged = {}
        for part in ("streams", "ratings", "derived", "questionnaires", "session_variables"):
            a, b = getattr(self, part), getattr(other, part)
            clash = set(a) & set(b)
            if clash:
                raise CodebookError(
                    f"codebooks {self.name!r} and {other.name!r} both define {part} "
                    f"{sorted(clash)}; rename one of them"
                )
            merged[part] = MappingProxyType({**a, **b})
        combined = Codebook(name=f"{self.name}+{other.name}", **merged)
        combined.check()
        return combined

    @property
    def code_to_stream(self) -> dict[str, str]:
        """Map every code (source and derived) to the stream that holds it.

        Two streams may share a code label (address it as ``"stream:code"``); the later
        stream wins here.
        """
        out = {code: s.name for s in self.streams.values() for code in s.codes}
        out.update({code: d.name for d in self.derived.values() for code in d.codes})
        return out

    def label(self, code: str, lang: str = "en") -> str:
        """Human label of a code (or a stream, rating, derived stream) in ``lang``."""
        for s in self.streams.values():
            if code == s.name:
                return s.labels.get(lang, code)
            if code in s.code_labels:
                return s.code_labels[code].get(lang, code)
        for d in self.derived.values():
            if code == d.name:
                return d.labels.get(lang, code)
            if code in d.code_labels:
                return d.code_labels[code].get(lang, code)
        if code in self.ratings:
            return self.ratings[code].labels.get(lang, code)
        return code

    def display_label(self, code: str, lang: str = "en") -> str | None:
        """How tables and figures show ``code`` in ``lang`` (None: show the code itself).

        A stream, a derived stream, a rating and a code of a categorical or derived stream
        (a named category such as ``withdrawal``) show their label in ``lang``; a code of
        an indicator stream is an identifier of its manual (``MIA4``, ``W1``) and is shown
        as such (its label is in :meth:`label` and the report's list of codes). English
        shows every code as it is.
        """
        if lang == "en":
            return None
        named = set(self.streams) | set(self.derived) | set(self.ratings)
        named |= {c for s in self.streams.values() if s.kind == "categorical" for c in s.codes}
        named |= {c for d in self.derived.values() for c in d.codes}
        if code not in named:
            return None
        label = self.label(code, lang)
        return label if label != code else None

    def with_groups(self, derived: str, groups: Mapping[str, Iterable[str]]) -> Codebook:
        """Return a copy whose derived stream ``derived`` lumps codes into ``groups``.

        Parameters
        ----------
        derived : str
            Name of a derived stream, e.g. ``"resolution"``.
        groups : mapping of str to list of str
            New groups, e.g. ``{"immediate": [...], "exploratory": [..., "R9"]}``.

        Returns
        -------
        Codebook
            A new codebook; this one is unchanged.
        """
        if derived not in self.derived:
            raise LagnestDataError(
                f"no derived stream {derived!r} in codebook {self.name!r}; "
                f"known: {sorted(self.derived)}"
            )
        new = replace(
            self.derived[derived],
            groups=MappingProxyType({g: tuple(c) for g, c in groups.items()}),
        )
        book = replace(self, derived=MappingProxyType({**self.derived, derived: new}))
        book.check()
        return book

    def check(self, source: str | None = None) -> None:
        """Validate internal consistency (unique codes, derived sources, groups).

        Parameters
        ----------
        source : str, optional
            The file, for messages (default ``"codebook NAME"``).

        Raises
        ------
        CodebookError
            Listing every problem.
        """
        problems = ProblemCollector(file=source or f"codebook {self.name}")
        for s in self.streams.values():
            if s.kind not in STREAM_KINDS:
                problems.add(
                    f"stream {s.name!r} has an unknown kind",
                    value=s.kind,
                    expected=" or ".join(STREAM_KINDS),
                )
            if len(set(s.codes)) != len(s.codes):
                dup = sorted({c for c in s.codes if s.codes.count(c) > 1})
                problems.add(f"stream {s.name!r} lists codes twice", value=dup)
        for d in self.derived.values():
            if len(set(d.codes)) != len(d.codes):
                dup = sorted({c for c in d.codes if d.codes.count(c) > 1})
                problems.add(
                    f"derived stream {d.name!r} lists codes twice (its groups and its "
                    "'none', 'both' and 'other' codes are its codes)",
                    value=dup,
                    expected="distinct names",
                )
            if d.name in self.streams:
                problems.add(
                    f"derived stream {d.name!r} has the name of a stream",
                    value=d.name,
                    expected="a name no stream has",
                )
            src = self.streams.get(d.source)
            if src is None or src.kind != "indicator":
                problems.add(
                    f"derived stream {d.name!r} needs an indicator stream as source",
                    value=d.source,
                    expected=f"one of {sorted(self.streams)}",
                )
                continue
            for group, members in d.groups.items():
                unknown = [c for c in members if c not in src.codes]
                if unknown:
                    problems.add(
                        f"group {group!r} of derived stream {d.name!r} names unknown codes",
                        value=unknown,
                        expected=f"codes of {src.name!r}: {list(src.codes)}",
                    )
        if problems:
            raise CodebookError(problems.problems)


#: Keys a codebook's tables may hold (``*``: any name); see ``lagnest/data/codebooks/*.toml``.
SCHEMA: dict[str, tuple[str, ...]] = {
    "": ("name", "title", "reference", "description", "streams", "ratings", "derived",
         "questionnaires", "session"),
    "streams.*": ("kind", "codes", "label", "actor", "description"),
    "ratings.*": ("min", "max", "integer", "stream", "label", "description"),
    "derived.*": ("from", "groups", "none", "both", "other", "label", "labels", "description"),
    "questionnaires.*": ("prefix", "n_items", "min", "max", "score", "reverse", "subscales",
                         "items", "label", "description", "reference"),
    "questionnaires.*.subscales.*": ("items", "label", "description"),
    "session.*": ("min", "max", "label", "description"),
}
#: Most items a questionnaire may declare.
MAX_ITEMS = 1_000
SCORES = ("sum", "mean")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$")


class _Table:
    """One table of a codebook: typed reads that record located problems, never raise."""

    def __init__(self, data: Any, key: str, problems: ProblemCollector) -> None:
        self.key = key
        self.problems = problems
        self.ok = isinstance(data, Mapping)
        if not self.ok:
            self.problem(None, "must be a table", value=data, expected=f"a [{key}] table")
        self.data: Mapping = data if self.ok else {}

    def dotted(self, name: str | None) -> str:
        return self.key if name is None else f"{self.key}.{name}" if self.key else name

    def problem(self, name: str | None, message: str, **where: Any) -> None:
        self.problems.add(f"key {self.dotted(name)!r}: {message}", **where)

    def check_keys(self, schema: str) -> None:
        allowed = SCHEMA[schema]
        for name in self.data:
            if name not in allowed:
                close = difflib.get_close_matches(str(name), allowed, n=2, cutoff=0.6)
                hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
                self.problem(str(name), f"unknown key{hint}", expected=f"one of {list(allowed)}")

    def tables(self, name: str) -> dict[str, _Table]:
        """A table of named tables (``[streams.x]``, ...)."""
        if name not in self.data:
            return {}
        outer = _Table(self.data[name], self.dotted(name), self.problems)
        return {
            str(k): _Table(v, outer.dotted(str(k)), self.problems) for k, v in outer.data.items()
        }

    def number(self, name: str, default: float | None = None) -> float | None:
        """A number (``inf`` allowed, NaN not); missing -> ``default`` (None: required)."""
        value = self.data.get(name, default)
        if value is None:
            self.problem(name, "missing", expected="a number")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(name, "not a number", value=value, expected="a number")
        elif value != value:
            self.problem(name, "not a number", value=value, expected="a number, not nan")
        else:
            return float(value)
        return None

    def integer(self, name: str, low: int, high: int, default: int | None = None) -> int | None:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(name, "out of range" if isinstance(value, int) else "not an integer",
                         value=value, expected=f"an integer {low}..{high:,}")
            return None
        return value

    def text(self, name: str, default: str | None = None, choices: tuple = ()) -> str | None:
        value = self.data.get(name, default)
        if value is None and default is None and name not in self.data:
            return None
        if not isinstance(value, str) or (choices and value not in choices):
            self.problem(name, "bad value", value=value,
                         expected=f"one of {list(choices)}" if choices else "a string")
            return default
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            self.problem(name, "not true or false", value=value, expected="true or false")
            return default
        return value

    def integers(self, name: str, low: int, high: int) -> tuple[int, ...]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in value
        ):
            self.problem(name, "bad item numbers", value=value,
                         expected=f"a list of integers {low}..{high}")
            return ()
        return tuple(value)

    def labels(self, name: str, default: str) -> Mapping[str, str]:
        """Labels by language: a string (English) or a table ``{en = ..., es = ...}``."""
        value = self.data.get(name)
        if value is not None and not _is_label(value):
            self.problem(name, "bad label", value=value,
                         expected='a string or a table such as { en = "...", es = "..." }')
            value = None
        return _labels(value, default)

    def range(self, low: float | None, high: float | None) -> None:
        if low is not None and high is not None and low > high:
            self.problem(None, "min is above max", value=(low, high), expected="min <= max")


def _is_label(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, Mapping)
        and all(isinstance(v, str) and _LANGUAGE.match(str(k)) for k, v in value.items())
    )


def _code_name(value: Any, key: str, problems: ProblemCollector) -> str | None:
    """A code, stream or group name: text (numbers allowed) with no edge spaces or controls."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.add(f"key {key!r}: bad code", value=value, expected="a code name (text)")
        return None
    text = label_of(value)
    if not text or text != str(value).strip() or str(value) != str(value).strip():
        problems.add(f"key {key!r}: empty code or a code with edge spaces", value=value,
                     expected="a code name without leading or trailing spaces")
        return None
    char = control_character(text)
    if char is not None:
        problems.add(f"key {key!r}: control character {char} in a code", value=value,
                     expected=CONTROL_EXPECTED)
        return None
    return text


def _stream(name: str, t: _Table, problems: ProblemCollector) -> StreamInfo:
    t.check_keys("streams.*")
    codes = t.data.get("codes", [])
    names: list[str] = []
    code_labels: dict[str, Mapping[str, str]] = {}
    families: dict[str, str] = {}
    if isinstance(codes, list):
        entries = [(c, None) for c in codes]
    elif isinstance(codes, Mapping):
        entries = list(codes.items())
    else:
        t.problem("codes", "bad code list", value=codes,
                  expected='a list of codes or a table { code = { en = "..." } }')
        entries = []
    for raw, entry in entries:
        code = _code_name(raw, t.dotted("codes"), problems)
        if code is None:
            continue
        names.append(code)
        if isinstance(entry, Mapping):
            label = {k: v for k, v in entry.items() if k != "family"}
            if not _is_label(label) or not isinstance(entry.get("family", ""), str):
                t.problem(f"codes.{code}", "bad code entry", value=dict(entry),
                          expected='{ en = "...", es = "...", family = "..." }')
            families.update({code: entry["family"]} if "family" in entry else {})
            code_labels[code] = _labels(label if _is_label(label) else None, code)
        elif entry is not None and _is_label(entry):
            code_labels[code] = _labels(entry, code)
        elif entry is not None:
            t.problem(f"codes.{code}", "bad code entry", value=entry,
                      expected='a label or { en = "...", es = "..." }')
            code_labels[code] = _labels(None, code)
        else:
            code_labels[code] = _labels(None, code)
    return StreamInfo(
        name=name,
        kind=t.text("kind", "categorical") or "categorical",
        codes=tuple(names),
        labels=t.labels("label", name),
        code_labels=MappingProxyType(code_labels),
        families=MappingProxyType(families),
        actor=t.text("actor"),
    )


def _bounds(t: _Table) -> tuple[float, float]:
    """The ``min``/``max`` of a rating or session variable (checked), infinite when absent."""
    low, high = t.number("min"), t.number("max")
    t.range(low, high)
    return (low if low is not None else -math.inf, high if high is not None else math.inf)


def _rating(name: str, t: _Table) -> RatingInfo:
    t.check_keys("ratings.*")
    low, high = _bounds(t)
    return RatingInfo(
        name=name,
        min=low,
        max=high,
        integer=t.flag("integer", True),
        stream=t.text("stream"),
        labels=t.labels("label", name),
    )


def _derivation(name: str, t: _Table, problems: ProblemCollector) -> Derivation:
    t.check_keys("derived.*")
    groups: dict[str, tuple[str, ...]] = {}
    raw = t.data.get("groups")
    if not isinstance(raw, Mapping):
        t.problem("groups", "missing or not a table", value=raw,
                  expected='a table { group = ["code", ...] }')
    else:
        for group, members in raw.items():
            if not isinstance(members, list):
                t.problem(f"groups.{group}", "not a list of codes", value=members,
                          expected="a list of codes")
                continue
            codes = [_code_name(c, t.dotted(f"groups.{group}"), problems) for c in members]
            groups[str(group)] = tuple(c for c in codes if c is not None)
    labels = t.data.get("labels", {})
    code_labels = {}
    if not isinstance(labels, Mapping) or not all(_is_label(v) for v in labels.values()):
        t.problem("labels", "bad labels", value=labels,
                  expected='a table { code = { en = "...", es = "..." } }')
    else:
        code_labels = {str(k): _labels(v, str(k)) for k, v in labels.items()}
    source = t.text("from")
    if source is None:
        t.problem("from", "missing", expected="the name of an indicator stream")
    derivation = Derivation(
        name=name,
        source=source or "",
        groups=MappingProxyType(groups),
        none=t.text("none", "none") or "none",
        both=t.text("both", "both") or "both",
        other=t.text("other"),
        labels=t.labels("label", name),
        code_labels=MappingProxyType(code_labels),
    )
    unknown = [k for k in code_labels if k not in derivation.codes]
    if unknown:
        t.problem("labels", "labels for codes the derived stream does not have", value=unknown,
                  expected=f"codes of {name!r}: {list(derivation.codes)}")
    return derivation


def _questionnaire(name: str, t: _Table) -> Questionnaire:
    t.check_keys("questionnaires.*")
    n_items = t.integer("n_items", 1, MAX_ITEMS) or 0
    low, high = t.number("min"), t.number("max")
    t.range(low, high)
    subscales = {}
    for sub, table in t.tables("subscales").items():
        table.check_keys("questionnaires.*.subscales.*")
        subscales[sub] = table.integers("items", 1, max(n_items, 1))
    if "subscales" not in t.data:
        t.problem("subscales", "missing", expected="a table of subscales with their items")
    items = t.data.get("items", {})
    if not isinstance(items, Mapping) or not all(
        str(k).isdigit() and 1 <= int(k) <= max(n_items, 1) for k in items
    ):
        t.problem("items", "bad item labels", value=list(items) if isinstance(items, Mapping)
                  else items, expected=f"item numbers 1..{n_items} with their labels")
    return Questionnaire(
        name=name,
        prefix=t.text("prefix", f"{name}_") or f"{name}_",
        n_items=n_items,
        min=low if low is not None else 0.0,
        max=high if high is not None else 0.0,
        score=t.text("score", "mean", SCORES) or "mean",
        reverse=t.integers("reverse", 1, max(n_items, 1)),
        subscales=MappingProxyType(subscales),
        labels=t.labels("label", name),
    )


def _session_variable(name: str, t: _Table) -> SessionVariable:
    t.check_keys("session.*")
    low, high = _bounds(t)
    return SessionVariable(
        name=name,
        min=low,
        max=high,
        labels=t.labels("label", name),
    )


def _parse_codebook(data: Mapping, source: str) -> Codebook:
    """Build a :class:`Codebook` from parsed TOML (see :func:`load_codebook`).

    Every key is checked (unknown keys, types, ranges, contradictory bounds, duplicated
    codes); all problems are raised together as one :class:`CodebookError`.
    """
    problems = ProblemCollector(file=source)
    top = _Table(data, "", problems)
    top.check_keys("")
    name = top.data.get("name", source)
    if not isinstance(name, str | int | float) or isinstance(name, bool):
        top.problem("name", "not a string", value=name, expected="a codebook name")
        name = source
    if "title" in top.data:
        top.labels("title", str(name))
    for key in ("reference", "description"):
        top.text(key)
    streams = {
        sname: _stream(sname, t, problems) for sname, t in top.tables("streams").items()
    }
    ratings = {rname: _rating(rname, t) for rname, t in top.tables("ratings").items()}
    derived = {
        dname: _derivation(dname, t, problems) for dname, t in top.tables("derived").items()
    }
    questionnaires = {
        qname: _questionnaire(qname, t) for qname, t in top.tables("questionnaires").items()
    }
    session_variables = {
        vname: _session_variable(vname, t) for vname, t in top.tables("session").items()
    }
    if not problems and not (streams or ratings or questionnaires or session_variables):
        problems.add(
            "the codebook declares no streams, ratings, questionnaires or session variables",
            expected="at least one [streams.NAME], [ratings.NAME], [questionnaires.NAME] or "
            "[session.NAME] table",
        )
    if problems:
        raise CodebookError(problems.problems)
    book = Codebook(
        name=str(name),
        streams=MappingProxyType(streams),
        ratings=MappingProxyType(ratings),
        derived=MappingProxyType(derived),
        questionnaires=MappingProxyType(questionnaires),
        session_variables=MappingProxyType(session_variables),
    )
    book.check(source)
    return book


def available_codebooks() -> tuple[str, ...]:
    """Names of the codebooks shipped with lagnest."""
    folder = resources.files("lagnest.data") / "codebooks"
    return tuple(
        sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))
    )


def _load_one(spec: str | Path) -> Codebook:
    """Load one shipped codebook by name, or a TOML file by path."""
    text = str(spec)
    if isinstance(spec, Path) or text.endswith(".toml") or os.sep in text or "/" in text:
        path = check_readable(spec)  # a path problem is the OSError naming the path
        data, source = path.read_bytes(), str(spec)
    elif text in available_codebooks():
        shipped = resources.files("lagnest.data") / "codebooks" / f"{text}.toml"
        data, source = shipped.read_bytes(), text
    else:
        raise LagnestDataError(
            f"unknown codebook {text!r}: expected a shipped name "
            f"({', '.join(available_codebooks())}) or the path of a .toml file"
        )
    return _parse_codebook(parse_toml(data, source, CodebookError), source)


def load_codebook(spec: str | Path | Codebook | Iterable) -> Codebook:
    """Load a codebook: a shipped name, a TOML path, several joined by ``+``, or a list.

    Parameters
    ----------
    spec : str, Path, Codebook or list
        ``"3rs_2015"``, ``"3rs_2015+mia"``, ``"my_codes.toml"``, or an existing codebook.

    Returns
    -------
    Codebook

    Examples
    --------
    >>> from lagnest.data.codebook import load_codebook
    >>> book = load_codebook("3rs_2015+mia")
    >>> book.derived["rupture"].codes
    ('none', 'withdrawal', 'confrontation', 'both')
    """
    if isinstance(spec, Codebook):
        return spec
    if isinstance(spec, str | Path):
        parts = (
            [spec]
            if isinstance(spec, Path) or str(spec).endswith(".toml")
            else str(spec).split("+")
        )
    else:
        parts = list(spec)
    books = [
        p if isinstance(p, Codebook) else _load_one(p.strip() if isinstance(p, str) else p)
        for p in parts
    ]
    book = books[0]
    for other in books[1:]:
        book = book + other
    return book

"""Codebooks: streams, codes, labels, ratings, derived codes and questionnaires as data.

A codebook is a TOML file (see ``lagnest/codebooks/*.toml`` for the shipped ones). Codebooks
combine with ``+`` (``"3rs_2015+mia"``) and derived-code mappings are overridable with
:meth:`Codebook.with_groups`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from lagnest.errors import LagnestDataError, ProblemCollector

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
                raise LagnestDataError(
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

    def check(self) -> None:
        """Validate internal consistency (unique codes, derived sources, groups)."""
        problems = ProblemCollector(file=f"codebook {self.name}")
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
        problems.raise_if_any()


def _parse_codebook(data: Mapping, source: str) -> Codebook:
    """Build a :class:`Codebook` from parsed TOML (see :func:`load_codebook`)."""
    name = str(data.get("name", source))
    streams = {}
    for sname, s in data.get("streams", {}).items():
        codes = s.get("codes", {})
        if isinstance(codes, list):
            codes = {c: {} for c in codes}
        streams[sname] = StreamInfo(
            name=sname,
            kind=s.get("kind", "categorical"),
            codes=tuple(str(c) for c in codes),
            labels=_labels(s.get("label"), sname),
            code_labels=MappingProxyType(
                {
                    str(c): _labels(v if isinstance(v, Mapping) else None, c)
                    for c, v in codes.items()
                }
            ),
            families=MappingProxyType(
                {
                    str(c): v["family"]
                    for c, v in codes.items()
                    if isinstance(v, Mapping) and "family" in v
                }
            ),
            actor=s.get("actor"),
        )
    ratings = {
        rname: RatingInfo(
            name=rname,
            min=float(r["min"]),
            max=float(r["max"]),
            integer=bool(r.get("integer", True)),
            stream=r.get("stream"),
            labels=_labels(r.get("label"), rname),
        )
        for rname, r in data.get("ratings", {}).items()
    }
    derived = {}
    for dname, d in data.get("derived", {}).items():
        code_labels = {k: _labels(v, k) for k, v in d.get("labels", {}).items()}
        derived[dname] = Derivation(
            name=dname,
            source=d["from"],
            groups=MappingProxyType({g: tuple(c) for g, c in d["groups"].items()}),
            none=d.get("none", "none"),
            both=d.get("both", "both"),
            other=d.get("other"),
            labels=_labels(d.get("label"), dname),
            code_labels=MappingProxyType(code_labels),
        )
    questionnaires = {
        qname: Questionnaire(
            name=qname,
            prefix=q.get("prefix", f"{qname}_"),
            n_items=int(q["n_items"]),
            min=float(q["min"]),
            max=float(q["max"]),
            score=q.get("score", "mean"),
            reverse=tuple(int(i) for i in q.get("reverse", [])),
            subscales=MappingProxyType(
                {sub: tuple(int(i) for i in v["items"]) for sub, v in q["subscales"].items()}
            ),
            labels=_labels(q.get("label"), qname),
        )
        for qname, q in data.get("questionnaires", {}).items()
    }
    session_variables = {
        vname: SessionVariable(
            name=vname,
            min=float(v["min"]),
            max=float(v["max"]),
            labels=_labels(v.get("label"), vname),
        )
        for vname, v in data.get("session", {}).items()
    }
    book = Codebook(
        name=name,
        streams=MappingProxyType(streams),
        ratings=MappingProxyType(ratings),
        derived=MappingProxyType(derived),
        questionnaires=MappingProxyType(questionnaires),
        session_variables=MappingProxyType(session_variables),
    )
    book.check()
    return book


def available_codebooks() -> tuple[str, ...]:
    """Names of the codebooks shipped with lagnest."""
    folder = resources.files("lagnest") / "codebooks"
    return tuple(
        sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))
    )


def _load_one(spec: str | Path) -> Codebook:
    """Load one shipped codebook by name, or a TOML file by path."""
    path = Path(spec)
    if path.suffix == ".toml" and path.exists():
        text, source = path.read_bytes(), str(path)
    elif str(spec) in available_codebooks():
        res = resources.files("lagnest") / "codebooks" / f"{spec}.toml"
        text, source = res.read_bytes(), str(spec)
    else:
        raise LagnestDataError(
            f"unknown codebook {str(spec)!r}: expected a shipped name "
            f"({', '.join(available_codebooks())}) or the path of an existing .toml file"
        )
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise LagnestDataError(f"file {source}: not a valid TOML codebook: {err}") from None
    try:
        return _parse_codebook(data, source)
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, LagnestDataError):
            raise
        raise LagnestDataError(f"file {source}: malformed codebook entry: {err!r}") from None


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
    >>> from lagnest.codebook import load_codebook
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

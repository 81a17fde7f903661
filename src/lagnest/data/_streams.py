"""Stream values, code addresses and label helpers shared by the container and the readers."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

UNCODED = -1

#: Cell texts read as missing in every format (compared after trimming spaces), unless a
#: code list (codebook or ``codes=``) declares the word as a code of that stream.
MISSING_WORDS = frozenset(
    {"", "NA", "N/A", "n/a", "#N/A", "NaN", "nan", "NULL", "null", "None", "<NA>", "."}
)

#: Separator of a stream-qualified code name, ``"stream:code"``.
QUALIFIER = ":"


@dataclass(frozen=True)
class StreamData:
    """Values of one stream: ``kind``, its ``codes`` and the integer ``values``.

    Categorical values are ``(n_segments,)`` code indices; indicator values are
    ``(n_segments, len(codes))`` of 0/1; ``-1`` marks an uncoded segment in both.
    """

    kind: str
    codes: tuple[str, ...]
    values: np.ndarray
    derived: bool = False


@dataclass(frozen=True)
class CodeRef:
    """What a code spec names: a whole stream, or one code of a stream.

    Attributes
    ----------
    stream : str
        The stream.
    code : str or None
        The code, or ``None`` when the whole stream is named (a categorical stream, or a
        set of indicators). A one-code indicator stream named by its stream name resolves
        to its code.
    kind : {"categorical", "indicator"}
        Kind of the stream.
    qualified : str
        ``"stream:code"`` (or ``"stream"`` for a whole stream): unambiguous everywhere.
    label : str
        Short name for results: the bare code (or the spec as given) when it is unique,
        else the qualified name.
    index : int or None
        Position of ``code`` in the stream's codes.
    """

    stream: str
    code: str | None
    kind: str
    qualified: str
    label: str
    index: int | None = None

    @property
    def is_set(self) -> bool:
        """Whether this names a set of several indicators (a whole indicator stream)."""
        return self.code is None and self.kind == "indicator"


class CodeIndex:
    """Resolve code specs (``"stream"``, ``"code"``, ``"stream:code"``) against streams.

    Parameters
    ----------
    streams : mapping of str to StreamData
        The streams, in order.
    """

    def __init__(self, streams: Mapping[str, StreamData]) -> None:
        self._streams = {name: (s.kind, tuple(s.codes)) for name, s in streams.items()}
        self._codes: dict[str, list[tuple[str, int]]] = {}
        for name, (_, codes) in self._streams.items():
            for i, code in enumerate(codes):
                self._codes.setdefault(code, []).append((name, i))

    def resolve_bare(self, code: str) -> str | None:
        """The one stream holding ``code`` (None when none or several do, or it is a stream)."""
        holders = self._codes.get(code, [])
        if len(holders) != 1 or (code in self._streams and holders[0][0] != code):
            return None
        return holders[0][0]

    def holders(self, code: str) -> list[str]:
        """The streams holding ``code`` (empty when none does)."""
        return [stream for stream, _ in self._codes.get(code, [])]

    def names_anything(self, text: str) -> bool:
        """Whether ``text`` is a stream name or a code of some stream."""
        return text in self._streams or text in self._codes

    def _describe(self) -> str:
        return ", ".join(f"{n} ({kind})" for n, (kind, _) in self._streams.items())

    def unknown(self, spec: Any) -> Exception:
        """The error for a spec that names nothing."""
        from lagnest.errors import LagnestDataError

        return LagnestDataError(
            f"unknown stream or code {spec!r}: expected a stream ({self._describe()}) or one "
            f"of its codes (a code shared by streams as 'stream{QUALIFIER}code')"
        )

    def _code_ref(self, stream: str, i: int) -> CodeRef:
        kind, codes = self._streams[stream]
        code = codes[i]
        qualified = f"{stream}{QUALIFIER}{code}"
        short = self._codes.get(code, []) == [(stream, i)] and (
            code not in self._streams or code == stream
        )
        return CodeRef(stream, code, kind, qualified, code if short else qualified, i)

    def resolve(self, spec: Any) -> CodeRef:
        """Resolve ``spec``; raise `LagnestDataError` when unknown or ambiguous.

        Parameters
        ----------
        spec : str
            A stream name, a code (when only one stream holds it) or ``"stream:code"``.

        Returns
        -------
        CodeRef
        """
        from lagnest.errors import LagnestDataError

        if not isinstance(spec, str):
            raise self.unknown(spec)
        if spec in self._streams:
            kind, codes = self._streams[spec]
            if kind == "indicator" and len(codes) == 1:
                ref = self._code_ref(spec, 0)
                return CodeRef(spec, codes[0], kind, ref.qualified, spec, 0)
            return CodeRef(spec, None, kind, spec, spec)
        start = 0
        while (pos := spec.find(QUALIFIER, start)) > 0:
            stream, code = spec[:pos], spec[pos + 1 :]
            if stream in self._streams and code in self._streams[stream][1]:
                return self._code_ref(stream, self._streams[stream][1].index(code))
            start = pos + 1
        holders = self._codes.get(spec, [])
        if len(holders) == 1:
            return self._code_ref(*holders[0])
        if holders:
            choices = [f"{s}{QUALIFIER}{spec}" for s, _ in holders]
            raise LagnestDataError(
                f"code {spec!r} is in several streams ({', '.join(s for s, _ in holders)}): "
                f"name it with its stream, one of {choices}"
            )
        raise self.unknown(spec)


def readonly(array: np.ndarray, dtype: Any) -> np.ndarray:
    """Return a contiguous read-only copy of ``array`` with ``dtype``."""
    out = np.array(array, dtype=dtype, order="C", copy=True)
    out.flags.writeable = False
    return out


def natural_key(label: str) -> tuple:
    """Sort numeric labels numerically, then others alphabetically."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def label_of(value: Any) -> str:
    """Normalise a key or code value to its string label (``2.0`` -> ``"2"``).

    Text is trimmed and put in Unicode NFC form, so that one visible label is one label.
    """
    if type(value) is str:
        text = value.strip()
        return text if text.isascii() else unicodedata.normalize("NFC", text)
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value).strip())


def is_missing(value: Any, keep: frozenset[str] | set[str] = frozenset()) -> bool:
    """Whether a cell is missing: None, NaN, NA or one of :data:`MISSING_WORDS`.

    Parameters
    ----------
    value : object
        The cell.
    keep : set of str
        Words that are codes here (declared by a code list), hence not missing.

    Returns
    -------
    bool
    """
    if type(value) is str or isinstance(value, str):
        text = value.strip()
        return text in MISSING_WORDS and text not in keep
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and bool(np.isnan(value))

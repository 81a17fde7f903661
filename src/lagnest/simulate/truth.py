"""`Truth`: every parameter and latent value behind a simulated corpus, as JSON (no pickle)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lagnest.simulate.params import SimulationParams

FORMAT = "lagnest.simulate.truth/1"
_FRAMES = ("dyads", "sessions", "segments", "transition_probs")


@dataclass(frozen=True, eq=False)
class Truth:
    """What generated a simulated corpus.

    Attributes
    ----------
    params : SimulationParams
        Every rate and effect used.
    seed : int or None
        The seed given to :func:`lagnest.simulate.simulate`.
    codebook : str
        Codebook of the simulated `Sequences`.
    dyads : DataFrame
        Index ``dyad``: ``trait_mindfulness`` (standardised), ``withdrawal_logit`` and
        ``confrontation_logit`` (dyad baselines), ``withdrawal_rate`` and
        ``confrontation_rate`` (their inverse logits) and ``seq_<subscale>_dyad`` offsets.
    sessions : DataFrame
        Index ``session``: ``dyad``, ``session_number``, ``state_mindfulness``, the latent
        TMS scores ``curiosity_latent`` / ``decentering_latent``, ``mia_presence_mean``,
        ``rupture_session_dev``, true SEQ scores ``seq_<subscale>_true`` and counts
        (``n_withdrawal``, ``n_confrontation``, ``n_rupture``, ``n_resolved``,
        ``n_unresolved_confrontation``).
    segments : DataFrame
        One row per segment (``session``, ``segment``): latent ``mindful_presence`` and the
        probabilities used, ``p_withdrawal``, ``p_confrontation``, ``p_<strategy family>``.
    transition_probs : DataFrame
        True conditional probabilities implied by each sequential effect: columns
        ``unit`` (a dyad or ``"population"``), ``given``, ``target``, ``lag``,
        ``p_absent``, ``p_present``, ``log_odds_ratio``, with every other term of the
        linear predictor at its centre (session deviation 0, average state mindfulness,
        other indicators at their nominal prevalence, no rupture for strategies).

    Examples
    --------
    >>> from lagnest import simulate
    >>> seqs, truth = simulate.thesis_like(seed=1)
    >>> simulate.Truth.from_json(truth.to_json()) == truth
    True
    """

    params: SimulationParams
    seed: int | None
    codebook: str
    dyads: pd.DataFrame
    sessions: pd.DataFrame
    segments: pd.DataFrame
    transition_probs: pd.DataFrame

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """Serialise to JSON text (NaN as ``null``); also write it to ``path`` when given.

        Parameters
        ----------
        path : str or path, optional

        Returns
        -------
        str
        """
        data = {
            "format": FORMAT,
            "seed": self.seed,
            "codebook": self.codebook,
            "params": self.params.to_dict(),
            **{name: _frame_to_plain(getattr(self, name)) for name in _FRAMES},
        }
        text = json.dumps(data, indent=1, allow_nan=False) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8", newline="\n")
        return text

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> Truth:
        """Read what :meth:`to_json` wrote: JSON text, or the path of a file holding it.

        Parameters
        ----------
        source : str or path

        Returns
        -------
        Truth
        """
        text = str(source)
        if isinstance(source, os.PathLike) or not text.lstrip().startswith("{"):
            text = Path(source).read_text(encoding="utf-8")
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"not a lagnest truth file: format {data.get('format')!r}")
        return cls(
            params=SimulationParams.from_dict(data["params"]),
            seed=data["seed"],
            codebook=data["codebook"],
            **{name: _frame_from_plain(data[name]) for name in _FRAMES},
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Truth):
            return NotImplemented
        return self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: NaN becomes None."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _frame_to_plain(frame: pd.DataFrame) -> dict[str, Any]:
    """Frame as ``{"index": name, "columns": {col: [values]}}`` (index kept as a column)."""
    index = frame.index.name
    flat = frame.reset_index() if index is not None else frame
    return {
        "index": index,
        "columns": {str(c): [_plain(v) for v in flat[c].to_numpy().tolist()] for c in flat.columns},
    }


def _frame_from_plain(data: dict[str, Any]) -> pd.DataFrame:
    """Inverse of :func:`_frame_to_plain` (None in float columns becomes NaN)."""
    columns = {
        c: [math.nan if v is None else v for v in values] for c, values in data["columns"].items()
    }
    frame = pd.DataFrame(columns)
    return frame.set_index(data["index"]) if data["index"] is not None else frame

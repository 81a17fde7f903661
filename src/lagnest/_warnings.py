"""Warnings that point at the user's line, not at lagnest's internals."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

__all__ = ["warn_user"]

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def _user_stacklevel() -> int:
    """Stack level of the first frame outside the lagnest package (for ``warnings.warn``)."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
        _PACKAGE_DIR
    ):
        frame = frame.f_back
        level += 1
    return level


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue ``warnings.warn(message, category)`` attributed to the caller of lagnest.

    Parameters
    ----------
    message : str
        The warning text.
    category : Warning subclass, default UserWarning
        The warning class.
    """
    warnings.warn(message, category, stacklevel=_user_stacklevel())

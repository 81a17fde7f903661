"""Registry of model classes by ``model_name`` (filled when :mod:`lagnest.models` loads).

:func:`lagnest.load` and :meth:`BayesianModel.from_config` find the class of a saved fit
here; the registry imports nothing from the model modules, so no module imports upward.
"""

from __future__ import annotations

from typing import Any

__all__ = ["model_class", "model_names", "register_model"]

_MODELS: dict[str, Any] = {}


def register_model(cls: Any) -> Any:
    """Register a :class:`~lagnest.models.base.BayesianModel` subclass under its name."""
    name = cls.model_name
    known = _MODELS.get(name)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise TypeError(f"two model classes share model_name {name!r}: {known} and {cls}")
    _MODELS[name] = cls
    return cls


def model_class(name: str) -> Any:
    """The model class registered under ``name`` (``KeyError`` naming the known ones)."""
    try:
        return _MODELS[name]
    except KeyError:
        raise KeyError(f"no lagnest model named {name!r}; known: {sorted(_MODELS)}") from None


def model_names() -> tuple[str, ...]:
    """Names of the registered models."""
    return tuple(sorted(_MODELS))

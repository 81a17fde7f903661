"""Model specifications as TOML files: one file drives the Python API and ``lagnest fit``.

A spec names a registered model and its constructor arguments, and optionally its
priors, its sampler settings and how the command line reads the corpus::

    # what the analysis asks, in words
    description = "Do the MIA indicators at t-1 predict the rupture type at t?"

    [model]
    type = "LaggedRegression"      # a registered model_name
    target = "rupture"             # every other key is a constructor argument
    predictors = ["mia"]
    lags = [1]

    [priors]                       # optional; as the model's ``priors=`` argument
    sigma_dyad = { dist = "HalfNormal", sigma = 0.5 }

    [fit]                          # optional; keyword arguments of ``model.fit``
    draws = 1000

    [data]                         # optional; keyword arguments of ``lagnest.read_table``
    codebook = "3rs_2015+mia"

    [codes]                        # optional; codes made from codes (Sequences.with_codes)
    any_confrontation = "lump(C1, C2, C3, C4, C5, C6, C7)"

:func:`load_spec` validates the whole file before any data are read: keys are checked
against the signature of the class registered at run time (so a model's new arguments
need no change here), values against the constructor's type annotations, priors against
the model's default priors, ``[fit]`` against :meth:`BayesianModel.fit
<lagnest.models.base.BayesianModel.fit>` and ``[data]`` against
:func:`lagnest.read_table`. Every problem found is reported at once in a
:class:`~lagnest.errors.SpecError` naming the file, the dotted key and what was expected.

The specs of the standard analyses live once in the repository's top-level ``models/``
folder and ship inside the package as ``lagnest/specs`` (a symlink in the source tree,
copied into wheels); :func:`standard_specs` lists them and :func:`from_spec` takes their
bare names.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import difflib
import functools
import inspect
import os
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lagnest._files import check_readable, parse_toml
from lagnest._lang import LANGUAGES, check_lang
from lagnest.errors import DataProblem, LagnestDataError, ProblemCollector, SpecError
from lagnest.models._fit import SAMPLERS, check_sampler_options
from lagnest.models.base import constructor_arguments
from lagnest.models.priors import resolve_priors
from lagnest.models.registry import model_class, model_names

if TYPE_CHECKING:
    from lagnest.data.sequences import Sequences
    from lagnest.models.base import BayesianModel

__all__ = ["SECTIONS", "ModelSpec", "from_spec", "load_spec", "standard_specs"]

#: Top-level keys of a spec file.
SECTIONS = ("description", "model", "priors", "fit", "data", "codes")
#: Arguments of ``BayesianModel.fit`` a TOML file cannot hold (arrays in memory).
_FIT_EXCLUDED = frozenset({"self", "observed"})
#: Smallest allowed value of the integer fit settings.
_FIT_MINIMUM = {"draws": 1, "tune": 0, "chains": 1, "cores": 1, "seed": 0}
#: Arguments of ``read_table`` that name files: they come from the caller, not the spec.
_DATA_EXCLUDED = frozenset({"path", "sessions", "dyads", "format"})
#: Integers a spec may hold (NumPy's int64): larger ones are an error, not an overflow later.
_INT64 = (-(2**63), 2**63 - 1)
_EMPTY = inspect.Parameter.empty
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
_SEQUENCES = (list, tuple, set, frozenset, cabc.Sequence, cabc.MutableSequence,
              cabc.Iterable, cabc.Collection, cabc.Set)
_MAPPINGS = (dict, cabc.Mapping, cabc.MutableMapping)


# =========================================================================== the spec


@dataclass(frozen=True)
class ModelSpec:
    """A validated model specification (see :func:`load_spec`).

    Attributes
    ----------
    model : str
        The registered ``model_name`` (``[model] type``).
    arguments : dict
        Constructor arguments other than ``seqs`` and ``priors`` (the rest of ``[model]``).
    priors : dict
        Prior overrides, as the model's ``priors=`` argument (``[priors]``).
    fit : dict
        Keyword arguments of ``model.fit`` (``[fit]``).
    data : dict
        Keyword arguments of :func:`lagnest.read_table` (``[data]``); a relative codebook
        path is resolved against the spec's folder.
    codes : dict of str to str
        Codes made from codes before the model is built (``[codes]``: new code name to an
        expression of the code algebra, as :meth:`lagnest.Sequences.with_codes` takes
        them); the model names them like any other code.
    description : str
        What the analysis asks, in words (English).
    path : pathlib.Path or None
        The file read (None for a spec built from a mapping).
    """

    model: str
    arguments: dict[str, Any] = field(default_factory=dict)
    priors: dict[str, Any] = field(default_factory=dict)
    fit: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    path: Path | None = None
    descriptions: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)

    def describe(self, lang: str = "en") -> str:
        """What the analysis asks, in ``lang`` (English where the spec has no translation).

        A spec gives translations as a table: ``[description]`` with ``en = "..."`` and
        ``es = "..."`` (a plain ``description = "..."`` string is English).
        """
        check_lang(lang)
        return self.descriptions.get(lang) or self.description

    @property
    def name(self) -> str:
        """The file's stem (``"mia_to_rupture"``), or the model name without a file."""
        return self.path.stem if self.path is not None else self.model

    @property
    def source(self) -> str:
        """How error messages name the spec (its path, or ``<spec>``)."""
        return str(self.path) if self.path is not None else "<spec>"

    @property
    def model_class(self) -> type[BayesianModel]:
        """The registered class of :attr:`model`."""
        return model_class(self.model)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str | os.PathLike[str] | None = None,
                  ) -> ModelSpec:
        """Validate a parsed spec (the TOML document as a mapping).

        Parameters
        ----------
        data : mapping
            Top-level keys among :data:`SECTIONS`.
        path : path-like, optional
            The file it came from (named in errors; relative codebook paths resolve
            against its folder).

        Returns
        -------
        ModelSpec

        Raises
        ------
        SpecError
            Listing every problem: file, dotted key and what was expected.
        """
        return _parse(data, Path(path) if path is not None else None)

    def with_fit(self, **settings: Any) -> ModelSpec:
        """A copy whose ``[fit]`` settings are updated (None values are ignored).

        Parameters
        ----------
        **settings
            Keyword arguments of ``model.fit`` (``draws``, ``tune``, ``chains``, ``seed``,
            ...), validated like the file's.

        Returns
        -------
        ModelSpec
        """
        given = {k: v for k, v in settings.items() if v is not None}
        if not given:
            return self
        problems = ProblemCollector(file=self.source)
        _check_fit(self.model_class, given, problems)
        _raise(problems)
        return replace(self, fit={**self.fit, **given})

    def build(self, seqs: Sequences) -> BayesianModel:
        """The model this spec describes, on ``seqs`` (see :func:`from_spec`).

        Parameters
        ----------
        seqs : Sequences
            The corpus.

        Returns
        -------
        BayesianModel
            Whose ``fit`` defaults to the spec's ``[fit]`` settings.

        Raises
        ------
        SpecError
            When the model rejects the spec on this corpus (e.g. a code it does not have).
        """
        cls = self.model_class
        try:
            if self.codes:
                seqs = seqs.with_codes(self.codes)
            model = cls(seqs, **copy.deepcopy(self.arguments),
                        priors=copy.deepcopy(self.priors) or None)
        except SpecError:
            raise
        except LagnestDataError as err:
            raise SpecError(DataProblem(
                f"{self.model} rejects [model] of this spec on this corpus: {err}",
                file=self.source,
            )) from err
        if self.fit:
            fit = functools.partial(type(model).fit, model, **copy.deepcopy(self.fit))
            model.fit = functools.update_wrapper(fit, type(model).fit)  # type: ignore[method-assign]
        return model

    def to_dict(self) -> dict[str, Any]:
        """The spec as TOML-shaped data (``model`` table with its ``type``), JSON-ready."""
        description: Any = (self.description if not self.descriptions
                            else {"en": self.description, **self.descriptions})
        out: dict[str, Any] = {"description": description,
                               "model": {"type": self.model, **copy.deepcopy(self.arguments)}}
        for key in ("priors", "fit", "data"):
            if getattr(self, key):
                out[key] = copy.deepcopy(getattr(self, key))
        return out


# =========================================================================== public API


def standard_specs() -> dict[str, Path]:
    """The specs of the standard analyses shipped with lagnest, by name.

    Returns
    -------
    dict of str to pathlib.Path
        E.g. ``{"mia_to_rupture": .../lagnest/specs/mia_to_rupture.toml, ...}``: the files
        of the repository's ``models/`` folder, shipped as package data.
    """
    folder = resources.files("lagnest") / "specs"
    if not folder.is_dir():
        return {}
    return {
        p.name.removesuffix(".toml"): Path(str(p))
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".toml")
    }


def load_spec(path: str | os.PathLike[str]) -> ModelSpec:
    """Read and validate a model specification; nothing reads or touches data.

    Parameters
    ----------
    path : str or path-like
        A TOML file, or the bare name of a standard spec (``"mia_to_rupture"``, see
        :func:`standard_specs`).

    Returns
    -------
    ModelSpec

    Raises
    ------
    SpecError
        Naming the file, the dotted key (e.g. ``model.lags``) and what was expected;
        TOML syntax errors give the line and column.
    """
    file = _locate(path)
    data = parse_toml(check_readable(file).read_bytes(), str(file), SpecError)
    return _parse(data, file)


def from_spec(spec: str | os.PathLike[str] | ModelSpec, seqs: Sequences) -> BayesianModel:
    """Build the model a spec file describes, on ``seqs``.

    Parameters
    ----------
    spec : str, path-like or ModelSpec
        A TOML file, the bare name of a standard spec (``"mia_to_rupture"``), or a
        spec already loaded with :func:`load_spec`.
    seqs : Sequences
        The corpus.

    Returns
    -------
    BayesianModel
        Of the class registered under ``[model] type``. The spec's ``[fit]`` settings are
        the defaults of its ``fit``; arguments passed to ``fit`` override them.

    Raises
    ------
    SpecError
        For a malformed spec (before any data work), or when the model rejects the spec
        on this corpus.

    Examples
    --------
    >>> import lagnest as ln
    >>> seqs = ln.Sequences.from_sequences({"code": [["a", "b", "a", "b"]]})
    >>> spec = ln.models.spec.ModelSpec.from_dict(
    ...     {"model": {"type": "TransitionModel", "given": "code", "target": "code",
    ...                "pooling": "complete"}})
    >>> ln.from_spec(spec, seqs).spec["pooling"]
    'complete'
    """
    if not isinstance(spec, ModelSpec):
        spec = load_spec(spec)
    return spec.build(seqs)


# =========================================================================== locating


def _locate(path: str | os.PathLike[str]) -> Path:
    """The file ``path`` names: an existing file, or a standard spec's bare name.

    A path (it has a folder or the ``.toml`` suffix) that is no readable file is the
    ``OSError`` naming it; a bare name that is no standard spec is a `SpecError`.
    """
    file = Path(path)
    if file.is_file():
        return file
    standard = standard_specs()
    name = file.name.removesuffix(".toml")
    if file.parent == Path(".") and name in standard:
        return standard[name]
    if file.suffix or file.parent != Path(".") or file.exists():
        return check_readable(file)  # raises the OSError naming the path
    raise SpecError(DataProblem(
        "no standard spec of that name, and no such file",
        file=str(path),
        expected=f"a TOML file or one of the standard specs {sorted(standard)}",
    ))


# =========================================================================== validation


def _raise(problems: ProblemCollector) -> None:
    """Raise the collected problems as one :class:`SpecError`."""
    if problems.problems:
        raise SpecError(problems.problems)


def _key_problem(problems: ProblemCollector, key: str, message: str, **where: Any) -> None:
    """Record a problem at dotted ``key``."""
    problems.add(f"key {key!r}: {message}", **where)


def _unknown_key(problems: ProblemCollector, section: str | None, key: str,
                 known: cabc.Iterable[str], what: str) -> list[str]:
    """Record an unknown key, suggesting close matches; return the suggestions."""
    known = sorted(known)
    dotted = f"{section}.{key}" if section else key
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    _key_problem(problems, dotted, f"unknown key for {what}{hint}",
                 expected=f"one of {known}")
    return close


def _parse(data: Mapping[str, Any], path: Path | None) -> ModelSpec:
    """Validate a parsed spec document; raise every problem at once."""
    source = str(path) if path is not None else "<spec>"
    problems = ProblemCollector(file=source)
    _check_integers(data, "", problems)
    for key in data:
        if key not in SECTIONS:
            _unknown_key(problems, None, key, SECTIONS, "a model spec")
    description = data.get("description", "")
    descriptions: dict[str, str] = {}
    if isinstance(description, dict):
        texts = description
        description = texts.get("en", "")
        for key, text in texts.items():
            if key not in LANGUAGES:
                _unknown_key(problems, "description", key, LANGUAGES, "a description")
            elif not isinstance(text, str):
                _key_problem(problems, f"description.{key}", "wrong type", value=text,
                             expected="a string")
            elif key != "en":
                descriptions[key] = text.strip()
    if not isinstance(description, str):
        _key_problem(problems, "description", "wrong type", value=description,
                     expected="a string, or a table of strings by language (en, es)")
    sections = {}
    for key in ("model", "priors", "fit", "data", "codes"):
        value = data.get(key, {})
        if not isinstance(value, dict):
            _key_problem(problems, key, "must be a table", value=value,
                         expected=f"a [{key}] section")
        sections[key] = dict(value) if isinstance(value, dict) else {}
    cls = None
    if "model" not in data:
        problems.add("missing the [model] section", expected="a [model] table with a type")
    elif isinstance(data["model"], dict):
        cls = _check_model(sections["model"], problems)
    arguments = {k: v for k, v in sections["model"].items() if k != "type"}
    if cls is not None:
        _check_priors(cls, sections["priors"], problems)
        _check_fit(cls, sections["fit"], problems)
    data_settings = _resolve_codebook(sections["data"], path)
    _check_data(data_settings, problems)
    _check_codes(sections["codes"], problems)
    _raise(problems)
    return ModelSpec(
        model=str(sections["model"]["type"]),
        arguments=arguments,
        priors=sections["priors"],
        fit=sections["fit"],
        data=data_settings,
        description=description.strip() if isinstance(description, str) else "",
        path=path,
        descriptions=descriptions,
        codes=sections["codes"],
    )


def _check_codes(table: dict[str, Any], problems: ProblemCollector) -> None:
    """Check ``[codes]``: one-word new names, expressions the code algebra parses.

    Whether the names in an expression are codes of the corpus is known only when the
    corpus is read (``build``).
    """
    from lagnest.data import algebra

    for name, expression in table.items():
        if not algebra.is_plain_name(name):
            _key_problem(problems, f"codes.{name}", "bad code name", value=name,
                         expected="one word (letters, digits, _ . -) that is not and/or/not")
        elif not isinstance(expression, str):
            _key_problem(problems, f"codes.{name}", "wrong type", value=expression,
                         expected='an expression, e.g. "W1 or W2"')
        else:
            try:
                algebra.parse(expression)
            except LagnestDataError as err:
                _key_problem(problems, f"codes.{name}", f"bad expression: {err}",
                             expected="an expression of the code algebra (and, or, not, "
                             "lump, chain; docs/classical.md)")


def _check_integers(value: Any, key: str, problems: ProblemCollector) -> None:
    """Integers beyond int64, anywhere in the document, as problems at their dotted keys."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_integers(v, f"{key}.{k}" if key else str(k), problems)
    elif isinstance(value, list):
        for v in value:
            _check_integers(v, key, problems)
    elif isinstance(value, int) and not isinstance(value, bool) and not (
        _INT64[0] <= value <= _INT64[1]
    ):
        _key_problem(problems, key, "integer out of range", value=value,
                     expected=f"an integer from {_INT64[0]:,} to {_INT64[1]:,}")


def _check_model(table: dict[str, Any], problems: ProblemCollector) -> type | None:
    """Check ``[model]``; return the registered class (None when unknown)."""
    known = model_names()
    kind = table.get("type")
    if kind is None:
        _key_problem(problems, "model.type", "missing", expected=f"one of {list(known)}")
        return None
    if not isinstance(kind, str) or kind not in known:
        _key_problem(problems, "model.type", "unknown model type", value=kind,
                     expected=f"one of {list(known)}")
        return None
    cls = model_class(kind)
    args = {k: v for k, v in table.items() if k != "type"}
    _check_arguments(cls.__init__, constructor_arguments(cls), args, problems, "model",
                     f"{kind} (arguments of its constructor)")
    return cls


def _check_arguments(func: Callable[..., Any], names: cabc.Iterable[str],
                     values: Mapping[str, Any], problems: ProblemCollector, section: str,
                     what: str, required: bool = True) -> None:
    """Check ``values`` against the parameters ``names`` of ``func``'s signature."""
    params = inspect.signature(func).parameters
    accepted = {n: params[n] for n in names if params[n].kind not in _VARIADIC}
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    annotations = _annotations(func)
    suggested: set[str] = set()
    for key, value in values.items():
        if key not in accepted:
            if not open_ended:
                suggested.update(_unknown_key(problems, section, key, accepted, what)[:1])
            continue
        expected = annotations.get(key, _EMPTY)
        if expected is _EMPTY:
            expected = _type_of_default(accepted[key].default)
        if not _matches(value, expected):
            _key_problem(problems, f"{section}.{key}", "wrong type", value=value,
                         expected=_describe(expected))
    if required:
        for key, param in accepted.items():
            if param.default is _EMPTY and key not in values and key not in suggested:
                _key_problem(problems, f"{section}.{key}", "missing (a required argument)",
                             expected=_describe(annotations.get(key, _EMPTY)))


def _check_priors(cls: type, table: dict[str, Any], problems: ProblemCollector) -> None:
    """Check each ``[priors]`` entry against the model's default priors."""
    defaults = getattr(cls, "default_priors", None)
    kinds = getattr(cls, "prior_kinds", {})
    for name, value in table.items():
        if not isinstance(value, dict):
            _key_problem(problems, f"priors.{name}", "wrong type", value=value,
                         expected='a table such as { dist = "HalfNormal", sigma = 0.5 }')
            continue
        if not isinstance(defaults, Mapping):
            continue  # priors that depend on the configuration: the constructor checks
        if name not in defaults:
            _unknown_key(problems, "priors", name, defaults, f"the priors of {cls.__name__}")
            continue
        try:
            resolve_priors(defaults, {name: value}, kinds)
        except (TypeError, ValueError) as err:
            _key_problem(problems, f"priors.{name}", str(err))


def _check_fit(cls: type, table: Mapping[str, Any], problems: ProblemCollector) -> None:
    """Check ``[fit]`` against the keyword arguments of the model's ``fit``."""
    fit = _explicit_method(cls, "fit")
    names = [n for n in inspect.signature(fit).parameters if n not in _FIT_EXCLUDED]
    _check_arguments(fit, names, table, problems, "fit", "the fit settings", required=False)
    for key, low in _FIT_MINIMUM.items():
        value = table.get(key)
        if _matches(value, int) and value < low:
            _key_problem(problems, f"fit.{key}", "out of range", value=value,
                         expected=f"an integer >= {low}")
    sampler = table.get("sampler")
    if isinstance(sampler, str) and sampler not in SAMPLERS:
        _key_problem(problems, "fit.sampler", "unknown sampler", value=sampler,
                     expected=f"one of {list(SAMPLERS)}")
    options = table.get("sampler_options")
    if isinstance(options, Mapping):
        try:
            check_sampler_options(options, sampler if isinstance(sampler, str) else "pymc")
        except ValueError as err:
            _key_problem(problems, "fit.sampler_options", str(err))


def _explicit_method(cls: type, name: str) -> Callable[..., Any]:
    """The first definition of method ``name`` along the MRO with named parameters.

    A subclass that wraps ``fit`` in a pass-through ``fit(self, *args, **kwargs)`` (the
    registered models inherit ``BayesianModel.fit`` itself) has the base class's settings.
    """
    for klass in cls.__mro__:
        method = klass.__dict__.get(name)
        if method is None:
            continue
        params = list(inspect.signature(method).parameters.values())[1:]
        if any(p.kind not in _VARIADIC for p in params) or not params:
            return method
    return getattr(cls, name)


def _check_data(table: Mapping[str, Any], problems: ProblemCollector) -> None:
    """Check ``[data]`` against the keyword arguments of ``read_table``."""
    from lagnest.data.codebook import load_codebook
    from lagnest.io.table import read_table

    names = [n for n in inspect.signature(read_table).parameters if n not in _DATA_EXCLUDED]
    before = len(problems)
    _check_arguments(read_table, names, table, problems, "data",
                     "reading the corpus (keyword arguments of lagnest.read_table; files "
                     "come from the caller)", required=False)
    codebook = table.get("codebook")
    if len(problems) == before and codebook is not None:
        try:
            load_codebook(codebook)
        except (LagnestDataError, OSError) as err:
            _key_problem(problems, "data.codebook", str(err))


def _resolve_codebook(table: dict[str, Any], path: Path | None) -> dict[str, Any]:
    """Resolve a relative codebook path against the spec's folder."""
    codebook = table.get("codebook")
    if (isinstance(codebook, str) and codebook.endswith(".toml") and path is not None
            and not Path(codebook).is_absolute()):
        return {**table, "codebook": str(path.parent / codebook)}
    return table


# =========================================================================== types


def _annotations(func: Callable[..., Any]) -> dict[str, Any]:
    """Evaluated annotation of each parameter (``empty`` where it cannot be evaluated).

    Annotations are strings under ``from __future__ import annotations``; each is
    evaluated on its own in the function's module, so a name imported only for type
    checking leaves just that parameter unchecked.
    """
    module = sys.modules.get(func.__module__)
    namespace = dict(vars(module)) if module is not None else {}
    out: dict[str, Any] = {}
    for name, param in inspect.signature(func).parameters.items():
        annotation = param.annotation
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # lagnest's own annotation text
            except Exception:  # an unresolvable name: leave this parameter unchecked
                annotation = _EMPTY
        out[name] = annotation
    return out


def _type_of_default(default: Any) -> Any:
    """A type to check against when a parameter has a default but no annotation."""
    if default is _EMPTY or default is None:
        return _EMPTY
    if isinstance(default, list | tuple):
        kinds = {type(v) for v in default}
        return list[kinds.pop()] if len(kinds) == 1 else list
    return type(default) if isinstance(default, bool | int | float | str | dict) else _EMPTY


def _matches(value: Any, expected: Any) -> bool:
    """Whether a TOML value fits an annotation (types a TOML value cannot be pass)."""
    if expected is _EMPTY or expected is Any or expected is object:
        return True
    if expected is None or expected is type(None):
        return False
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in args)
    if origin is typing.Literal:
        return any(type(value) is type(a) and value == a for a in args)
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected in (str, Path, os.PathLike):
        return isinstance(value, str)
    container = origin or expected
    if container in _SEQUENCES:
        if not isinstance(value, list):
            return False
        if container is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(map(_matches, value, args))
        item = args[0] if args else Any
        return all(_matches(v, item) for v in value)
    if container in _MAPPINGS:
        if not isinstance(value, dict):
            return False
        key_type, value_type = args if len(args) == 2 else (Any, Any)
        return all(_matches(k, key_type) and _matches(v, value_type) for k, v in value.items())
    return True  # a class no TOML value is (e.g. Codebook): the constructor decides


_PLURALS = {"an integer": "integers", "a string": "strings", "a number": "numbers",
            "true or false": "booleans", "a table": "tables"}


def _describe(expected: Any) -> str:
    """Words for an annotation, as in 'expected a list of integers'."""
    if expected is _EMPTY or expected is Any or expected is object:
        return "any value"
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        words = [_describe(a) for a in args if a is not type(None)]
        return " or ".join(dict.fromkeys(words))
    if origin is typing.Literal:
        return f"one of {list(args)}"
    simple = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
              Path: "a string", os.PathLike: "a string"}
    if expected in simple:
        return simple[expected]
    container = origin or expected
    if container in _SEQUENCES:
        if container is tuple and args and args[-1] is not Ellipsis:
            return f"a list of {len(args)} items ({', '.join(_describe(a) for a in args)})"
        item = _describe(args[0]) if args else "any value"
        return f"a list of {_PLURALS.get(item, item)}" if args else "a list"
    if container in _MAPPINGS:
        return "a table"
    return getattr(expected, "__name__", str(expected))

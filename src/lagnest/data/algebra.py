"""Code algebra: new codes made from others at analysis time (GSEQ's and, or, not, lump, chain).

An expression such as ``"MIA2 and not MIA4"`` or ``"chain(withdrawal, confrontation,
within=2)"`` is parsed once, by hand (a recursive-descent parser; nothing is handed to
``eval``), into a small tree of :class:`Name`, :class:`Not`, :class:`And`, :class:`Or`
and :class:`Chain` nodes, and the tree is evaluated with vectorised numpy operations on
0/1 segment arrays (``-1`` = uncoded). :meth:`lagnest.Sequences.with_codes` is the public
entry; this module only knows arrays, so it resolves no code name itself.

Grammar (EBNF; keywords are lower case, ``not`` binds tighter than ``and``, which binds
tighter than ``or``)::

    expression = or_expr ;
    or_expr    = and_expr , { "or" , and_expr } ;
    and_expr   = not_expr , { "and" , not_expr } ;
    not_expr   = "not" , not_expr | primary ;
    primary    = "(" , or_expr , ")"
               | "lump" , "(" , or_expr , { "," , or_expr } , ")"
               | "chain" , "(" , or_expr , "," , or_expr , [ "," , "within" , "=" , count ] , ")"
               | name ;
    name       = word , [ "=" , word ]       (* "stream=code" is "stream:code" *)
               | quoted ;
    word       = wordchar , { wordchar } ;   (* letters, digits, "_", ".", "-", ":" *)
    quoted     = "'" , { any character but "'" } , "'" | '"' , { any but '"' } , '"' ;
    count      = digit , { digit } ;         (* 1 or more *)

Meaning, segment by segment (``t``), with the uncoded rule: *a derived value is uncoded
(-1) wherever any value it reads is uncoded*:

* ``a and b``: 1 where both are 1; ``a or b``: 1 where either is 1; ``not a``: 1 - a;
  ``lump(a, b, ...)`` is ``a or b or ...`` (GSEQ's lump of codes into one);
* ``chain(a, b, within=k)`` (``k`` defaults to 1): 1 at ``t`` when ``b`` is 1 at ``t``
  and ``a`` is 1 at one of ``t-k .. t-1`` inside the same block (a block is a run of
  segments of one session with no break; see ``Encoded.block_offsets``), so a chain never
  spans two sessions or a break and is present at the segment where it completes. It
  reads ``b`` at ``t`` and ``a`` at the segments of the window that lie in ``t``'s block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lagnest.errors import LagnestDataError

__all__ = [
    "FUNCTIONS",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "And",
    "Chain",
    "Name",
    "Node",
    "Not",
    "Or",
    "evaluate",
    "is_plain_name",
    "names",
    "parse",
    "to_text",
]

#: Reserved words: a code with one of these labels is written quoted (``'or'``).
KEYWORDS = frozenset({"and", "or", "not"})
#: Function names (recognised only before ``(``).
FUNCTIONS = ("chain", "lump")
#: Longest expression accepted, in characters.
MAX_LENGTH = 10_000
#: Deepest nesting of parentheses, ``not`` and functions accepted.
MAX_DEPTH = 100
_WORD_EXTRA = frozenset("_.-:")
_MAX_WITHIN_DIGITS = 9
_SHOWN = 80  # characters of an expression shown in an error message


# ---------------------------------------------------------------------------- the tree
@dataclass(frozen=True)
class Name:
    """A code name as written (``"MIA4"``, ``"t_vocal:silent"``); ``pos`` is 1-based."""

    name: str
    pos: int


@dataclass(frozen=True)
class Not:
    """``not operand``."""

    operand: Node
    pos: int


@dataclass(frozen=True)
class And:
    """``a and b and ...`` (two or more operands)."""

    operands: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Or:
    """``a or b or ...`` and ``lump(a, b, ...)`` (one or more operands)."""

    operands: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Chain:
    """``chain(first, then, within=k)``: ``then`` at ``t`` after ``first`` in ``t-k..t-1``."""

    first: Node
    then: Node
    within: int
    pos: int


Node = Name | Not | And | Or | Chain


# ---------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "quoted", "(", ")", ",", "=", "end"
    text: str
    pos: int  # 1-based


def _describe(tok: _Token) -> str:
    if tok.kind == "end":
        return "the end"
    if tok.kind == "quoted":
        return f"the quoted name {tok.text!r}"
    return repr(tok.text)


def _where(text: str, pos: int) -> str:
    """``"position 14 of 'text'"``; a long text is shown around the position only."""
    if len(text) <= _SHOWN:
        return f"position {pos} of {text!r}"
    lo = max(pos - 1 - _SHOWN // 2, 0)
    part = text[lo : lo + _SHOWN]
    return f"position {pos} of the {len(text)}-character expression, near {part!r}"


def _error(text: str, pos: int, message: str, note: str = "") -> LagnestDataError:
    return LagnestDataError(f"{message} at {_where(text, pos)}{note}")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(),=":
            tokens.append(_Token(c, c, i + 1))
            i += 1
        elif c in "'\"":
            end = text.find(c, i + 1)
            if end < 0:
                raise _error(text, i + 1, "unterminated quoted name",
                             f" (expected a closing {c})")
            if end == i + 1:
                raise _error(text, i + 1, "empty quoted name")
            tokens.append(_Token("quoted", text[i + 1 : end], i + 1))
            i = end + 1
        elif c.isalnum() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in _WORD_EXTRA):
                j += 1
            tokens.append(_Token("word", text[i:j], i + 1))
            i = j
        else:
            raise _error(text, i + 1, f"unexpected character {c!r}", " (expected a code "
                         "name, 'not', '(', ')', ',' or an operator: and, or)")
    tokens.append(_Token("end", "", n + 1))
    return tokens


# ---------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> _Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def is_keyword(self, word: str) -> bool:
        return self.tok.kind == "word" and self.tok.text == word

    def fail(self, expected: str, note: str = "") -> LagnestDataError:
        tok = self.tok
        return _error(self.text, tok.pos, f"expected {expected}",
                      f", found {_describe(tok)}{note}")

    def expect(self, kind: str, expected: str, note: str = "") -> _Token:
        if self.tok.kind != kind:
            raise self.fail(expected, note)
        tok = self.tok
        self.i += 1
        return tok

    def enter(self, tok: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(self.text, tok.pos, f"nesting deeper than {MAX_DEPTH} levels")

    def parse(self) -> Node:
        if not self.text.strip():
            raise LagnestDataError(f"empty code expression {self.text!r}")
        node = self.or_expr()
        if self.tok.kind != "end":
            raise self.fail("'and', 'or' or the end", " (no '(' is open)"
                            if self.tok.kind == ")" else "")
        return node

    def or_expr(self) -> Node:
        pos = self.tok.pos
        operands = [self.and_expr()]
        while self.is_keyword("or"):
            self.i += 1
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands), pos)

    def and_expr(self) -> Node:
        pos = self.tok.pos
        operands = [self.not_expr()]
        while self.is_keyword("and"):
            self.i += 1
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else And(tuple(operands), pos)

    def not_expr(self) -> Node:
        if self.is_keyword("not"):
            tok = self.tok
            self.enter(tok)
            self.i += 1
            node = Not(self.not_expr(), tok.pos)
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "(":
            self.enter(tok)
            self.i += 1
            node = self.or_expr()
            self.expect(")", "')'", f" (the '(' at position {tok.pos} is not closed)")
            self.depth -= 1
            return node
        if tok.kind == "quoted":
            self.i += 1
            return Name(tok.text, tok.pos)
        if tok.kind != "word" or tok.text in KEYWORDS:
            raise self.fail("a code name, 'not' or '('")
        if self.peek().kind == "(":
            if tok.text not in FUNCTIONS:
                raise _error(self.text, tok.pos, f"unknown function {tok.text!r}", " (the "
                             "functions are chain(a, b, within=k) and lump(a, b, ...))")
            self.enter(tok)
            self.i += 2
            node = self.chain(tok) if tok.text == "chain" else self.lump(tok)
            self.depth -= 1
            return node
        self.i += 1
        if self.tok.kind == "=":  # stream=code
            self.i += 1
            code = self.tok
            if code.kind not in ("word", "quoted") or (
                    code.kind == "word" and code.text in KEYWORDS):
                raise self.fail(f"a code of stream {tok.text!r} after '='")
            self.i += 1
            return Name(f"{tok.text}:{code.text}", tok.pos)
        return Name(tok.text, tok.pos)

    def lump(self, func: _Token) -> Node:
        operands = [self.or_expr()]
        while self.tok.kind == ",":
            self.i += 1
            operands.append(self.or_expr())
        self.expect(")", "',' or ')' to close lump(")
        return operands[0] if len(operands) == 1 else Or(tuple(operands), func.pos)

    def chain(self, func: _Token) -> Node:
        first = self.or_expr()
        self.expect(",", "',' and the code that follows in chain(")
        then = self.or_expr()
        within = 1
        closing = "', within=k' or ')' to close chain("
        if self.tok.kind == ",":
            closing = "')' to close chain("
            self.i += 1
            if not (self.is_keyword("within") and self.peek().kind == "="):
                raise self.fail("'within=' in chain(")
            self.i += 2
            count = self.tok
            if (count.kind != "word" or not count.text.isdigit() or not count.text.isascii()
                    or len(count.text) > _MAX_WITHIN_DIGITS or int(count.text) < 1):
                raise self.fail(f"a whole number from 1 to {10**_MAX_WITHIN_DIGITS - 1} "
                                "after 'within='")
            within = int(count.text)
            self.i += 1
        self.expect(")", closing)
        return Chain(first, then, within, func.pos)


def parse(text: str) -> Node:
    """Parse a code expression into its tree (see the module docstring for the grammar).

    Parameters
    ----------
    text : str
        The expression, e.g. ``"MIA2 and not MIA4"``.

    Returns
    -------
    Node
        :class:`Name`, :class:`Not`, :class:`And`, :class:`Or` or :class:`Chain`.

    Raises
    ------
    LagnestDataError
        Naming the expression, the 1-based position and what was expected there.

    Examples
    --------
    >>> to_text(parse("a or b and not c"))
    '(a or (b and (not c)))'
    """
    if not isinstance(text, str):
        raise LagnestDataError(f"a code expression must be a string, got {text!r}")
    if len(text) > MAX_LENGTH:
        raise LagnestDataError(
            f"code expression of {len(text)} characters; at most {MAX_LENGTH} are accepted")
    return _Parser(text).parse()


def is_plain_name(text: str) -> bool:
    """Whether ``text`` can name a new code: one word, no keyword, no ``:``."""
    if not isinstance(text, str) or not text or ":" in text:
        return False
    try:
        tokens = _tokenize(text)
    except LagnestDataError:
        return False
    return (len(tokens) == 2 and tokens[0].kind == "word" and tokens[0].text == text
            and text not in KEYWORDS)


def names(node: Node) -> tuple[Name, ...]:
    """Every :class:`Name` of a tree, in the order written (repeats kept)."""
    if isinstance(node, Name):
        return (node,)
    if isinstance(node, Not):
        return names(node.operand)
    if isinstance(node, Chain):
        return names(node.first) + names(node.then)
    return tuple(n for op in node.operands for n in names(op))


def to_text(node: Node) -> str:
    """The tree written back, every operation in parentheses (shows the precedence)."""
    if isinstance(node, Name):
        ok = is_plain_name(node.name) or (
            ":" in node.name and all(is_plain_name(p) for p in node.name.split(":")))
        return node.name if ok else repr(node.name)
    if isinstance(node, Not):
        return f"(not {to_text(node.operand)})"
    if isinstance(node, Chain):
        return f"chain({to_text(node.first)}, {to_text(node.then)}, within={node.within})"
    word = " and " if isinstance(node, And) else " or "
    return "(" + word.join(to_text(op) for op in node.operands) + ")"


# ---------------------------------------------------------------------------- evaluation
def evaluate(
    node: Node,
    lookup: Callable[[Name], np.ndarray],
    block_offsets: np.ndarray,
) -> np.ndarray:
    """Evaluate a tree on 0/1 segment arrays.

    Parameters
    ----------
    node : Node
        From :func:`parse`.
    lookup : callable
        ``lookup(name) -> array``: the ``(n_segments,)`` values of a :class:`Name`, 0/1
        with ``-1`` = uncoded. Called once per distinct name.
    block_offsets : ndarray of int
        ``(n_blocks + 1,)``: block ``b`` holds segments ``offsets[b]:offsets[b+1]``
        (``Encoded.block_offsets``); ``chain`` never looks across a block's start.

    Returns
    -------
    ndarray of int8
        ``(n_segments,)`` of 0/1, ``-1`` wherever a value read is uncoded.
    """
    offsets = np.asarray(block_offsets, dtype=np.int64)
    n = int(offsets[-1]) if offsets.size else 0
    block_start = np.repeat(offsets[:-1], np.diff(offsets))
    cache: dict[str, np.ndarray] = {}

    def leaf(name: Name) -> np.ndarray:
        if name.name not in cache:
            values = np.asarray(lookup(name))
            if values.shape != (n,):
                raise LagnestDataError(f"values of {name.name!r} have shape {values.shape}; "
                                       f"expected ({n},)")
            if values.size and (values.min() < -1 or values.max() > 1):
                raise LagnestDataError(f"values of {name.name!r} must be 0/1 or -1 (uncoded)")
            cache[name.name] = values.astype(np.int8)
        return cache[name.name]

    def run(node: Node) -> np.ndarray:
        if isinstance(node, Name):
            return leaf(node)
        if isinstance(node, Not):
            a = run(node.operand)
            return np.where(a < 0, -1, 1 - a).astype(np.int8)
        if isinstance(node, Chain):
            return _chain(run(node.first), run(node.then), node.within, block_start)
        values = [run(op) for op in node.operands]
        uncoded = np.logical_or.reduce([v < 0 for v in values])
        hit = np.stack([v == 1 for v in values])
        present = hit.all(axis=0) if isinstance(node, And) else hit.any(axis=0)
        return np.where(uncoded, -1, present).astype(np.int8)

    return run(node)


def _chain(first: np.ndarray, then: np.ndarray, within: int,
           block_start: np.ndarray) -> np.ndarray:
    """``then`` at t with ``first`` in ``max(t - within, block start) .. t - 1``; O(n)."""
    n = then.size
    t = np.arange(n, dtype=np.int64)
    lo = np.maximum(t - within, block_start)  # window lo..t-1 (empty at a block's start)
    hits = np.concatenate([[0], np.cumsum(first == 1, dtype=np.int64)])
    gaps = np.concatenate([[0], np.cumsum(first < 0, dtype=np.int64)])
    found = hits[t] - hits[lo] > 0
    uncoded = (then < 0) | (gaps[t] - gaps[lo] > 0)
    return np.where(uncoded, -1, found & (then == 1)).astype(np.int8)

"""Reading and writing the DAGitty graph syntax.

The grammar is DAGitty's own (its ``GraphDotParser.pegjs`` and
``GraphParser.parseDot``): an optional header ``dag [name] { ... }``
(``digraph`` too; ``strict`` is allowed), statements separated by whitespace,
``;`` or newlines, chains ``A -> B <- C``, ``<->`` (a hidden common cause),
groups and subgraphs ``{A B} -> C``, graph options ``bb="x0,y0,x1,y1"``
(also written ``graph [bb="..."]``), and attribute lists on nodes
``A [exposure,pos="1,2"]`` and on edges ``A -> B [pos="0,1"]``.

* Node flags: ``exposure``/``e``/``source``, ``outcome``/``o``/``target``,
  ``latent``/``l``/``u``/``unobserved``, ``adjusted``/``a`` and
  ``selected``/``s``; ``pos="x,y"`` is kept as the node's position
  (DAGitty's screen coordinates: y grows downward).  Other ``key=value``
  attributes (``label``, edge ``pos``) are read and not used; an unknown flag
  is an error.
* Names: barewords, ``"double-quoted"`` strings read exactly as DAGitty reads
  them (``\\"`` is a quote, a backslash before a line break continues the
  line, any other backslash is itself), ``"a" + "b"`` concatenation, and, as
  an extension, ``'single-quoted'`` strings (``\\'`` is a quote).  A bare
  integer such as ``3`` or ``-1`` is read as the Python ``int``; quote it
  (``"3"``) for the string.  ``to_dagitty`` writes ints bare and numeric
  strings quoted, so both come back as they were.
* DAGitty has no comments; as an extension ``#`` and ``//`` start a comment
  that runs to the end of the line, but only outside quoted names (the text
  is tokenized in one left-to-right pass, strings first).  A UTF-8 byte-order
  mark at the start is ignored.
* Unquoted ``graph`` is the graph-attribute statement and unquoted ``node``
  is refused, as in DAGitty; quoted, both are ordinary names.

Parsing is one linear pass (tokens, then a recursive-descent parser), so a
100,000-node model is read in about the time networkx takes to build it.

Example
-------
>>> spec = parse_dagitty('dag { bb="0,0,2,2" X [exposure,pos="0,1"] Y [outcome]; '
...                      'Z -> X -> Y <- Z; A <-> X; "Item #3" -> Y }')
>>> sorted(map(str, spec.directed)), spec.bidirected, spec.exposure, spec.positions
(["('Item #3', 'Y')", "('X', 'Y')", "('Z', 'X')", "('Z', 'Y')"], [('A', 'X')], ['X'], {'X': (0.0, 1.0)})
>>> spec.bounding_box
(0.0, 0.0, 2.0, 2.0)
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterator

import numpy as np

from ..errors import GraphError

Node = Hashable

#: the node marks DAGitty knows, in the order it writes them
MARKS = ("exposure", "outcome", "adjusted", "latent", "selected")
_FLAGS = {"exposure": "exposure", "e": "exposure", "source": "exposure",
          "outcome": "outcome", "o": "outcome", "target": "outcome",
          "latent": "latent", "l": "latent", "u": "latent", "unobserved": "latent",
          "adjusted": "adjusted", "a": "adjusted", "selected": "selected", "s": "selected"}
_KINDS = {"dag", "digraph", "graph", "pdag", "mag", "pag"}
#: words DAGitty (or the DOT language it follows) treats specially; written quoted
_RESERVED = _KINDS | {"node", "edge", "subgraph", "strict"}

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*|//[^\n]*)
  | (?P<quote>["'])
  | (?P<pag>@->|<-@|--@|@--|@-@)
  | (?P<arrow><->|->|<-|--)
  | (?P<punct>[{}\[\]=,;+])
  | (?P<word>-?(?=[^\s{}\[\]=,;+"'<>\#@/\-])
             (?:[^\s{}\[\]=,;+"'<>\#@/\-]|/(?!/)|-(?![->]))+)
""", re.X)
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_BARE = re.compile(r"[0-9a-zA-Z_.]+")           # DAGitty's own bareword
_NUMBER = r"\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*"
_POS = re.compile(",".join([_NUMBER] * 2))
_BB = re.compile(",".join([_NUMBER] * 4))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_STRING_RUN = {'"': re.compile(r'[^"\\\x00-\x1f\x7f]*'), "'": re.compile(r"[^'\\\x00-\x1f\x7f]*")}


@dataclass
class DagittySpec:
    """What a DAGitty text declares: nodes in order, edges, node marks and layout."""

    nodes: list = field(default_factory=list)
    directed: list = field(default_factory=list)
    bidirected: list = field(default_factory=list)
    exposure: list = field(default_factory=list)
    outcome: list = field(default_factory=list)
    latent: list = field(default_factory=list)
    adjusted: list = field(default_factory=list)
    selected: list = field(default_factory=list)
    positions: dict = field(default_factory=dict)
    bounding_box: tuple | None = None


# ----------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class _Tok:
    kind: str      # "id", "arrow", "pag", "punct" or "end"
    value: Any
    pos: int
    quoted: bool = False


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {col}"


def _read_string(text: str, start: int) -> tuple[str, int]:
    """The quoted string opening at ``start``, read as DAGitty reads it; (value, end)."""
    delim = text[start]
    run = _STRING_RUN[delim]
    out: list[str] = []
    i = start + 1
    n = len(text)
    while True:
        m = run.match(text, i)
        out.append(m.group())
        i = m.end()
        if i >= n:
            raise GraphError(f"unterminated quoted name starting at {_where(text, start)}")
        c = text[i]
        if c == delim:
            return "".join(out), i + 1
        if c == "\\":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt == delim:
                out.append(delim)
                i += 2
            elif nxt in ("\n", "\r"):
                i += 1
                while i < n and text[i] in "\r\n":
                    i += 1
            else:
                out.append("\\")
                i += 1
            continue
        what = "a line break" if c in "\r\n" else f"the control character {c!r}"
        raise GraphError(f"quoted name starting at {_where(text, start)} contains {what} "
                         "(unterminated quote?); DAGitty names cannot")


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos, n = 0, len(text)
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            raise GraphError(f"cannot parse the DAGitty text at {_where(text, pos)}: "
                             f"unexpected {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        if kind == "quote":
            value, end = _read_string(text, pos)
            out.append(_Tok("id", value, pos, quoted=True))
            pos = end
            continue
        if kind == "word":
            word = m.group()
            out.append(_Tok("id", int(word) if _INT.fullmatch(word) else word, pos))
        elif kind not in ("ws", "comment"):
            out.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    out.append(_Tok("end", None, n))
    return out


# ----------------------------------------------------------------------------- parser

class _Parser:
    """Recursive descent over the token list; builds ordered node and mark sets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.nodes: dict = {}
        self.marks: dict[str, dict] = {m: {} for m in MARKS}
        self.directed: list = []
        self.bidirected: list = []
        self.positions: dict = {}
        self.bounding_box: tuple | None = None

    # token helpers
    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def is_punct(self, value: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind == "punct" and t.value == value

    def is_word(self, words: set, k: int = 0) -> bool:
        t = self.peek(k)
        return (t.kind == "id" and not t.quoted and isinstance(t.value, str)
                and t.value.lower() in words)

    def fail(self, what: str, tok: _Tok | None = None) -> GraphError:
        tok = tok or self.peek()
        got = "the end of the text" if tok.kind == "end" else repr(tok.value)
        return GraphError(f"DAGitty syntax error at {_where(self.text, tok.pos)}: expected "
                          f"{what}, got {got}")

    def keyword(self) -> GraphError:
        tok = self.peek()
        return GraphError(f"{tok.value!r} at {_where(self.text, tok.pos)} is a keyword (DAGitty "
                          "refuses it as a variable name; 'graph [...]' sets graph options); "
                          f"quote it (\"{tok.value}\") to name a variable")

    def expect_punct(self, value: str) -> None:
        if not self.is_punct(value):
            raise self.fail(repr(value))
        self.i += 1

    def string_value(self) -> tuple[Any, _Tok]:
        """An id, with ``"a" + "b"`` concatenation of quoted strings."""
        tok = self.take()
        if tok.kind != "id":
            raise self.fail("a name", tok)
        value = tok.value
        while tok.quoted and self.is_punct("+") and self.peek(1).kind == "id" \
                and self.peek(1).quoted:
            self.i += 1
            value += self.take().value
        return value, tok

    # grammar
    def parse(self) -> DagittySpec:
        if self.is_word({"strict"}):
            self.i += 1
            if not self.is_word(_KINDS):
                raise self.fail("a graph type after 'strict'")
        header = self.is_word(_KINDS) and (self.is_punct("{", 1) or (
            self.peek(1).kind == "id" and self.is_punct("{", 2)))
        if header:
            kind = self.take().value.lower()
            if kind not in ("dag", "digraph"):
                raise GraphError(f"only 'dag' graphs are supported, not {kind!r}: a causal "
                                 "DAG has directed (->) and bidirected (<->) edges only")
            if self.peek().kind == "id":
                self.i += 1              # the graph's name
            self.expect_punct("{")
            self.statements()
            self.expect_punct("}")
        else:
            self.statements()
        if self.peek().kind != "end":
            raise self.fail("the end of the text")
        return DagittySpec(
            nodes=list(self.nodes), directed=self.directed, bidirected=self.bidirected,
            positions=self.positions, bounding_box=self.bounding_box,
            **{m: list(v) for m, v in self.marks.items()})

    def statements(self) -> list:
        """Statements up to a closing '}' (not consumed); the nodes they mention, in order."""
        seen: dict = {}
        while True:
            tok = self.peek()
            if tok.kind == "end" or self.is_punct("}"):
                return list(seen)
            if self.is_punct(";") or self.is_punct(","):
                self.i += 1
                continue
            for node in self.statement():
                seen[node] = None

    def statement(self) -> list:
        if self.is_word({"graph"}) and self.is_punct("[", 1):
            self.i += 1
            self.graph_attributes(self.attribute_list())
            return []
        if self.is_word({"node", "graph"}):
            raise self.keyword()
        if self.peek().kind == "id" and self.is_punct("=", 1):
            key, _ = self.string_value()
            self.i += 1
            value, _ = self.string_value()
            self.graph_attributes([(key, value)])
            return []
        left = self.term()
        mentioned = list(left)
        n_terms = 1
        while self.peek().kind in ("arrow", "pag"):
            arrow = self.take()
            right = self.term()
            mentioned += right
            self.add_edges(left, right, arrow)
            left = right
            n_terms += 1
        while self.is_punct("["):
            attrs = self.attribute_list()
            if n_terms == 1:
                for node in left:
                    self.node_attributes(node, attrs)
            else:
                self.edge_attributes(attrs)
        return mentioned

    def term(self) -> list:
        if self.is_word({"subgraph"}):
            self.i += 1
            if self.peek().kind == "id":
                self.i += 1
        if self.is_punct("{"):
            self.i += 1
            nodes = self.statements()
            self.expect_punct("}")
            return nodes
        tok = self.peek()
        if tok.kind != "id":
            raise self.fail("a node name")
        if self.is_word({"node", "graph"}):
            raise self.keyword()
        name, _ = self.string_value()
        self.add_node(name)
        return [name]

    def add_node(self, name: Any) -> None:
        if name not in self.nodes:
            self.nodes[name] = None

    def add_edges(self, left: list, right: list, arrow: _Tok) -> None:
        a = arrow.value
        if arrow.kind == "pag" or a == "--":
            kind = "undirected" if a == "--" else "partially directed"
            raise GraphError(f"{kind} edge {a!r} at {_where(self.text, arrow.pos)}: a causal DAG "
                             "needs directed (->) or bidirected (<->) edges")
        for u in left:
            for v in right:
                if a == "->":
                    self.directed.append((u, v))
                elif a == "<-":
                    self.directed.append((v, u))
                else:
                    self.bidirected.append((u, v))

    def attribute_list(self) -> list[tuple[Any, Any]]:
        start = self.peek()
        self.expect_punct("[")
        attrs: list[tuple[Any, Any]] = []
        while not self.is_punct("]"):
            if self.peek().kind == "end":
                raise GraphError(f"unclosed '[' at {_where(self.text, start.pos)}")
            if self.is_punct(",") or self.is_punct(";"):
                self.i += 1
                continue
            key, _ = self.string_value()
            value = None
            if self.is_punct("="):
                self.i += 1
                value, _ = self.string_value()
            attrs.append((key, value))
        self.i += 1
        return attrs

    def node_attributes(self, node: Any, attrs: list) -> None:
        for key, value in attrs:
            k = str(key).lower()
            if k in _FLAGS:
                self.marks[_FLAGS[k]][node] = None
            elif k == "pos":
                self.positions[node] = _numbers(value, _POS, f"pos of node {node!r}")
            elif value is None:
                raise GraphError(f"unknown node attribute {key!r} on {node!r}; use exposure, "
                                 "outcome, latent, adjusted, selected or pos=\"x,y\"")

    def edge_attributes(self, attrs: list) -> None:
        """Edge attributes (DAGitty's curve control point pos=, label=, ...) are not used."""
        for key, value in attrs:
            k = str(key).lower()
            if k == "pos":
                _numbers(value, _POS, "pos of an edge")   # checked, not kept
            elif k in _FLAGS:
                raise GraphError(f"{key!r} is a node attribute but is given to an edge; write "
                                 f"it on the node, e.g. 'X [{key}]'")

    def graph_attributes(self, attrs: list) -> None:
        for key, value in attrs:
            if str(key).lower() == "bb":
                self.bounding_box = _numbers(value, _BB, "the bounding box bb")


def _numbers(value: Any, pattern: re.Pattern, what: str) -> tuple:
    m = pattern.fullmatch(str(value)) if value is not None else None
    if m is None:
        form = '"x0,y0,x1,y1"' if pattern is _BB else '"x,y"'
        raise GraphError(f"{what} must look like {form}, got {value!r}")
    return tuple(float(g) for g in m.groups())


def parse_dagitty(text: str) -> DagittySpec:
    """Parse DAGitty syntax into a :class:`DagittySpec` (GraphError with line and column on bad syntax)."""
    if not isinstance(text, str):
        raise GraphError(f"DAGitty text must be a string, got {type(text).__name__}")
    return _Parser(text.removeprefix("\ufeff")).parse()


# ----------------------------------------------------------------------------- writer

def quote(name: Any) -> str:
    """A node name as DAGitty text: ints bare, other names bare only when DAGitty's bareword
    rule allows and they cannot be mistaken for an int or a keyword, otherwise double-quoted.

    >>> print(quote("age"), quote(3), quote("3"), quote('Item "#3"'), quote("dag"))
    age 3 "3" "Item \\"#3\\"" "dag"
    """
    if isinstance(name, bool) or not isinstance(name, (str, numbers.Integral)):
        raise GraphError(f"node {name!r} is a {type(name).__name__}: DAGitty names are strings "
                         "(or integers); rename it to write the graph as DAGitty text")
    if isinstance(name, numbers.Integral):
        return str(int(name))
    if _BARE.fullmatch(name) and not _INT.fullmatch(name) and name.lower() not in _RESERVED:
        return name
    bad = _CONTROL.search(name)
    if bad:
        raise GraphError(f"node {name!r} contains the control character {bad.group()!r}, which "
                         "DAGitty's syntax cannot hold; rename it")
    body = name.replace('"', '\\"')
    if body.endswith("\\"):
        # a final backslash would escape the closing quote: DAGitty's grammar reads
        # "\\" + line break as a literal backslash followed by a line continuation
        body += "\\\n"
    return f'"{body}"'


def _num(x: float) -> str:
    """Shortest text that reads back as the same float, without an exponent (DAGitty's rule)."""
    return np.format_float_positional(float(x), unique=True, trim="-")


def _lines(spec: DagittySpec) -> Iterator[str]:
    yield "dag {"
    if spec.bounding_box is not None:
        yield 'bb="' + ",".join(_num(v) for v in spec.bounding_box) + '"'
    marks = {m: set(getattr(spec, m)) for m in MARKS}
    for n in spec.nodes:
        attrs = [m for m in MARKS if n in marks[m]]
        if n in spec.positions:
            x, y = spec.positions[n]
            attrs.append(f'pos="{_num(x)},{_num(y)}"')
        yield f"{quote(n)} [{','.join(attrs)}]" if attrs else quote(n)
    for a, b in spec.directed:
        yield f"{quote(a)} -> {quote(b)}"
    for a, b in spec.bidirected:
        yield f"{quote(a)} <-> {quote(b)}"
    yield "}"


def write_dagitty(spec: DagittySpec) -> str:
    """DAGitty text for ``spec``, one statement per line (``parse_dagitty`` reads it back exactly)."""
    for v in ([] if spec.bounding_box is None else list(spec.bounding_box)) + \
            [c for p in spec.positions.values() for c in p]:
        if not math.isfinite(v):
            raise GraphError(f"positions and the bounding box must be finite, got {v!r}")
    return "\n".join(_lines(spec))

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
* Unquoted ``graph [...]`` sets graph options; unquoted ``graph`` or ``node``
  as a name is refused, as in DAGitty; quoted, both are ordinary names.
* ``pdag { A -- B; A -> C }`` (a CPDAG or partially directed graph: ``--`` is
  an undirected edge) is read by ``parse_dagitty(text, pdag=True)``, which
  :meth:`causalkit.dags.CausalPDAG.from_dagitty` calls; a DAG reader given a
  ``pdag`` text says to use ``CausalPDAG.from_dagitty``.  The spec's ``kind``
  is ``"dag"`` or ``"pdag"``, its ``undirected`` the ``--`` pairs.

Parsing is linear: one regular-expression pass makes the tokens, a
recursive-descent parser reads them (``benchmarks/bench_dag.py`` times 10,000
and 100,000 nodes against building the same graph from its edge list).

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

_C = r"""[^\s{}\[\]=,;+"'<>\#@/\-]"""
_WORD = "-?" + _C + "+(?:(?:-(?![->])|/(?!/))" + _C + "*)*"
_STRING = r"""({q}(?:[^{q}\\\x00-\x1f\x7f]|\\{q}|\\[\r\n]+|\\(?![{q}\r\n]))*{q})"""
#: one token after optional whitespace and comments; groups: word, "string", 'string',
#: arrow, punctuation, anything else (an error); or the end of the text, so trailing
#: whitespace and comments are consumed whole (never backtracked into).  Strings are
#: matched before comments, and DAGitty's string grammar is unambiguous (each backslash
#: has one reading), so a regular expression reads it exactly.
_TOKEN = re.compile(r"(?:\s+|\#[^\n]*|//[^\n]*)*(?:(" + _WORD + ")|" + _STRING.format(q='"')
                    + "|" + _STRING.format(q="'")
                    + r"|(<->|->|<-|--|@->|<-@|--@|@--|@-@)|([{}\[\]=,;+])|(.)|\Z)", re.S)
_ESCAPE = {'"': re.compile(r'\\(?:(")|[\r\n]+)'), "'": re.compile(r"\\(?:(')|[\r\n]+)")}
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_BARE = re.compile(r"[0-9a-zA-Z_.]+")           # DAGitty's own bareword
_NUMBER = r"\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*"
_POS = re.compile(",".join([_NUMBER] * 2))
_BB = re.compile(",".join([_NUMBER] * 4))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
    undirected: list = field(default_factory=list)
    kind: str = "dag"


# ----------------------------------------------------------------------------- tokens
# Tokens are two parallel lists: kinds ("i" a bare name, str or int for a bare
# integer; "q" a quoted name; "a" an edge arrow; "p" punctuation; "e" the end)
# and values.  Positions are recomputed only to report an error.

def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {col}"


def _token_position(text: str, k: int) -> int:
    """Where the k-th token starts (len(text) for the end)."""
    for i, m in enumerate(_TOKEN.finditer(text)):
        if i == k:
            return m.start(m.lastindex or 0)
    return len(text)


def _unescape(body: str, quote: str) -> str:
    """DAGitty's string escapes: \\" is a quote, backslash + line break is nothing."""
    if "\\" not in body:
        return body
    return _ESCAPE[quote].sub(lambda m: m.group(1) or "", body)


def _bad_token(text: str, k: int) -> GraphError:
    pos = _token_position(text, k)
    c = text[pos]
    if c in "\"'":
        end = text.find("\n", pos)
        return GraphError(f"unterminated or invalid quoted name at {_where(text, pos)}: "
                          f"{text[pos:end if end >= 0 else None][:40]!r} (a quoted name ends "
                          "on the same line, cannot hold control characters, and \\\" inside "
                          "it is a quote)")
    return GraphError(f"cannot parse the DAGitty text at {_where(text, pos)}: unexpected "
                      f"{text[pos:pos + 20]!r}")


def _tokens(text: str) -> tuple[list[str], list]:
    """The tokens of ``text`` in one left-to-right pass (quoted strings before comments)."""
    kinds: list[str] = []
    values: list = []
    kind, value = kinds.append, values.append
    is_int = _INT.fullmatch
    for word, dq, sq, arrow, punct, bad in _TOKEN.findall(text):
        if word:
            kind("i")
            value(int(word) if word[-1] in "0123456789" and is_int(word) else word)
        elif punct:
            kind("p")
            value(punct)
        elif arrow:
            kind("a")
            value(arrow)
        elif dq or sq:
            kind("q")
            value(_unescape(dq[1:-1], '"') if dq else _unescape(sq[1:-1], "'"))
        elif bad:
            raise _bad_token(text, len(kinds))       # else: the end of the text
    kinds.append("e")
    values.append(None)
    return kinds, values


# ----------------------------------------------------------------------------- parser

_SPECIAL = {"graph", "node", "subgraph"}


class _Parser:
    """Recursive descent over the token lists; builds ordered node and mark sets."""

    def __init__(self, text: str, pdag: bool = False) -> None:
        self.text = text
        self.pdag = pdag
        self.kind = "dag"
        self.undirected: list = []
        self.kinds, self.values = _tokens(text)
        self.last = len(self.kinds) - 1
        self.i = 0
        self.nodes: dict = {}
        self.marks: dict[str, dict] = {m: {} for m in MARKS}
        self.directed: list = []
        self.bidirected: list = []
        self.positions: dict = {}
        self.bounding_box: tuple | None = None

    # token helpers
    def is_punct(self, value: str, k: int = 0) -> bool:
        j = min(self.i + k, self.last)
        return self.kinds[j] == "p" and self.values[j] == value

    def is_word(self, words: set, k: int = 0) -> bool:
        j = min(self.i + k, self.last)
        v = self.values[j]
        return self.kinds[j] == "i" and type(v) is str and v.lower() in words

    def where(self, k: int | None = None) -> str:
        return _where(self.text, _token_position(self.text, self.i if k is None else k))

    def fail(self, what: str) -> GraphError:
        got = ("the end of the text" if self.kinds[self.i] == "e"
               else repr(self.values[self.i]))
        return GraphError(f"DAGitty syntax error at {self.where()}: expected {what}, got {got}")

    def keyword(self) -> GraphError:
        word = self.values[self.i]
        return GraphError(f"{word!r} at {self.where()} is a keyword (DAGitty refuses it as a "
                          "variable name; 'graph [...]' sets graph options); quote it "
                          f"(\"{word}\") to name a variable")

    def expect_punct(self, value: str) -> None:
        if not self.is_punct(value):
            raise self.fail(repr(value))
        self.i += 1

    def name(self) -> Any:
        """A name, with ``"a" + "b"`` concatenation of quoted strings."""
        kinds, values = self.kinds, self.values
        kind, value = kinds[self.i], values[self.i]
        if kind != "i" and kind != "q":
            raise self.fail("a name")
        self.i += 1
        if kind == "q":
            while kinds[self.i] == "p" and values[self.i] == "+" and kinds[self.i + 1] == "q":
                value += values[self.i + 1]
                self.i += 2
        return value

    # grammar
    def parse(self) -> DagittySpec:
        if self.is_word({"strict"}):
            self.i += 1
            if not self.is_word(_KINDS):
                raise self.fail("a graph type after 'strict'")
        header = self.is_word(_KINDS) and (self.is_punct("{", 1) or (
            self.kinds[self.i + 1] in ("i", "q") and self.is_punct("{", 2)))
        if header:
            kind = self.values[self.i].lower()
            self.i += 1
            if kind == "pdag":
                if not self.pdag:
                    raise GraphError("this is a 'pdag' text (a CPDAG / partially directed "
                                     "graph, a class of DAGs): read it with "
                                     "causalkit.dags.CausalPDAG.from_dagitty")
                self.kind = "pdag"
            elif kind not in ("dag", "digraph"):
                raise GraphError(f"only 'dag' graphs are supported, not {kind!r}: a causal "
                                 "DAG has directed (->) and bidirected (<->) edges only")
            if self.kinds[self.i] in ("i", "q"):
                self.i += 1              # the graph's name
            self.expect_punct("{")
            self.statements(collect=False)
            self.expect_punct("}")
        else:
            self.statements(collect=False)
        if self.kinds[self.i] != "e":
            raise self.fail("the end of the text")
        return DagittySpec(
            nodes=list(self.nodes), directed=self.directed, bidirected=self.bidirected,
            positions=self.positions, bounding_box=self.bounding_box,
            undirected=self.undirected, kind=self.kind,
            **{m: list(v) for m, v in self.marks.items()})

    def statements(self, collect: bool) -> list:
        """Statements up to a closing '}' (not consumed); with ``collect``, the nodes they
        mention, in order (for a subgraph used as an edge end)."""
        seen: dict = {}
        kinds, values = self.kinds, self.values
        while True:
            kind = kinds[self.i]
            if kind == "e" or (kind == "p" and values[self.i] == "}"):
                return list(seen)
            if kind == "p" and values[self.i] in (";", ","):
                self.i += 1
                continue
            mentioned = self.statement()
            if collect:
                for node in mentioned:
                    seen[node] = None

    def statement(self) -> list:
        kinds, values = self.kinds, self.values
        kind, value = kinds[self.i], values[self.i]
        if kind == "i" and type(value) is str and len(value) <= 8 and value.lower() in _SPECIAL:
            if value.lower() == "graph" and self.is_punct("[", 1):
                self.i += 1
                self.graph_attributes(self.attribute_list())
                return []
            if value.lower() != "subgraph":
                raise self.keyword()
        if (kind == "i" or kind == "q") and self.is_punct("=", 1):
            key = self.name()
            self.i += 1
            self.graph_attributes([(key, self.name())])
            return []
        left = self.term()
        mentioned = list(left)
        n_terms = 1
        directed, bidirected = self.directed, self.bidirected
        while kinds[self.i] == "a":
            a, at = values[self.i], self.i
            self.i += 1
            right = self.term()
            mentioned += right
            if a == "->":
                directed.extend([(u, v) for u in left for v in right])
            elif a == "<-":
                directed.extend([(v, u) for u in left for v in right])
            elif a == "<->":
                bidirected.extend([(u, v) for u in left for v in right])
            elif a == "--" and self.kind == "pdag":
                self.undirected.extend([(u, v) for u in left for v in right])
            else:
                what = "undirected" if a == "--" else "partially directed"
                hint = (" (for a CPDAG write 'pdag { ... }' and read it with "
                        "CausalPDAG.from_dagitty)" if a == "--" else "")
                raise GraphError(f"{what} edge {a!r} at {self.where(at)}: a causal DAG needs "
                                 f"directed (->) or bidirected (<->) edges{hint}")
            left = right
            n_terms += 1
        while kinds[self.i] == "p" and values[self.i] == "[":
            attrs = self.attribute_list()
            if n_terms == 1:
                for node in left:
                    self.node_attributes(node, attrs)
            else:
                self.edge_attributes(attrs)
        return mentioned

    def term(self) -> list:
        kind, value = self.kinds[self.i], self.values[self.i]
        if kind == "i":
            if type(value) is str and len(value) <= 8 and value.lower() in _SPECIAL:
                if value.lower() != "subgraph":
                    raise self.keyword()
                self.i += 1
                if self.kinds[self.i] in ("i", "q"):
                    self.i += 1
                kind, value = self.kinds[self.i], self.values[self.i]
            else:
                self.i += 1
                if value not in self.nodes:
                    self.nodes[value] = None
                return [value]
        if kind == "q":
            name = self.name()
            if name not in self.nodes:
                self.nodes[name] = None
            return [name]
        if kind == "p" and value == "{":
            self.i += 1
            nodes = self.statements(collect=True)
            self.expect_punct("}")
            return nodes
        raise self.fail("a node name")

    def attribute_list(self) -> list[tuple[Any, Any]]:
        start = self.i
        self.expect_punct("[")
        attrs: list[tuple[Any, Any]] = []
        while not self.is_punct("]"):
            if self.kinds[self.i] == "e":
                raise GraphError(f"unclosed '[' at {self.where(start)}")
            if self.is_punct(",") or self.is_punct(";"):
                self.i += 1
                continue
            key = self.name()
            value = None
            if self.is_punct("="):
                self.i += 1
                value = self.name()
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


def parse_dagitty(text: str, pdag: bool = False) -> DagittySpec:
    """Parse DAGitty syntax into a :class:`DagittySpec` (GraphError with line and column on bad syntax).

    With ``pdag=True`` a ``pdag { ... }`` text is accepted and its ``--`` edges
    are the spec's ``undirected`` pairs; otherwise a ``pdag`` text is an error.

    >>> spec = parse_dagitty("pdag { A -- B -> C }", pdag=True)
    >>> spec.kind, spec.undirected, spec.directed
    ('pdag', [('A', 'B')], [('B', 'C')])
    """
    if not isinstance(text, str):
        raise GraphError(f"DAGitty text must be a string, got {type(text).__name__}")
    return _Parser(text.removeprefix("\ufeff"), pdag=pdag).parse()


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
    yield f"{spec.kind} {{"
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
    for a, b in spec.undirected:
        yield f"{quote(a)} -- {quote(b)}"
    yield "}"


def write_dagitty(spec: DagittySpec) -> str:
    """DAGitty text for ``spec``, one statement per line (``parse_dagitty`` reads it back exactly)."""
    for v in ([] if spec.bounding_box is None else list(spec.bounding_box)) + \
            [c for p in spec.positions.values() for c in p]:
        if not math.isfinite(v):
            raise GraphError(f"positions and the bounding box must be finite, got {v!r}")
    return "\n".join(_lines(spec))

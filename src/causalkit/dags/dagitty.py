"""Reading and writing the DAGitty graph syntax.

Supported: ``dag { ... }`` (or bare statements), ``;``, ``,`` and newlines as
separators, chains ``A -> B -> C``, ``<-``, ``<->`` (a hidden common cause),
groups ``{A B} -> C``, quoted names, and node attributes ``exposure``,
``outcome``, ``latent``, ``adjusted`` with their one-letter forms ``e``, ``o``,
``l`` (also ``u``), ``a``; other attributes such as ``pos="1,2"`` are ignored.

Example
-------
>>> spec = parse_dagitty('dag { X [exposure]; Y [outcome]; Z -> X -> Y <- Z; A <-> X }')
>>> sorted(spec.directed), spec.bidirected, spec.exposure, spec.outcome
([('X', 'Y'), ('Z', 'X'), ('Z', 'Y')], [('A', 'X')], ['X'], ['Y'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import GraphError

_TOKEN = re.compile(r'\s*(?:(?P<q>"(?:[^"\\]|\\.)*")|(?P<arrow><->|->|<-|--)|'
                    r'(?P<punct>[{}\[\];,=])|(?P<nl>\n)|'
                    r'(?P<name>[^\s{}\[\];,="<>-](?:[^\s{}\[\];,="<>-]|-(?![->]))*))', re.S)
_KINDS = {"dag", "digraph", "graph", "pdag", "mag", "pag"}
_ATTRS = {"exposure": "exposure", "e": "exposure", "outcome": "outcome", "o": "outcome",
          "latent": "latent", "l": "latent", "u": "latent", "unobserved": "latent",
          "adjusted": "adjusted", "a": "adjusted", "selected": "adjusted"}
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


@dataclass
class DagittySpec:
    """What a DAGitty text declares: nodes in order, edges and node attributes."""

    nodes: list[str] = field(default_factory=list)
    directed: list[tuple[str, str]] = field(default_factory=list)
    bidirected: list[tuple[str, str]] = field(default_factory=list)
    exposure: list[str] = field(default_factory=list)
    outcome: list[str] = field(default_factory=list)
    latent: list[str] = field(default_factory=list)
    adjusted: list[str] = field(default_factory=list)

    def add_node(self, name: str) -> None:
        if name not in self.nodes:
            self.nodes.append(name)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = re.sub(r"//[^\n]*|#[^\n]*", "", text)
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            snippet = text[pos:pos + 20].strip()
            raise GraphError(f"cannot parse the DAGitty text near {snippet!r}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "q":
            value, kind = value[1:-1].replace('\\"', '"'), "name"
        out.append((kind, value))
    return out


def parse_dagitty(text: str) -> DagittySpec:
    """Parse DAGitty syntax into a :class:`DagittySpec` (raises GraphError on bad syntax)."""
    if not isinstance(text, str):
        raise GraphError(f"DAGitty text must be a string, got {type(text).__name__}")
    toks = _tokens(text)
    if toks and toks[0] == ("name", toks[0][1]) and toks[0][1].lower() in _KINDS:
        kind = toks[0][1].lower()
        if kind not in {"dag", "digraph"}:
            raise GraphError(f"only 'dag' graphs are supported, not {kind!r}")
        toks = toks[1:]
        if toks and toks[0][0] == "name":
            toks = toks[1:]  # optional graph name
        toks = [t for t in toks if t[0] != "nl"]
        if not toks or toks[0] != ("punct", "{") or toks[-1] != ("punct", "}"):
            raise GraphError("DAGitty text must look like 'dag { ... }'")
        toks = toks[1:-1]
    spec = DagittySpec()
    i = 0

    def term() -> list[str]:
        nonlocal i
        if i < len(toks) and toks[i] == ("punct", "{"):
            i += 1
            names = []
            while i < len(toks) and toks[i] != ("punct", "}"):
                if toks[i][0] == "name":
                    names.append(toks[i][1])
                elif toks[i] not in (("punct", ","), ("punct", ";"), ("nl", "\n")):
                    raise GraphError(f"unexpected {toks[i][1]!r} inside a node group")
                i += 1
            if i == len(toks):
                raise GraphError("unclosed '{' in the DAGitty text")
            i += 1
            return names
        if i < len(toks) and toks[i][0] == "name":
            i += 1
            return [toks[i - 1][1]]
        got = toks[i][1] if i < len(toks) else "end of text"
        raise GraphError(f"expected a node name in the DAGitty text, got {got!r}")

    def attributes() -> list[str]:
        nonlocal i
        i += 1  # '['
        found, depth_start = [], i
        while i < len(toks) and toks[i] != ("punct", "]"):
            kind, val = toks[i]
            if kind == "name" and not (i + 1 < len(toks) and toks[i + 1] == ("punct", "=")) \
                    and not (i > depth_start and toks[i - 1] == ("punct", "=")):
                if val.lower() not in _ATTRS:
                    raise GraphError(f"unknown node attribute {val!r}; use exposure, outcome, "
                                     "latent or adjusted")
                found.append(_ATTRS[val.lower()])
            i += 1
        if i == len(toks):
            raise GraphError("unclosed '[' in the DAGitty text")
        i += 1
        return found

    while i < len(toks):
        if toks[i][0] == "nl" or toks[i] in (("punct", ";"), ("punct", ",")):
            i += 1
            continue
        left = term()
        for n in left:
            spec.add_node(n)
        n_terms = 1
        while i < len(toks) and toks[i][0] == "arrow":
            arrow = toks[i][1]
            i += 1
            while i < len(toks) and toks[i][0] == "nl":
                i += 1
            right = term()
            for n in right:
                spec.add_node(n)
            for a in left:
                for b in right:
                    if arrow == "->":
                        spec.directed.append((a, b))
                    elif arrow == "<-":
                        spec.directed.append((b, a))
                    elif arrow == "<->":
                        spec.bidirected.append((a, b))
                    else:
                        raise GraphError(f"undirected edge {a} -- {b}: a causal DAG needs "
                                         "directed (->) or bidirected (<->) edges")
            left = right
            n_terms += 1
        if i < len(toks) and toks[i] == ("punct", "["):
            attrs = attributes()
            if n_terms == 1:
                for n in left:
                    for a in attrs:
                        lst = getattr(spec, a)
                        if n not in lst:
                            lst.append(n)
    return spec


def quote(name: str) -> str:
    """A node name as DAGitty writes it (quoted when not a plain identifier)."""
    name = str(name)
    if _PLAIN.match(name) and name.lower() not in _KINDS | {"node", "edge"}:
        return name
    return '"' + name.replace('"', '\\"') + '"'


def write_dagitty(spec: DagittySpec) -> str:
    """DAGitty text for ``spec``, one statement per line."""
    lines = ["dag {"]
    for n in spec.nodes:
        attrs = [a for a in ("exposure", "outcome", "latent", "adjusted") if n in getattr(spec, a)]
        lines.append(f"{quote(n)} [{','.join(attrs)}]" if attrs else quote(n))
    lines += [f"{quote(a)} -> {quote(b)}" for a, b in spec.directed]
    lines += [f"{quote(a)} <-> {quote(b)}" for a, b in spec.bidirected]
    lines.append("}")
    return "\n".join(lines)

"""Provenance tags of scenario parameters (docs/scenario-format.md, "Provenance tags").

Every value a shipped scenario sets says in a comment where it comes from:

    q = 0.4              # [literature: Bass 1969]
    appeal = -4.1        # [calibrated: scenarios/calibrated/de_energy_coops.calibration.toml]
    partners = 8         # [assumed]
    [network]            # [assumed]     <- a tag on a table header covers the table's keys

The tag is `[kind]` or `[kind: text]` in the line's comment, kind one of `calibrated`,
`literature`, `assumed`; `calibrated` and `literature` need their text (the calibration file,
the reference). `parse` reads a scenario's text (no TOML library: comments are the point) and
returns every key it sets with its tag or None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("calibrated", "literature", "assumed")
TAG = re.compile(r"\[(calibrated|literature|assumed)(?::\s*([^\]]*))?\]")
# Keys that are not model parameters: names, the file chain, the seed, workshop-mode settings.
EXEMPT_TOP = {"name", "description", "extends", "seed"}
EXEMPT_TABLES = ("workshop",)
KEY = re.compile(r'\s*((?:[A-Za-z0-9_-]+|"[^"]*")(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"))*)\s*=')
HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")


@dataclass
class Entry:
    key: str  # dotted key path ("network.partners", "events[2].value")
    line: int  # 1-based line where the key is set
    kind: str | None  # calibrated, literature, assumed, or None (untagged)
    source: str  # the tag's text ("" for a bare [assumed])
    problem: str = ""  # what is wrong with the tag, if anything


def _split_comment(line: str) -> tuple[str, str]:
    """The code part and the comment of one line (a # inside a string is not a comment)."""
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            return line[:i], line[i + 1:]
        i += 1
    return line, ""


def _depth(code: str) -> int:
    """Net bracket depth ([ { minus ] }) of a line's code, strings skipped."""
    d, quote, i = 0, None, 0
    while i < len(code):
        c = code[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in "[{":
            d += 1
        elif c in "]}":
            d -= 1
        i += 1
    return d


def _tag(comment: str):
    m = TAG.search(comment)
    if not m:
        return None
    return m.group(1), (m.group(2) or "").strip()


def parse(text: str) -> list[Entry]:
    """Every key the scenario text sets, with its provenance tag (or None)."""
    entries: list[Entry] = []
    table, table_tag = "", None
    counts: dict[str, int] = {}
    depth = 0  # inside a multi-line value
    for n, raw in enumerate(text.splitlines(), start=1):
        code, comment = _split_comment(raw)
        if depth > 0:
            depth += _depth(code)
            continue
        if not code.strip():
            continue
        h = HEADER.match(code)
        if h and not KEY.match(code):
            name = re.sub(r"\s+", "", h.group(2))
            if h.group(1) == "[[":
                i = counts.get(name, 0)
                counts[name] = i + 1
                table = f"{name}[{i}]"
            else:
                table = name
            table_tag = _tag(comment)
            continue
        k = KEY.match(code)
        if not k:
            continue
        depth = _depth(code[k.end():])
        key = re.sub(r"\s+", "", k.group(1))
        full = f"{table}.{key}" if table else key
        root = full.split(".")[0].split("[")[0]
        if (not table and key in EXEMPT_TOP) or root in EXEMPT_TABLES:
            continue
        tag = _tag(comment) or table_tag
        e = Entry(full, n, tag[0] if tag else None, tag[1] if tag else "")
        if tag and tag[0] in ("calibrated", "literature") and not tag[1]:
            e.problem = f"[{tag[0]}] needs its source ([{tag[0]}: ...])"
        entries.append(e)
    return entries


def problems(text: str, where: str = "") -> list[str]:
    """One message per key without a usable tag: 'FILE:LINE: KEY: ...'."""
    out = []
    for e in parse(text):
        if e.kind is None:
            out.append(f"{where}:{e.line}: {e.key}: no provenance tag "
                       "([calibrated: FILE], [literature: REF] or [assumed])")
        elif e.problem:
            out.append(f"{where}:{e.line}: {e.key}: {e.problem}")
    return out


def summary(files: list[tuple[str, str]]) -> list[tuple[Entry, str]]:
    """The effective tags of a scenario read from several files, (file name, text) with the
    scenario first and then each base of its extends chain: a value set in a file hides what
    its bases set under the same key (an array such as `innovations` replaced whole hides the
    base's entries); `[[events]]` are appended along the chain, so every file's events count.
    Returns (entry, file name) pairs, the scenario's own first."""
    out: list[tuple[Entry, str]] = []
    hidden: set[str] = set()
    for name, text in files:
        here = []
        for e in parse(text):
            root = _root(e.key)
            if root != "events" and any(_under(e.key, h) for h in hidden):
                continue
            here.append(e)
            out.append((e, name))
        for e in here:
            root = _root(e.key)
            if root == "events":
                continue
            # an array element (innovations[0].q) hides the whole array of the base
            hidden.add(root if _is_array(e.key) else e.key)
    return out


def _root(key: str) -> str:
    return key.split(".")[0].split("[")[0]


def _is_array(key: str) -> bool:
    return "[" in key.split(".")[0]


def _under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".") or key.startswith(prefix + "[")


def counts(entries) -> dict[str, int]:
    """How many keys of each kind (and untagged) a list of entries holds."""
    c = {k: 0 for k in KINDS}
    c["untagged"] = 0
    for e in entries:
        e = e[0] if isinstance(e, tuple) else e
        c[e.kind or "untagged"] += 1
    return c


def chain(path) -> list[tuple[str, str]]:
    """(file name, text) of a scenario file and each base of its `extends` chain, in that order."""
    import tomllib
    from pathlib import Path
    out, path, seen = [], Path(path), set()
    while path is not None and len(out) < 16 and path.resolve() not in seen:
        seen.add(path.resolve())
        text = path.read_text(encoding="utf-8")
        out.append((str(path), text))
        ext = tomllib.loads(text).get("extends")
        path = path.parent / ext if ext else None
    return out


def effective(files: list[tuple[str, str]]) -> dict[str, Entry]:
    """key -> its effective tag entry over an extends chain (see summary); events excluded."""
    return {e.key: e for e, _ in summary(files) if _root(e.key) != "events"}


def tag_text(e: Entry | None) -> str:
    """The tag as written in a file: '[assumed]', '[literature: Bass 1969]'."""
    if e is None or e.kind is None:
        return "[assumed: untagged in the base scenario]"
    return f"[{e.kind}: {e.source}]" if e.source else f"[{e.kind}]"

#!/usr/bin/env python3
"""Checks that the library's layers only point down (docs/ARCHITECTURE.md).

Reads every non-test file under SRC (default: src), collects the `crate::`
paths it names (in `use` items and inline, comments excluded), resolves
paths through the crate root's re-exports (`crate::Error` is
`types::error::Error`), and reports:

  - an import from a lower layer to a higher one;
  - a top-level module that LAYERS does not place;
  - an import cycle between files, or between top-level modules.

Test code (`*_tests.rs`, `tests.rs`, `test_*.rs`, `rules_tests/`,
`test_support/` and `#[cfg(test)] mod` blocks) is exempt: tests may
build fixtures from any layer.

Usage: check_layers.py [SRC]        exit 0 when clean, 1 otherwise
       check_layers.py --self-test  checks that violations are found
"""
import os
import re
import sys
import tempfile

# Bottom to top. A file may import from its own layer and the layers
# below it; modules that share a layer must not import each other in a
# cycle.
LAYERS = [
    ("codec", ["codec", "trace"]),
    ("crypto", ["crypto"]),
    ("types", ["types"]),
    ("storage", ["storage", "parallel"]),
    ("tree", ["tree"]),
    ("schedule", ["schedule"]),
    ("messages", ["messages"]),
    ("framing", ["framing"]),
    ("group", ["group"]),
    ("persist", ["persist"]),
    ("api", ["api", "wire"]),
]

TEST = re.compile(
    r"(^|/)(tests?|[a-z_]*_tests?|test_[a-z_]+|rules_tests)(\.rs|/)"
)


def rank_of(module):
    for i, (_, members) in enumerate(LAYERS):
        if module in members:
            return i
    return None


def strip_comments(text):
    return re.sub(r"//[^\n]*", "", text)


def strip_test_mods(text):
    out, i = [], 0
    pat = r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{"
    for m in re.finditer(pat, text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def split_top(body):
    depth, cur, parts = 0, "", []
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def expand(body, prefix=()):
    """Expands a use tree into (path segments, local name) pairs."""
    body = body.strip()
    m = re.match(r"^((?:\w+::)*)\{(.*)\}$", body, re.S)
    if m:
        pre = prefix + tuple(s for s in m.group(1).split("::") if s)
        for part in split_top(m.group(2)):
            yield from expand(part, pre)
        return
    path, _, alias = body.partition(" as ")
    segs = [s.strip() for s in path.split("::") if s.strip()]
    if segs:
        yield list(prefix) + segs, (alias.strip() or segs[-1])


def root_aliases(src):
    """Names the crate root re-exports: `Error` -> ['types', 'error', 'Error']."""
    lib = os.path.join(src, "lib.rs")
    if not os.path.exists(lib):
        return {}
    text = strip_comments(open(lib, encoding="utf-8").read())
    aliases = {}
    for m in re.finditer(r"pub(?:\([^)]*\))?\s+use\s+([^;]+);", text, re.S):
        for segs, name in expand(m.group(1)):
            if segs and segs[0] == "crate":
                segs = segs[1:]
            if name != "self":
                aliases[name] = segs
    return aliases


def source_files(src):
    for root, _, names in os.walk(src):
        for n in names:
            if n.endswith(".rs"):
                p = os.path.relpath(os.path.join(root, n), src).replace(os.sep, "/")
                if p != "lib.rs" and not TEST.search(p):
                    yield p


def module_of(path):
    parts = path[:-3].split("/")
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def crate_paths(text):
    text = strip_comments(text)
    for m in re.finditer(r"\buse\s+crate::([^;]+);", text, re.S):
        for segs, _ in expand(m.group(1)):
            yield segs
    body = re.sub(r"\buse\s+crate::[^;]+;", "", text, flags=re.S)
    for m in re.finditer(r"\bcrate::((?:\w+::)*\w+)", body):
        yield m.group(1).split("::")


def sccs(graph):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def check(src):
    """Returns the list of violations found under `src`."""
    files = sorted(source_files(src))
    mods = {module_of(p): p for p in files}
    aliases = root_aliases(src)
    problems = []
    edges = {}

    def resolve(segs):
        seen = 0
        while segs and tuple(segs[:1]) not in mods and segs[0] in aliases and seen < 8:
            segs = aliases[segs[0]] + segs[1:]
            seen += 1
        for k in range(len(segs), 0, -1):
            if tuple(segs[:k]) in mods:
                return mods[tuple(segs[:k])]
        return None

    for f in files:
        top = module_of(f)[0]
        if rank_of(top) is None:
            problems.append(f"{f}: module `{top}` has no layer in LAYERS")
            continue
        text = strip_test_mods(open(os.path.join(src, f), encoding="utf-8").read())
        for segs in crate_paths(text):
            target = resolve(segs)
            if not target or target == f:
                continue
            edges.setdefault(f, set()).add(target)
            ttop = module_of(target)[0]
            r_from, r_to = rank_of(top), rank_of(ttop)
            if r_to is not None and r_to > r_from:
                problems.append(
                    f"{f} ({LAYERS[r_from][0]}) imports crate::{'::'.join(segs)} "
                    f"from {target} ({LAYERS[r_to][0]}): a lower layer must not "
                    "use a higher one"
                )

    for cycle in sccs(edges):
        problems.append("file cycle: " + " <-> ".join(cycle))
    medges = {}
    for a, targets in edges.items():
        for b in targets:
            ma, mb = module_of(a)[0], module_of(b)[0]
            if ma != mb:
                medges.setdefault(ma, set()).add(mb)
    for cycle in sccs(medges):
        problems.append("module cycle: " + " <-> ".join(cycle))
    return sorted(set(problems)), len(files), sum(len(t) for t in edges.values())


def self_test():
    """A tiny crate with one violation of each kind must report all three."""
    with tempfile.TemporaryDirectory() as d:
        def put(path, text):
            full = os.path.join(d, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as fh:
                fh.write(text)

        put("lib.rs", "pub use types::error::Error;\n")
        put("types/mod.rs", "pub mod error;\n")
        put("types/error.rs", "pub struct Error;\n")
        # Upward: tree uses group; through a root alias: codec uses Error.
        put("tree/mod.rs", "use crate::group::engine::State;\n")
        put("codec/mod.rs", "use crate::Error;\n")
        # A cycle inside group.
        put("group/mod.rs", "pub mod a;\npub mod b;\n")
        put("group/a.rs", "use crate::group::b::B;\npub struct A;\n")
        put("group/b.rs", "use crate::group::a::A;\npub struct B;\n")
        put("group/engine.rs", "pub struct State;\n")
        # Unplaced module; and test code, which is exempt.
        put("extra.rs", "pub struct X;\n")
        put("codec/tests.rs", "use crate::group::engine::State;\n")
        put("crypto/mod.rs", "#[cfg(test)]\nmod t { use crate::group::a::A; }\n")
        problems, _, _ = check(d)
    expected = [
        "tree/mod.rs (tree) imports crate::group::engine::State",
        "codec/mod.rs (codec) imports crate::Error",
        "file cycle: group/a.rs <-> group/b.rs",
        "extra.rs: module `extra` has no layer",
    ]
    missing = [e for e in expected if not any(p.startswith(e) for p in problems)]
    unexpected = [p for p in problems if not any(p.startswith(e) for e in expected)]
    for m in missing:
        print("self-test: not reported:", m)
    for u in unexpected:
        print("self-test: reported wrongly:", u)
    return not missing and not unexpected


def main():
    if sys.argv[1:] == ["--self-test"]:
        ok = self_test()
        print("layer check self-test:", "ok" if ok else "FAILED")
        sys.exit(0 if ok else 1)
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    problems, nfiles, nedges = check(src)
    for p in problems:
        print(p)
    order = " -> ".join(name for name, _ in LAYERS)
    print(f"layers {order}: {len(problems)} problems ({nfiles} files, {nedges} imports)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Tables and plot of interop/benches/peers.rs from criterion's output.

Reads <criterion dir>/<operation>/<implementation>/<n>/new/estimates.json
(the median of the last run of each benchmark), prints Markdown tables
(median per implementation, and each implementation's ratio to the best
peer) and writes an SVG plot of time against n for bulk add, join and
update create. Plain Python 3, no packages.

    python3 scripts/bench_plot.py [CRITERION_DIR] [--svg docs/benchmarks.svg] [--cores N]

It also prints arbor's join and update_create as ratios to their floors:
n × primitives/arbor/ed25519_verify and (n − 1) ×
primitives/arbor/hpke_seal, divided by the cores the engine uses
(`std::thread::available_parallelism`, `crate::parallel::cores`): by
default os.cpu_count() of the machine running the script, else --cores.

CRITERION_DIR defaults to $CARGO_TARGET_DIR/criterion, else target/criterion.
"""

import json
import math
import os
import sys

OPERATIONS = [
    ("bulk_add", "create + add n-1 in one commit + Welcome"),
    ("join", "join from the Welcome (tree in-band)"),
    ("update_create", "update commit, create (n-1 HPKE seals)"),
    ("update_process", "process that update commit"),
    ("add_one", "add one member, create"),
    ("app_encrypt", "application message, encrypt (100 B)"),
    ("app_decrypt", "application message, decrypt (100 B)"),
]
IMPLS = ["arbor", "openmls", "mls-rs"]
PEERS = ["openmls", "mls-rs"]
PLOTTED = ["bulk_add", "join", "update_create"]
COLOURS = {"arbor": "#1b7837", "openmls": "#2166ac", "mls-rs": "#b2182b"}


# Floors of the full client (issue 30): an operation's time against n
# single-threaded references split over the cores. (operation, reference
# benchmark under primitives/arbor/, count of references at n members).
FLOORS = [
    ("join", "ed25519_verify", lambda n: n, "n × verify"),
    ("update_create", "hpke_seal", lambda n: n - 1, "(n−1) × seal"),
]


def load_primitives(root):
    """{reference: median seconds} of primitives/arbor/*."""
    out = {}
    # criterion stores primitives/arbor/x as primitives/arbor_x.
    base = os.path.join(root, "primitives")
    if not os.path.isdir(base):
        return out
    for name in os.listdir(base):
        path = os.path.join(base, name, "new", "estimates.json")
        if name.startswith("arbor_") and os.path.exists(path):
            with open(path) as f:
                out[name[len("arbor_"):]] = json.load(f)["median"]["point_estimate"] / 1e9
    return out


def floor_table(data, primitives, cores):
    """arbor's join and update_create as ratios to their floors."""
    out = [
        f"### arbor against its floor ({cores} cores)\n",
        "| operation | n | arbor | reference | floor | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = 0
    for op, ref, count, label in FLOORS:
        if ref not in primitives:
            continue
        for n, t in sorted(data.get(op, {}).get("arbor", {}).items()):
            floor = count(n) * primitives[ref] / cores
            out.append(
                f"| `{op}` | {n:,} | {fmt(t)} | {label} ÷ {cores} "
                f"({fmt(primitives[ref])} each) | {fmt(floor)} | {t / floor:.2f} |"
            )
            rows += 1
    out.append("")
    return "\n".join(out) if rows else ""


def load(root):
    """{operation: {impl: {n: median seconds}}}"""
    data = {}
    for op, _ in OPERATIONS:
        for impl in IMPLS:
            base = os.path.join(root, op, impl)
            if not os.path.isdir(base):
                continue
            for n in os.listdir(base):
                path = os.path.join(base, n, "new", "estimates.json")
                if not n.isdigit() or not os.path.exists(path):
                    continue
                with open(path) as f:
                    median = json.load(f)["median"]["point_estimate"]
                data.setdefault(op, {}).setdefault(impl, {})[int(n)] = median / 1e9
    return data


def fmt(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def tables(data):
    out = []
    for op, title in OPERATIONS:
        if op not in data:
            continue
        sizes = sorted({n for per in data[op].values() for n in per})
        out.append(f"### `{op}`: {title}\n")
        out.append("| n | arbor | openmls | mls-rs | arbor ÷ best peer |")
        out.append("|---:|---:|---:|---:|---:|")
        for n in sizes:
            row = [data[op].get(i, {}).get(n) for i in IMPLS]
            peers = [data[op].get(p, {}).get(n) for p in PEERS]
            peers = [p for p in peers if p is not None]
            ratio = ""
            if row[0] is not None and peers:
                ratio = f"{row[0] / min(peers):.2f}"
            cells = [fmt(t) if t is not None else "—" for t in row]
            out.append(f"| {n:,} | " + " | ".join(cells) + f" | {ratio} |")
        out.append("")
    return "\n".join(out)


def svg(data):
    """Three log-log panels side by side, one line per implementation."""
    width, height, pad = 300, 260, 55
    panels = [op for op in PLOTTED if op in data]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * len(panels)}" '
        f'height="{height + 40}" font-family="sans-serif" font-size="11">',
        f'<rect width="100%" height="100%" fill="white"/>',
    ]
    for k, op in enumerate(panels):
        x0 = k * width
        points = [(n, t) for per in data[op].values() for n, t in per.items()]
        ns = [n for n, _ in points]
        ts = [t for _, t in points]
        lx0, lx1 = math.log2(min(ns)), math.log2(max(ns))
        ly0, ly1 = math.floor(math.log10(min(ts))), math.ceil(math.log10(max(ts)))
        if lx1 == lx0:
            lx1 += 1
        if ly1 == ly0:
            ly1 += 1

        def px(n):
            return x0 + pad + (math.log2(n) - lx0) / (lx1 - lx0) * (width - pad - 15)

        def py(t):
            return 20 + (ly1 - math.log10(t)) / (ly1 - ly0) * (height - 50)

        parts.append(
            f'<text x="{x0 + width / 2}" y="14" text-anchor="middle" '
            f'font-weight="bold">{op}</text>'
        )
        for e in range(ly0, ly1 + 1):
            y = py(10**e)
            parts.append(
                f'<line x1="{x0 + pad}" x2="{x0 + width - 15}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#ddd"/>'
            )
            parts.append(
                f'<text x="{x0 + pad - 4}" y="{y + 4:.1f}" text-anchor="end">'
                f"{fmt(10**e)}</text>"
            )
        for n in sorted(set(ns)):
            x = px(n)
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="20" y2="{height - 30}" stroke="#eee"/>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{height - 16}" text-anchor="middle">{n}</text>'
            )
        parts.append(
            f'<text x="{x0 + width / 2}" y="{height - 2}" text-anchor="middle">members n</text>'
        )
        for impl in IMPLS:
            per = data[op].get(impl)
            if not per:
                continue
            coords = " ".join(f"{px(n):.1f},{py(t):.1f}" for n, t in sorted(per.items()))
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{COLOURS[impl]}" '
                f'stroke-width="2"/>'
            )
            for n, t in per.items():
                parts.append(
                    f'<circle cx="{px(n):.1f}" cy="{py(t):.1f}" r="3" fill="{COLOURS[impl]}"/>'
                )
    for j, impl in enumerate(IMPLS):
        x = 20 + j * 110
        parts.append(
            f'<rect x="{x}" y="{height + 18}" width="14" height="4" fill="{COLOURS[impl]}"/>'
        )
        parts.append(f'<text x="{x + 18}" y="{height + 24}">{impl}</text>')
    parts.append(
        f'<text x="{width * len(panels) - 10}" y="{height + 24}" text-anchor="end">'
        "median wall time, log-log</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv):
    svg_path = None
    # The engine splits its seals and verifications over
    # std::thread::available_parallelism() threads; this is the same count
    # on the machine that ran the bench.
    cores = os.cpu_count() or 1
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--svg":
            svg_path = argv[i + 1]
            i += 2
        elif argv[i] == "--cores":
            cores = int(argv[i + 1])
            i += 2
        else:
            args.append(argv[i])
            i += 1
    root = args[0] if args else os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "criterion"
    )
    data = load(root)
    if not data:
        sys.exit(f"no results of benches/peers.rs under {root}")
    print(tables(data))
    print(floor_table(data, load_primitives(root), cores))
    if svg_path:
        with open(svg_path, "w") as f:
            f.write(svg(data))


if __name__ == "__main__":
    main(sys.argv[1:])

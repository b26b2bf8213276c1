#!/usr/bin/env python3
"""Charts (SVG) of the stack benchmark's results (stdlib only; any Python 3.11).

Reads the `stacks.json` files under bench/results/ (written by bench/stacks.py) and writes:

  plan-time.svg       `terraform plan` wall time (median, min-max whiskers) against the number
                      of stacks (production cluster + database pairs), one series per kind of
                      run that can be compared: reads answered by moto or replayed by the proxy
                      (`--replay`), release or debug build, the wiring. Runs under the
                      provisioning model (`--time-scale`) are left out: their latency is scaled.
  apply-timeline.svg  one apply of one production stack under the provisioning model
                      (`--time-scale`), in modelled minutes: a bar per Terraform resource from
                      its start to its end (`apply.timeline` in the json), against the critical
                      path the model allows (`critical_path_model`); one panel for the
                      paved_network design (critical-path/) and one for the database in the
                      cluster's own network (critical-path-before/).

The SVG is written by hand (no plotting library) and is deterministic: the same json gives
byte-identical files.

Usage:
  python3 bench/charts.py            # (re)write the charts in bench/results/
  python3 bench/charts.py --check    # exit 1 if a committed chart is not what the json gives
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TIMELINE_DIRS = ("critical-path", "critical-path-before")
CHARTS = ("plan-time.svg", "apply-timeline.svg")
TARGET_PLAN_50_SECONDS = 3.0  # bench/stacks.py: issue 13, a plan of 50 pairs with reads replayed

FONT = "Helvetica, Arial, sans-serif"
INK = "#222222"
GRID = "#dddddd"
MUTED = "#666666"
# Okabe-Ito: tells apart with colour blindness, and prints in grey.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
MARKERS = ("circle", "square", "diamond", "triangle")
RESOURCE_COLOURS = {"paved_network": "#7f7f7f", "paved_ha_cluster": "#0072B2", "paved_managed_database": "#D55E00"}


# ------------------------------------------------------------------------------------
# SVG helpers
# ------------------------------------------------------------------------------------


def num(x: float) -> str:
    """A coordinate: one decimal, no trailing zero, never "-0"."""
    s = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def text_width(text: str, size: float) -> float:
    """Rough width of TEXT in a sans-serif face (for layout only)."""
    return len(text) * size * 0.6


class Svg:
    def __init__(self, width: int, height: int, title: str, desc: str):
        self.width, self.height = width, height
        self.parts = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="title desc" '
            f'font-family="{FONT}" font-size="12" fill="{INK}">',
            f'<title id="title">{esc(title)}</title>',
            f'<desc id="desc">{esc(desc)}</desc>',
            # An opaque background: readable on GitHub's dark theme too.
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        ]

    def add(self, element: str) -> None:
        self.parts.append(element)

    def line(self, x1, y1, x2, y2, stroke=INK, width=1.0, dash: str | None = None, opacity: float | None = None):
        extra = (f' stroke-dasharray="{dash}"' if dash else "") + (f' stroke-opacity="{opacity}"' if opacity else "")
        self.add(f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" stroke="{stroke}" '
                 f'stroke-width="{width}"{extra}/>')

    def rect(self, x, y, w, h, fill="none", stroke: str | None = None, width=1.0, extra: str = ""):
        s = f' stroke="{stroke}" stroke-width="{width}"' if stroke else ""
        self.add(f'<rect x="{num(x)}" y="{num(y)}" width="{num(max(w, 0))}" height="{num(h)}" fill="{fill}"{s}{extra}/>')

    def text(self, x, y, content: str, size=12, anchor="start", weight: str | None = None, fill: str | None = None,
             rotate: float | None = None, baseline: str | None = None, halo: bool = False):
        attrs = f'x="{num(x)}" y="{num(y)}"'
        if size != 12:
            attrs += f' font-size="{size}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if weight:
            attrs += f' font-weight="{weight}"'
        if fill:
            attrs += f' fill="{fill}"'
        if baseline:
            attrs += f' dominant-baseline="{baseline}"'
        if halo:  # a white outline keeps the text readable where it crosses a line
            attrs += ' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
        if rotate is not None:
            attrs += f' transform="rotate({num(rotate)} {num(x)} {num(y)})"'
        self.add(f"<text {attrs}>{esc(content)}</text>")

    def marker(self, shape: str, x, y, colour: str, r=4.5):
        if shape == "circle":
            self.add(f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(r)}" fill="{colour}" stroke="#ffffff" stroke-width="1"/>')
        elif shape == "square":
            self.rect(x - r, y - r, 2 * r, 2 * r, fill=colour, stroke="#ffffff")
        elif shape == "diamond":
            r *= 1.3
            self.add(f'<polygon points="{num(x)},{num(y - r)} {num(x + r)},{num(y)} {num(x)},{num(y + r)} '
                     f'{num(x - r)},{num(y)}" fill="{colour}" stroke="#ffffff" stroke-width="1"/>')
        else:  # triangle
            r *= 1.2
            self.add(f'<polygon points="{num(x)},{num(y - r)} {num(x + r)},{num(y + r * 0.8)} '
                     f'{num(x - r)},{num(y + r * 0.8)}" fill="{colour}" stroke="#ffffff" stroke-width="1"/>')

    def render(self) -> str:
        return "\n".join(self.parts + ["</svg>", ""])


def fmt_seconds(s: float) -> str:
    if s >= 100:
        return f"{s:.0f} s"
    if s >= 10:
        return f"{s:.1f} s"
    return f"{s:.2f} s"


# ------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------


def load_results(results: Path) -> list[tuple[str, dict]]:
    """(path relative to RESULTS, json) of every stacks.json, in path order."""
    out = []
    for p in sorted(results.rglob("stacks.json"), key=lambda q: q.relative_to(results).as_posix()):
        out.append((p.relative_to(results).as_posix(), json.loads(p.read_text())))
    return out


def wiring(res: dict) -> str:
    # Results written before `--wiring` existed (and before paved_network) built the
    # database in the cluster's own network.
    return res.get("wiring") or "cluster"


def plan_series(results: list[tuple[str, dict]]) -> list[dict]:
    """One series per comparable kind of run: [{label, sources, points: [{n, median, min, max, runs}]}].
    Runs that differ in what answers the reads (moto or the proxy's records), the build, the
    wiring, the latency or the database's key are not comparable and get their own series; runs
    under the provisioning model (scaled latency) are left out. Where two results of a series
    measured the same size, the later one counts."""
    groups: dict[tuple, dict] = {}
    for path, res in results:
        if res.get("time_scale"):
            continue
        sizes = [s for s in res.get("sizes", []) if "error" not in s and s.get("plan", {}).get("seconds")]
        if not sizes:
            continue
        key = (bool(res.get("replay")), res.get("build", "?"), wiring(res), res.get("latency_ms"),
               res.get("db_key", "own"))
        g = groups.setdefault(key, {"key": key, "sources": [], "points": {}})
        g["sources"].append(path.rsplit("/", 1)[0] + "/" if "/" in path else path)
        for s in sizes:
            p = s["plan"]["seconds"]
            old = g["points"].get(s["n"])
            if old is None or res.get("date", "") >= old["date"]:
                g["points"][s["n"]] = {"n": s["n"], "median": p["median"], "min": p["min"], "max": p["max"],
                                       "runs": p.get("n", len(p.get("samples", []))), "date": res.get("date", ""),
                                       "source": g["sources"][-1]}
    series = []
    # Replayed first (the figure the target is about), then by build and wiring.
    for key in sorted(groups, key=lambda k: (not k[0], k[1] != "release", k[2] != "network", str(k[3]), k[4])):
        g = groups[key]
        replay, build, wire, latency, db_key = key
        label = ("reads replayed by the proxy" if replay else "reads answered by moto") + f", {build} build"
        label += ", paved_network" if wire == "network" else ", database in the cluster's network"
        if db_key != "own":
            label += ", database with the cluster's key"
        if latency != 50:
            label += f", {latency} ms latency"
        firsts = {path: min((p["n"] for p in g["points"].values() if p["source"] == path), default=0)
                  for path in g["sources"]}
        series.append({"label": label, "sources": sorted(g["sources"], key=lambda q: (firsts[q], q)), "replay": replay, "latency_ms": latency,
                       "points": [g["points"][n] for n in sorted(g["points"])]})
    return series


def boxes_overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def segment_hits_box(seg: tuple, box: tuple) -> bool:
    """Whether the segment (x1, y1, x2, y2) crosses the box (x0, y0, x1, y1): sampled every pixel."""
    x1, y1, x2, y2 = seg
    steps = max(1, int(max(abs(x2 - x1), abs(y2 - y1))))
    for k in range(steps + 1):
        x, y = x1 + (x2 - x1) * k / steps, y1 + (y2 - y1) * k / steps
        if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
            return True
    return False


# ------------------------------------------------------------------------------------
# plan time against stack count
# ------------------------------------------------------------------------------------


def plan_time_svg(results: list[tuple[str, dict]]) -> str:
    series = plan_series(results)
    W, H = 760, 500
    left, right, top = 78, 24, 54
    legend_h = 18 * len(series) + (18 if series else 0)
    bottom = 66 + legend_h
    pw, ph = W - left - right, H - top - bottom
    svg = Svg(W, H, "terraform plan wall time against the number of stacks",
              "Median wall time of terraform plan (whiskers: fastest and slowest run) for N production "
              "cluster + database pairs, 50 ms latency on every AWS call; log scale. "
              + "; ".join(f"{s['label']}: " + ", ".join(f"N={p['n']} {fmt_seconds(p['median'])}" for p in s["points"])
                          for s in series))
    svg.text(left, 24, "terraform plan wall time against the number of stacks", size=15, weight="bold")
    svg.text(left, 42, "median of the runs, whiskers min-max; every AWS call 50 ms late (paved-fault-proxy); "
             "log scale", size=11, fill=MUTED)
    values = [v for s in series for p in s["points"] for v in (p["min"], p["max"])]
    if not values:
        svg.text(left + pw / 2, top + ph / 2, "no plan timings in bench/results", anchor="middle")
        return svg.render()
    values.append(TARGET_PLAN_50_SECONDS)
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    n_max = max(p["n"] for s in series for p in s["points"])
    x_hi = max(10, math.ceil(n_max / 10) * 10)

    def X(n: float) -> float:
        return left + pw * n / x_hi

    def Y(v: float) -> float:
        return top + ph * (1 - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))

    # grid and axes
    decade = lo
    while decade <= hi * 1.0001:
        svg.line(left, Y(decade), left + pw, Y(decade), stroke=GRID)
        label = f"{decade:g} s" if decade < 1000 else f"{decade:,.0f} s"
        svg.text(left - 8, Y(decade) + 4, label, anchor="end", size=11)
        if decade < hi * 0.999:
            for m in (2, 5):
                svg.line(left, Y(decade * m), left + pw, Y(decade * m), stroke=GRID, dash="2 3")
                svg.text(left - 8, Y(decade * m) + 4, f"{decade * m:g}", anchor="end", size=9, fill=MUTED)
        decade *= 10
    step = 10 if x_hi > 20 else (5 if x_hi > 10 else 1)
    for n in range(0, x_hi + 1, step):
        svg.line(X(n), top, X(n), top + ph, stroke=GRID)
        svg.line(X(n), top + ph, X(n), top + ph + 5)
        svg.text(X(n), top + ph + 18, str(n), anchor="middle", size=11)
    svg.line(left, top + ph, left + pw, top + ph)
    svg.line(left, top, left, top + ph)
    svg.text(left + pw / 2, top + ph + 38, "stacks N (production paved_ha_cluster + paved_managed_database pairs)",
             anchor="middle")
    svg.text(20, top + ph / 2, "terraform plan wall time (seconds, log scale)", anchor="middle", rotate=-90)

    # What a value's label must not cover: the lines, whiskers, markers and the target.
    segments: list[tuple[float, float, float, float]] = []
    boxes: list[tuple[float, float, float, float]] = []

    # the target, where it applies: 50 pairs, reads replayed
    if any(s["replay"] and s["latency_ms"] == 50 and any(p["n"] == 50 for p in s["points"]) for s in series):
        y = Y(TARGET_PLAN_50_SECONDS)
        x0 = X(x_hi * 0.62)
        label = f"target: {TARGET_PLAN_50_SECONDS:g} s for 50 stacks, reads replayed"
        svg.line(x0, y, left + pw, y, stroke="#B00000", width=1.5, dash="6 4")
        svg.text(x0, y + 15, label, size=11, fill="#B00000", halo=True)
        segments.append((x0, y, left + pw, y))
        boxes.append((x0, y + 4, x0 + text_width(label, 11), y + 18))

    # series
    top_at: dict[int, float] = {}
    for s in series:
        for p in s["points"]:
            top_at[p["n"]] = max(top_at.get(p["n"], 0.0), p["median"])
    labels = []
    for i, s in enumerate(series):
        colour, shape = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
        pts = s["points"]
        xy = [(X(p["n"]), Y(p["median"])) for p in pts]
        if len(pts) > 1:
            svg.add(f'<polyline points="{" ".join(f"{num(x)},{num(y)}" for x, y in xy)}" fill="none" '
                    f'stroke="{colour}" stroke-width="1.5"/>')
            segments += [(*a, *b) for a, b in zip(xy, xy[1:])]
        for p, (x, y) in zip(pts, xy):
            if p["max"] > p["min"]:
                svg.line(x, Y(p["min"]), x, Y(p["max"]), stroke=colour, width=1.5)
                svg.line(x - 4, Y(p["min"]), x + 4, Y(p["min"]), stroke=colour, width=1.5)
                svg.line(x - 4, Y(p["max"]), x + 4, Y(p["max"]), stroke=colour, width=1.5)
                boxes.append((x - 4, Y(p["max"]), x + 4, Y(p["min"])))
            svg.marker(shape, x, y, colour)
            boxes.append((x - 6, y - 6, x + 6, y + 6))
            label = fmt_seconds(p["median"]) + (" (1 run)" if p["runs"] == 1 else "")
            labels.append((x, y, label, colour, p["median"] >= top_at[p["n"]]))
    # Each value's label goes in the first place around its point that covers nothing (the
    # slowest series at a size tries above first, the others below); labels drawn last.
    for x, y, label, colour, above in labels:
        w, h = text_width(label, 10.5), 11
        places = [(8, -9, "start"), (-8, -9, "end"), (8, 16, "start"), (-8, 16, "end"), (10, 4, "start"),
                  (-10, 4, "end")]
        if not above:
            places = places[2:4] + places[4:] + places[:2]
        best = None
        for dx, dy, anchor in places:
            x0 = x + dx if anchor == "start" else x + dx - w
            box = (x0, y + dy - h + 1, x0 + w, y + dy + 2)
            hits = sum(boxes_overlap(box, b) for b in boxes) + sum(segment_hits_box(sg, box) for sg in segments)
            if box[0] < left + 2 or box[2] > left + pw + 20 or box[1] < top - 14 or box[3] > top + ph:
                hits += 100
            if best is None or hits < best[0]:
                best = (hits, dx, dy, anchor, box)
            if hits == 0:
                break
        _, dx, dy, anchor, box = best
        boxes.append(box)
        svg.text(x + dx, y + dy, label, size=10.5, anchor=anchor, fill=colour, weight="bold", halo=True)

    # legend
    ly = top + ph + 62
    svg.text(left, ly, "series (results directory):", size=11, fill=MUTED)
    for i, s in enumerate(series):
        colour, shape = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
        y = ly + 18 * (i + 1)
        svg.line(left, y - 4, left + 22, y - 4, stroke=colour, width=1.5)
        svg.marker(shape, left + 11, y - 4, colour, r=4)
        runs = sorted({p["runs"] for p in s["points"]})
        svg.text(left + 30, y, f"{s['label']} ({' + '.join(s['sources'])}; "
                 f"{'/'.join(map(str, runs))} plan run{'s' if runs != [1] else ''} per size)", size=11)
    return svg.render()


# ------------------------------------------------------------------------------------
# the timeline of one apply under the provisioning model
# ------------------------------------------------------------------------------------


def resource_type(address: str) -> str:
    return address.split(".", 1)[0]


def model_windows(model: dict, wire: str) -> dict[str, tuple[float, float]]:
    """The earliest start and end (modelled seconds from the start) each resource of one stack
    can have under the provisioning model, from `critical_path_model`: the network's NAT
    gateways, then the cluster's chain (control plane, node group, add-on) and the database's
    (Multi-AZ primary, replica) side by side when both take a paved_network; with the database
    in the cluster's network (`--wiring cluster`) the cluster builds its NAT gateways and the
    database waits for the whole cluster."""
    net, cl, db = model["network"], model["cluster_chain"], model["database_chain"]
    if wire == "network":
        return {"paved_network": (0.0, net), "paved_ha_cluster": (net, net + cl), "paved_managed_database": (net, net + db)}
    return {"paved_ha_cluster": (0.0, net + cl), "paved_managed_database": (net + cl, net + cl + db)}


def timeline_panels(results: list[tuple[str, dict]]) -> list[dict]:
    by_dir = {path.rsplit("/", 1)[0]: res for path, res in results if "/" in path}
    panels = []
    for d in TIMELINE_DIRS:
        res = by_dir.get(d)
        if not res or not res.get("time_scale"):
            continue
        one = next((s for s in res.get("sizes", []) if s.get("n") == 1 and "error" not in s), None)
        if not one:
            continue
        scale = res["time_scale"]
        rows = [r for r in one["apply"].get("timeline", []) if r.get("start_s") is not None]
        order = list(RESOURCE_COLOURS)
        rows.sort(key=lambda r: (order.index(resource_type(r["address"])) if resource_type(r["address"]) in order
                                 else len(order), r["start_s"], r["address"]))
        panels.append({
            "dir": d, "res": res, "size": one, "scale": scale, "wiring": wiring(res),
            "rows": [{"address": r["address"], "action": r["action"], "start": r["start_s"] * scale / 60,
                      "end": None if r.get("end_s") is None else r["end_s"] * scale / 60,
                      "errored": bool(r.get("errored"))} for r in rows],
            "model": one.get("critical_path_model"),
        })
    return panels


def legend_layout(width: int) -> list[tuple[str, str, str, float, float]]:
    """The timeline's legend: (kind, colour, label, x, y offset of its row), wrapped to WIDTH."""
    items = [("bar", RESOURCE_COLOURS["paved_network"], "paved_network"),
             ("bar", RESOURCE_COLOURS["paved_ha_cluster"], "paved_ha_cluster"),
             ("bar", RESOURCE_COLOURS["paved_managed_database"], "paved_managed_database"),
             ("model", MUTED, "model: earliest start and end"),
             ("limit", "#B00000", "critical path (create)"),
             ("end", INK, "apply ends")]
    out, x, dy = [], 24.0, 0.0
    for kind, colour, label in items:
        if x + 24 + text_width(label, 11) > width - 10:
            x, dy = 24.0, dy + 20
        out.append((kind, colour, label, x, dy))
        x += 24 + text_width(label, 11) + 12
    return out


def apply_timeline_svg(results: list[tuple[str, dict]]) -> str:
    panels = timeline_panels(results)
    W = 900
    left, right = 196, 30
    pw = W - left - right
    row_h, panel_head, panel_gap = 34, 62, 26
    top = 62
    heights = [panel_head + row_h * max(len(p["rows"]), 1) + 8 for p in panels]
    axis_h, legend_h, notes_h = 46, 24 + legend_layout(W)[-1][4], 62
    H = top + sum(heights) + panel_gap * max(len(panels) - 1, 0) + axis_h + legend_h + notes_h
    desc = []
    for p in panels:
        a = p["size"]["apply"]
        desc.append(f"{p['dir']}: apply {a['modelled_minutes']:.1f} modelled min, critical path "
                    f"{a['limit_minutes']:.1f} min (ratio {a['limit_ratio']:.2f}); "
                    + ", ".join(f"{r['address']} {r['start']:.1f}-{(r['end'] or 0):.1f} min" for r in p["rows"]))
    svg = Svg(W, H, "Apply of one production stack under the provisioning model, per resource",
              "Gantt chart in modelled minutes. " + " ".join(desc))
    svg.text(24, 24, "Apply of one production stack under the provisioning model: each resource's start and end",
             size=15, weight="bold")
    scale = panels[0]["scale"] if panels else 10
    svg.text(24, 42, f"modelled minutes (real seconds x {scale:g} / 60, paved-fault-proxy --time-scale {scale:g}); "
             "release build; network, EKS and RDS waits at AWS-like durations", size=11, fill=MUTED)
    if not panels:
        svg.text(W / 2, top + 40, "no --time-scale results with a timeline in bench/results", anchor="middle")
        return svg.render()

    ends = []
    for p in panels:
        ends += [r["end"] for r in p["rows"] if r["end"] is not None]
        ends.append(p["size"]["apply"]["modelled_minutes"])
        if p["model"]:
            ends.append(p["model"]["create"] / 60)
            ends += [w[1] / 60 for w in model_windows(p["model"], p["wiring"]).values()]
    x_hi = max(5, math.ceil(max(ends) / 5) * 5)

    def X(minutes: float) -> float:
        return left + pw * minutes / x_hi

    y0 = top
    for p, h in zip(panels, heights):
        a = p["size"]["apply"]
        if p["wiring"] == "network":
            head = "after: a paved_network that the cluster and the database both take (--wiring network)"
        else:
            head = "before: the database in the cluster's own network (--wiring cluster)"
        svg.text(24, y0 + 16, head, size=13, weight="bold")
        svg.text(24, y0 + 33, f"bench/results/{p['dir']}/: apply {a['modelled_minutes']:.1f} min = "
                 f"{a['limit_ratio']:.2f} x the {a['limit_minutes']:.1f} min critical path "
                 f"(wall {a['seconds']:.0f} s, {p['res'].get('date', '')[:10]}, commit {p['res'].get('commit', '?')})",
                 size=11, fill=MUTED)
        body_top = y0 + panel_head
        body_h = row_h * max(len(p["rows"]), 1)
        # grid
        for m in range(0, x_hi + 1, 5):
            svg.line(X(m), body_top - 4, X(m), body_top + body_h, stroke=GRID)
        windows = model_windows(p["model"], p["wiring"]) if p["model"] else {}
        if not p["rows"]:
            svg.text(left + 8, body_top + row_h / 2 + 4, "no per-resource timeline in this json "
                     "(written before bench/stacks.py recorded apply.timeline)", size=11, fill=MUTED)
        for i, r in enumerate(p["rows"]):
            yc = body_top + row_h * i + row_h / 2
            kind = resource_type(r["address"])
            colour = RESOURCE_COLOURS.get(kind, PALETTE[i % len(PALETTE)])
            svg.text(left - 10, yc + 4, r["address"], anchor="end", size=12)
            w = windows.get(kind)
            if w:  # the model's earliest window for this resource: a thin outlined bar below
                svg.rect(X(w[0] / 60), yc + 7, X(w[1] / 60) - X(w[0] / 60), 6, fill="#ffffff", stroke=colour,
                         width=1, extra=' stroke-dasharray="3 2"')
            end = r["end"] if r["end"] is not None else a["modelled_minutes"]
            svg.rect(X(r["start"]), yc - 11, X(end) - X(r["start"]), 16, fill=colour,
                     extra=' fill-opacity="0.85"' + (' stroke="#B00000" stroke-width="2"' if r["errored"] else ""))
            label = f"{r['start']:.1f}-{end:.1f} min ({end - r['start']:.1f})"
            if r["end"] is None:
                label += ", not finished"
            if r["errored"]:
                label += ", failed"
            tx = X(end) + 6
            if tx + text_width(label, 10.5) > W - 4:
                svg.text(X(r["start"]) - 6, yc + 1, label, size=10.5, anchor="end", fill=INK, halo=True)
            else:
                svg.text(tx, yc + 1, label, size=10.5, fill=INK, halo=True)
        # references: the critical path and the end of the apply
        if p["model"]:
            cx = X(p["model"]["create"] / 60)
            svg.line(cx, body_top - 4, cx, body_top + body_h, stroke="#B00000", width=1.5, dash="6 4")
            svg.text(cx - 4, body_top - 6, f"critical path {p['model']['create'] / 60:.1f}", size=10.5,
                     anchor="end", fill="#B00000")
        ax = X(a["modelled_minutes"])
        svg.line(ax, body_top - 4, ax, body_top + body_h, stroke=INK, width=1.5)
        end_label = f"apply ends {a['modelled_minutes']:.1f}"
        if ax + 4 + text_width(end_label, 10.5) > W - 4:
            svg.text(ax - 4, body_top - 6, end_label, size=10.5, anchor="end")
        else:
            svg.text(ax + 4, body_top - 6, end_label, size=10.5)
        svg.line(left, body_top + body_h, left + pw, body_top + body_h, stroke=MUTED)
        y0 += h + panel_gap

    # the shared axis
    ya = y0 - panel_gap
    svg.line(left, ya, left + pw, ya)
    for m in range(0, x_hi + 1, 5):
        svg.line(X(m), ya, X(m), ya + 5)
        svg.text(X(m), ya + 18, str(m), anchor="middle", size=11)
    svg.text(left + pw / 2, ya + 36, "modelled minutes from the start of terraform apply (its plan included)",
             anchor="middle")

    # legend
    ly = ya + axis_h + 12
    for kind, colour, label, x, dy in legend_layout(W):
        y = ly + dy
        if kind == "bar":
            svg.rect(x, y - 10, 18, 12, fill=colour, extra=' fill-opacity="0.85"')
        elif kind == "model":
            svg.rect(x, y - 7, 18, 6, fill="#ffffff", stroke=colour, extra=' stroke-dasharray="3 2"')
        elif kind == "limit":
            svg.line(x + 9, y - 13, x + 9, y + 3, stroke=colour, width=1.5, dash="6 4")
        else:
            svg.line(x + 9, y - 13, x + 9, y + 3, stroke=colour, width=1.5)
        svg.text(x + 24, y, label, size=11)
    ly += legend_layout(W)[-1][4]
    m = panels[0]["model"]
    if m:
        notes = [f"Model (json critical_path_model): the NAT gateways {m['network'] / 60:.1f} min, then side by side the "
                 f"cluster's chain {m['cluster_chain'] / 60:.1f} min (control plane, node group, add-on)",
                 f"and the database's {m['database_chain'] / 60:.1f} min (Multi-AZ primary, replica): critical path "
                 f"{m['create'] / 60:.1f} min. With the database in the cluster's network, the database waits",
                 f"for the whole cluster: {(m['network'] + m['cluster_chain'] + m['database_chain']) / 60:.1f} min "
                 "at the least."]
        for i, line in enumerate(notes):
            svg.text(24, ly + 26 + 15 * i, line, size=10.5, fill=MUTED)
    return svg.render()


# ------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------


def render_all(results_dir: Path) -> dict[str, str]:
    results = load_results(results_dir)
    return {"plan-time.svg": plan_time_svg(results), "apply-timeline.svg": apply_timeline_svg(results)}


def well_formed(path: Path) -> str | None:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        return f"{path}: not well-formed XML: {e}"
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        return f"{path}: root element is {root.tag}, not svg"
    if root.find("{http://www.w3.org/2000/svg}title") is None:
        return f"{path}: no <title>"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=str(RESULTS), help="directory of the results (default: bench/results)")
    ap.add_argument("--out", default=None, help="where to write the charts (default: the results directory)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if a chart in the results directory differs from what its json "
                         "gives, or is not well-formed SVG")
    args = ap.parse_args()
    results_dir = Path(args.results)
    charts = render_all(results_dir)
    if args.check:
        problems = []
        with tempfile.TemporaryDirectory(prefix="paved-charts-") as t:
            for name, content in charts.items():
                fresh = Path(t) / name
                fresh.write_text(content, encoding="utf-8")
                if (err := well_formed(fresh)) is not None:
                    problems.append(f"generated {err}")
                committed = results_dir / name
                if not committed.is_file():
                    problems.append(f"{committed} is missing")
                    continue
                if (err := well_formed(committed)) is not None:
                    problems.append(err)
                if committed.read_bytes() != fresh.read_bytes():
                    problems.append(f"{committed} is not what the json in {results_dir} gives")
        for p in problems:
            print(f"charts: {p}", file=sys.stderr)
        if problems:
            print("charts: run `python3 bench/charts.py` and commit the result", file=sys.stderr)
            return 1
        print(f"charts: {', '.join(charts)} up to date")
        return 0
    out = Path(args.out) if args.out else results_dir
    out.mkdir(parents=True, exist_ok=True)
    for name, content in charts.items():
        (out / name).write_text(content, encoding="utf-8")
        if (err := well_formed(out / name)) is not None:
            print(f"charts: {err}", file=sys.stderr)
            return 1
        print(f"charts: wrote {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

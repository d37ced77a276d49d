"""Medians, ratios, the issue's targets, and the Markdown tables."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FLOOR = "floor-pyqwest"
OFFICIAL = ("sdk-1.2.0", "sdk-0.11.0")
OURS = "ona-sync-proto"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
WORKLOAD_TITLES = {
    "list": "list all tokens (page size {page_size})",
    "gets": "{gets} sequential Gets",
    "gets_concurrent": "{gets} Gets at concurrency {concurrency}",
}


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def _summarise(cell: Any) -> dict[str, Any]:
    row = {
        "server": cell.server,
        "scheme": cell.scheme,
        "client": cell.client,
        "workload": cell.workload,
        "status": cell.status if cell.runs or cell.status != "ok" else "error",
        "reason": cell.reason,
        "runs": cell.runs,
    }
    for key in ("cpu", "wall", "connections", "requests", "gzip_requests"):
        row[key] = _median(cell.runs, key)
    for key in ("cpu", "wall"):  # the least disturbed run, for noisy machines
        row[f"{key}_min"] = min((r[key] for r in cell.runs), default=None)
    return row


def _index(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    return {(r["server"], r["scheme"], r["client"], r["workload"]): r for r in rows}


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _add_ratios(rows: list[dict[str, Any]]) -> None:
    idx = _index(rows)
    for r in rows:
        ratios: dict[str, float | None] = {}
        for ref in (FLOOR, *OFFICIAL):
            other = idx.get((r["server"], r["scheme"], ref, r["workload"]))
            for key in ("cpu", "wall"):
                ratios[f"{key}_vs_{ref}"] = _ratio(r[key], other and other[key])
        r["ratios"] = ratios


def _target(
    tid: str, text: str, where: str, value: float | None, limit: float, higher: bool = False
) -> dict[str, Any]:
    met = None if value is None else (value >= limit if higher else value <= limit)
    return {"id": tid, "target": text, "where": where, "value": value, "limit": limit, "met": met}


def targets(rows: list[dict[str, Any]], jsonmap: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 7 point 2, each measured in this run, per server and scheme."""
    idx = _index(rows)
    out = []
    blocks = sorted({(r["server"], r["scheme"]) for r in rows})

    def get(server: str, scheme: str, client: str, workload: str, key: str) -> float | None:
        row = idx.get((server, scheme, client, workload))
        return None if row is None else row[key]

    for server, scheme in blocks:
        where = f"{server} server, {scheme}"
        for w in ("list", "gets"):
            ours = get(server, scheme, OURS, w, "cpu")
            floor = get(server, scheme, FLOOR, w, "cpu")
            out.append(
                _target(
                    "T1",
                    f"{w}: ona-pats binary CPU <= 1.25x pyqwest floor",
                    where,
                    _ratio(ours, floor),
                    1.25,
                )
            )
            for sdk in OFFICIAL:
                ratio = _ratio(
                    get(server, scheme, sdk, w, "wall"), get(server, scheme, OURS, w, "wall")
                )
                limit = 2.0 if scheme == "https" else 1.0
                out.append(
                    _target(
                        "T2",
                        f"{w}: ona-pats binary >= {limit:g}x faster (wall) than {sdk}",
                        where,
                        ratio,
                        limit,
                        higher=True,
                    )
                )
            out.append(
                _target(
                    "T3",
                    f"{w}: ona-pats JSON transport CPU <= 2x binary",
                    where,
                    _ratio(get(server, scheme, "ona-sync-json", w, "cpu"), ours),
                    2.0,
                )
            )
        seq = get(server, scheme, "ona-async-proto", "gets", "wall")
        conc = get(server, scheme, "ona-async-proto", "gets_concurrent", "wall")
        out.append(
            _target(
                "T4",
                "async concurrent Gets >= 3x sequential throughput",
                where,
                _ratio(seq, conc),
                3.0,
                higher=True,
            )
        )
        gz = [
            get(server, scheme, c, w, "gzip_requests")
            for c in ("ona-sync-proto", "ona-async-proto")
            for w in ("gets", "gets_concurrent")
        ]
        known = [g for g in gz if g is not None]
        out.append(
            _target(
                "T5",
                "no gzip of small request bodies (gzip'd Gets, ona-pats)",
                where,
                sum(known) if known else None,
                0,
            )
        )
        for ours_name, raw_name in (
            ("ona-sync-proto", "raw-connectrpc-same"),
            ("ona-async-proto", "raw-connectrpc-same-async"),
        ):
            for w in ("gets", "list"):
                out.append(
                    _target(
                        "T7",
                        f"{w}: {ours_name} CPU <= 1.10x the raw connectrpc stub, same settings",
                        where,
                        _ratio(
                            get(server, scheme, ours_name, w, "cpu"),
                            get(server, scheme, raw_name, w, "cpu"),
                        ),
                        1.10,
                    )
                )
    jm = {(r["client"], r["workload"]): r["cpu"] for r in jsonmap}
    for op in ("encode", "decode"):
        out.append(
            _target(
                "T6",
                f"JSON mapping {op}: ours CPU <= json_format",
                "10,000 tokens",
                _ratio(jm.get(("ours", op)), jm.get(("json_format", op))),
                1.0,
            )
        )
    return out


def build(
    args: argparse.Namespace,
    cells: list[Any],
    jsonmap: list[Any],
    machine: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    rows = [_summarise(c) for c in cells]
    _add_ratios(rows)
    jm_rows = [_summarise(c) for c in jsonmap]
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": machine,
        "sizes": {
            "tokens": args.tokens,
            "gets": args.gets,
            "concurrency": args.concurrency,
            "page_size": args.page_size,
            "runs": args.runs,
        },
        "results": rows,
        "jsonmap": jm_rows,
        "targets": targets(rows, jm_rows),
    }


def _fmt(x: float | None, unit: str = "", digits: int = 3) -> str:
    if x is None:
        return "-"
    return f"{x:.{digits}f}{unit}"


def _fx(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def _count(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def render(results: dict[str, Any]) -> str:
    """Every table of the run, in Markdown."""
    sizes = results["sizes"]
    m = results["machine"]
    lines = [
        f"Run {results['started']} ({results['seconds']} s): {sizes['tokens']} tokens, "
        f"{sizes['gets']} Gets, concurrency {sizes['concurrency']}, "
        f"median of {sizes['runs']} runs.",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['platform']}; "
        f"load average at the end {', '.join(f'{x:.2f}' for x in m['load_average'])}.",
        "",
        "CPU = the client process's own CPU seconds (all threads), wall = seconds, both around the "
        "workload only, after warm-up. `x floor` is client / pyqwest floor; `x 1.2.0` and "
        "`x 0.11.0` are client / official SDK (below 1 is better). conns = TCP connections the "
        "server accepted during the run; gzip = requests with a gzip-compressed body.",
    ]
    rows = results["results"]
    for block in sorted(
        {(r["server"], r["scheme"], r["workload"]) for r in rows},
        key=lambda b: (b[0], b[1], list(WORKLOAD_TITLES).index(b[2])),
    ):
        server, scheme, workload = block
        title = WORKLOAD_TITLES[workload].format(**sizes)
        lines += ["", f"### {title} — {server} server, {scheme}", ""]
        lines += _table(r for r in rows if (r["server"], r["scheme"], r["workload"]) == block)
    if results["jsonmap"]:
        lines += ["", f"### JSON mapping of {sizes['tokens']} tokens (100 pages of 100)", ""]
        lines += [
            "| implementation | op | CPU s | wall s | x json_format |",
            "|---|---|--:|--:|--:|",
        ]
        jm = {(r["client"], r["workload"]): r for r in results["jsonmap"]}
        for r in results["jsonmap"]:
            ref = jm.get(("json_format", r["workload"]))
            if r["status"] != "ok":
                lines.append(
                    f"| {r['client']} | {r['workload']} | {r['status']}: {r['reason']} | | |"
                )
                continue
            lines.append(
                f"| {r['client']} | {r['workload']} | {_fmt(r['cpu'])} | {_fmt(r['wall'])} | "
                f"{_fx(_ratio(r['cpu'], ref and ref['cpu']))} |"
            )
    lines += [
        "",
        "### Targets (issue 7, point 2; T7: issue 16, point 3)",
        "",
        "| target | where | measured | met |",
        "|---|---|--:|:-:|",
    ]
    for t in results["targets"]:
        met = {True: "met", False: "**not met**", None: "n/a"}[t["met"]]
        value = _count(t["value"]) if t["id"] == "T5" else _fx(t["value"])
        lines.append(f"| {t['id']} {t['target']} | {t['where']} | {value} | {met} |")
    return "\n".join(lines) + "\n"


def _table(rows: Iterable[dict[str, Any]]) -> list[str]:
    out = [
        "| client | CPU s | wall s | CPU x floor | wall x floor | CPU x 1.2.0 | wall x 1.2.0 "
        "| CPU x 0.11.0 | wall x 0.11.0 | conns | gzip |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        if r["status"] != "ok":
            reason = r["reason"].replace("|", "/")[:90]
            out.append(f"| {r['client']} | {r['status']}: {reason} |" + " |" * 9)
            continue
        q = r["ratios"]
        out.append(
            f"| {r['client']} | {_fmt(r['cpu'])} | {_fmt(r['wall'])} "
            f"| {_fx(q['cpu_vs_floor-pyqwest'])} | {_fx(q['wall_vs_floor-pyqwest'])} "
            f"| {_fx(q['cpu_vs_sdk-1.2.0'])} | {_fx(q['wall_vs_sdk-1.2.0'])} "
            f"| {_fx(q['cpu_vs_sdk-0.11.0'])} | {_fx(q['wall_vs_sdk-0.11.0'])} "
            f"| {_count(r['connections'])} | {_count(r['gzip_requests'])} |"
        )
    return out


def update_readme(path: Path, text: str) -> None:
    """Replace the table between the README's bench markers with this run's."""
    readme = path.read_text()
    head, _, rest = readme.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")

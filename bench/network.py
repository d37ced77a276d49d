"""``python -m bench.network``: the clients as users meet them, over TLS with real round trips.

Every connection goes through ``bench/_rtt.py``, a loopback proxy that delays each chunk so
that a round trip costs ``--rtt-ms`` (TCP and TLS handshakes included), to the embedded
server's application under Hypercorn over TLS, which offers HTTP/2 by ALPN (``--alpn h1``:
HTTP/1.1 only, for comparison). Workloads, each client in its own process, fresh client per run:

- ``gets``: ``--gets`` sequential Gets (default 100);
- ``gets_concurrent``: ``--concurrent-gets`` Gets (default 1,000) at ``--concurrency`` (50);
- ``list``: listing every token (``--tokens``, default 10,000, pages of 100);
- ``deletes``: deleting ``--deletes`` fresh tokens (default 1,000) one at a time, as each
  client's users would write it; ``deletes_bulk_8`` and ``deletes_bulk_32``: ona-pats
  ``AsyncClient.users.pats.delete_many`` at concurrency 8 and 32.

Reports wall time (median), TCP connections and TLS handshakes (counted at the proxy) and the
HTTP versions the server saw, per client and workload, with ratios to the bare pyqwest floor
and to gitpod-sdk 1.2.0, and checks the targets. ``--out`` writes every run as JSON;
``--readme`` rewrites the network section of ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from . import _setup
from ._harness import _child_env, _Lines, _spawn

CLIENTS = (
    "ona-sync-proto",
    "ona-sync-json",
    "ona-async-proto",
    "sdk-1.2.0",
    "sdk-0.11.0",
    "floor-pyqwest",
)
WORKLOADS = ("gets", "gets_concurrent", "list", "deletes", "deletes_bulk_8", "deletes_bulk_32")
#: Which clients run which workload: the bulk deletes are ona-pats' own; concurrency needs an
#: async flavour or a thread pool (sdk-1.2.0 has only the latter).
_ONLY = {"deletes_bulk_8": {"ona-async-proto"}, "deletes_bulk_32": {"ona-async-proto"}}
_NOT = {"deletes": {"ona-sync-json", "ona-async-proto"}, "gets_concurrent": {"ona-sync-json"}}
NETCHILD = str(_setup.BENCH / "_netchild.py")
README_BEGIN, README_END = "<!-- network:begin -->", "<!-- network:end -->"


def _runs_client(client: str, workload: str) -> bool:
    return client in _ONLY.get(workload, {client}) and client not in _NOT.get(workload, set())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.network", description=__doc__.split("\n")[0])
    p.add_argument("--rtt-ms", default="20", help="round-trip times, comma-separated (20)")
    p.add_argument("--alpn", default="h2", choices=("h2", "h1"), help="offer h2 (default) or not")
    p.add_argument("--tokens", type=int, default=10_000)
    p.add_argument("--gets", type=int, default=100)
    p.add_argument("--concurrent-gets", type=int, default=1_000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--deletes", type=int, default=1_000)
    p.add_argument("--runs", type=int, default=3, help="runs per cell; the median is shown")
    p.add_argument("--clients", default=",".join(CLIENTS))
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--no-install", action="store_true", help="never create the SDK venvs")
    p.add_argument("--out", default=str(_setup.BENCH / "results" / "network-latest.json"))
    p.add_argument("--readme", action="store_true", help="rewrite bench/README.md's section")
    return p.parse_args(argv)


def _start(argv: list[str], env: dict[str, str] | None = None) -> tuple[_Lines, dict[str, Any]]:
    proc = _spawn(argv, env)
    hello = proc.read(60)
    if "error" in hello.get("event", ""):
        raise RuntimeError(f"{argv[:3]}: {hello}")
    return proc, hello


def _fresh_tokens(db: str, n: int) -> list[str]:
    """``n`` new never-used tokens of a new user, written straight into the server's store."""
    from ona_pats.server import Store, seed_tokens

    user = str(uuid.uuid4())
    with Store(db) as store:
        seed_tokens(store, n, user_ids=[user], random_seed=3)
        return [pat.id for pat in store.list([user], None, n)]


def run(args: argparse.Namespace, rtt_ms: float, workdir: Path) -> list[dict[str, Any]]:
    """Every client and workload at one round-trip time; one row per (client, workload)."""
    certs = _setup.make_certs(workdir)
    data = _setup.prepare_data(workdir, args.tokens)
    assert data.db is not None, data.embedded_reason
    spec_path = workdir / "server.json"
    alpn = ["h2", "http/1.1"] if args.alpn == "h2" else ["http/1.1"]
    spec_path.write_text(
        json.dumps({"db": data.db, "certfile": certs.cert, "keyfile": certs.key, "alpn": alpn})
    )
    server, hello = _start([sys.executable, "-m", "bench._netserver", str(spec_path)])
    proxy, ports = _start(
        [sys.executable, str(_setup.BENCH / "_rtt.py"), str(hello["port"]), str(rtt_ms)]
    )
    rows: list[dict[str, Any]] = []
    try:
        for client in args.clients.split(","):
            workloads = [w for w in args.workloads.split(",") if _runs_client(client, w)]
            rows += _run_client(args, client, workloads, data, certs, ports, (server, proxy))
    finally:
        proxy.stop()
        server.stop()
    for row in rows:
        row["rtt_ms"] = rtt_ms
    return rows


def _run_client(
    args: argparse.Namespace,
    client: str,
    workloads: list[str],
    data: _setup.Data,
    certs: _setup.Certs,
    ports: dict[str, Any],
    counters: tuple[_Lines, _Lines],
) -> list[dict[str, Any]]:
    server, proxy = counters
    rows = [{"client": client, "workload": w, "status": "ok", "runs": []} for w in workloads]
    python, reason = (
        _setup.sdk_python(client, create=not args.no_install)
        if client in _setup.SDK_VENVS
        else (sys.executable, "")
    )
    if python is None:
        for row in rows:
            row.update(status="not available", reason=reason)
        return rows
    spec = {
        "url": f"https://127.0.0.1:{ports['port']}",
        "warm_url": f"https://127.0.0.1:{ports['warm_port']}",
        "token": data.admin_token,
        "cafile": certs.ca,
        "page_size": 100,
        "expect_items": data.expect_items,
        "ids": data.ids[: max(args.gets, args.concurrent_gets)],
        "warm_ids": data.ids[-3:],
        "concurrency": args.concurrency,
    }
    spec_file = Path(certs.ca).parent / f"{client}.json"
    spec_file.write_text(json.dumps(spec))
    child, hello = _start([python, NETCHILD, client, str(spec_file)], _child_env(certs, "https"))
    try:
        if hello.get("event") != "warm":
            for row in rows:
                row.update(status="not available", reason=hello.get("reason", str(hello)))
            return rows
        for _ in range(args.runs):
            for row in rows:
                workload = row["workload"]
                ids = {
                    "gets": data.ids[: args.gets],
                    "gets_concurrent": data.ids[: args.concurrent_gets],
                    "list": [],
                }.get(workload)
                if ids is None:
                    assert data.db is not None
                    ids = _fresh_tokens(data.db, args.deletes)
                before = _stats(server, proxy)
                child.send({"cmd": "run", "workload": workload, "ids": ids})
                result = child.read()
                after = _stats(server, proxy)
                if result.get("event") != "result":
                    row.update(status="error", reason=result.get("reason", str(result)))
                    continue
                keys = ("connections", "tls_handshakes", "server_cpu")
                result.update({k: after[k] - before[k] for k in keys})
                result["http"] = {
                    v: n - before["http"].get(v, 0)
                    for v, n in after["http"].items()
                    if n - before["http"].get(v, 0)
                }
                row["runs"].append(result)
                print(
                    f"  {client:16} {workload:16} wall {result['wall']:7.3f}s "
                    f"conns {result['connections']:4} tls {result['tls_handshakes']:4} "
                    f"http {result['http']}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        child.stop()
    return rows


def _stats(server: _Lines, proxy: _Lines) -> dict[str, Any]:
    proxy.send({"cmd": "stats"})
    counts = proxy.read(30)
    server.send({"cmd": "stats"})
    seen = server.read(30)
    counts["http"] = seen["requests"]
    counts["server_cpu"] = seen.get("cpu", 0.0)
    return counts


def _median(row: dict[str, Any], key: str) -> float | None:
    values = [run[key] for run in row["runs"]]
    return statistics.median(values) if values else None


def _http(row: dict[str, Any]) -> str:
    seen: dict[str, int] = {}
    for run in row["runs"]:
        for version, n in run["http"].items():
            seen[version] = seen.get(version, 0) + n
    return ", ".join(f"HTTP/{v}" for v in sorted(seen)) or "-"


def _ratio(wall: float, other: dict[str, Any] | None) -> str:
    base = None if other is None else _median(other, "wall")
    return f"{wall / base:.2f}x" if base else "-"


def _ratio(wall: float, other: dict[str, Any] | None) -> str:
    base = None if other is None else _median(other, "wall")
    return f"{wall / base:.2f}x" if base else "-"


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """The tables (one per RTT and workload) and the targets, as Markdown."""
    lines = [
        f"Run {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}: TLS through the RTT proxy, "
        f"server offering {'h2 and http/1.1' if args.alpn == 'h2' else 'http/1.1 only'} by ALPN; "
        f"{args.tokens} tokens, {args.gets} sequential Gets, {args.concurrent_gets} Gets at "
        f"concurrency {args.concurrency}, {args.deletes} deletes; median of {args.runs} runs.",
        "",
    ]
    index = {(r["rtt_ms"], r["client"], r["workload"]): r for r in rows}
    for rtt in sorted({r["rtt_ms"] for r in rows}):
        for workload in WORKLOADS:
            cells = [r for r in rows if r["rtt_ms"] == rtt and r["workload"] == workload]
            if not cells:
                continue
            floor = index.get((rtt, "floor-pyqwest", workload)) or index.get(
                (rtt, "floor-pyqwest", "deletes")
            )
            sdk = index.get((rtt, "sdk-1.2.0", workload)) or index.get(
                (rtt, "sdk-1.2.0", "deletes")
            )
            lines += [
                f"### {workload} at {rtt:g} ms RTT",
                "",
                "| client | wall s | x floor | x sdk-1.2.0 | conns | TLS handshakes | HTTP "
                "| client CPU s | server CPU s |",
                "|---|--:|--:|--:|--:|--:|---|--:|--:|",
            ]
            for row in cells:
                wall = _median(row, "wall")
                if wall is None:
                    why = f"{row['status']}: {row.get('reason', '')[:80]}"
                    lines.append(f"| {row['client']} | {why} | | | | | | | |")
                    continue
                conns = _median(row, "connections")
                tls = _median(row, "tls_handshakes")
                cpu, server_cpu = _median(row, "cpu"), _median(row, "server_cpu")
                lines.append(
                    f"| {row['client']} | {wall:.3f} | {_ratio(wall, floor)} | "
                    f"{_ratio(wall, sdk)} | {conns:g} | {tls:g} | {_http(row)} | "
                    f"{cpu or 0:.3f} | {server_cpu or 0:.3f} |"
                )
            lines.append("")
    lines += _targets(index, args)
    return "\n".join(lines)


def _targets(
    index: dict[tuple[float, str, str], dict[str, Any]], args: argparse.Namespace
) -> list[str]:
    rtt = 20.0
    if not any(key[0] == rtt for key in index):
        return []

    def wall(client: str, workload: str) -> float | None:
        row = index.get((rtt, client, workload))
        return None if row is None else _median(row, "wall")

    out = [
        "### Targets at 20 ms RTT (issue 16)",
        "",
        "| target | measured | met |",
        "|---|--:|:-:|",
    ]

    def check(text: str, value: float | None, ok: bool | None) -> None:
        shown = "-" if value is None else f"{value:.2f}x"
        out.append(
            f"| {text} | {shown} | {'met' if ok else '**not met**' if ok is not None else '-'} |"
        )

    for workload, what in (("gets", f"{args.gets} sequential Gets"), ("list", "the listing")):
        ours, floor, sdk = (
            wall("ona-sync-proto", workload),
            wall("floor-pyqwest", workload),
            wall("sdk-1.2.0", workload),
        )
        r = ours / floor if ours and floor else None
        check(
            f"{what}: ona-pats within 1.1x of the bare pyqwest loop",
            r,
            None if r is None else r <= 1.1,
        )
        r = sdk / ours if ours and sdk else None
        check(
            f"{what}: ona-pats at least 2x faster than gitpod-sdk 1.2.0",
            r,
            None if r is None else r >= 2,
        )
    ideal = args.concurrent_gets / args.concurrency * rtt / 1000
    ours = wall("ona-async-proto", "gets_concurrent")
    r = ours / ideal if ours else None
    check(
        f"{args.concurrent_gets} Gets at concurrency {args.concurrency} (AsyncClient) within 2x of "
        f"the ideal {ideal:.2f} s",
        r,
        None if r is None else r <= 2,
    )
    one = wall("ona-sync-proto", "deletes")
    for n in (8, 32):
        bulk = wall("ona-async-proto", f"deletes_bulk_{n}")
        r = one / bulk if one and bulk else None
        check(
            f"{args.deletes} deletes: bulk at concurrency {n} at least 8x faster than one by one",
            r,
            None if r is None else r >= 8,
        )
    return [*out, ""]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ona-pats-network-") as tmp:
        for rtt in args.rtt_ms.split(","):
            print(f"bench.network: {rtt} ms RTT", file=sys.stderr, flush=True)
            workdir = Path(tmp) / f"rtt{rtt}"
            workdir.mkdir()
            rows += run(args, float(rtt), workdir)
    text = report(rows, args)
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1) + "\n")
    if args.readme:
        readme = _setup.BENCH / "README.md"
        before, _, rest = readme.read_text().partition(README_BEGIN)
        _, _, after = rest.partition(README_END)
        readme.write_text(f"{before}{README_BEGIN}\n{text}\n{README_END}{after}")
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

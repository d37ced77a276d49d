"""Drives one benchmark run: servers, client processes, rounds, and the results file."""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _report, _setup

CLIENTS = (
    "ona-sync-proto",
    "ona-sync-json",
    "ona-async-proto",
    "sdk-1.2.0",
    "sdk-0.11.0",
    "raw-connectrpc",
    "raw-connectrpc-same",
    "raw-connectrpc-same-async",
    "floor-pyqwest",
    "floor-httpx",
)
WORKLOADS = ("list", "gets", "gets_concurrent")
SERVERS = ("floor", "ona")
SCHEMES = ("http", "https")
JSONMAP = ("ours", "json_format")
CHILD = str(_setup.BENCH / "_child.py")
STEP_TIMEOUT_S = 600.0


class _Lines:
    """A process's stdout as a queue of JSON lines, so every read can time out."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.q.put(line)
        self.q.put(None)

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def read(self, timeout: float = STEP_TIMEOUT_S) -> dict[str, Any]:
        try:
            line = self.q.get(timeout=timeout)
        except queue.Empty:
            return {"event": "error", "message": f"no answer within {timeout:.0f} s"}
        if line is None:
            return {"event": "error", "message": f"exited with {self.proc.wait()}"}
        result: dict[str, Any] = json.loads(line)
        return result

    def stop(self) -> None:
        try:
            self.send({"cmd": "quit"})
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            self.proc.kill()
            self.proc.wait()


def _spawn(argv: list[str], env: dict[str, str] | None = None) -> _Lines:
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=_setup.BENCH.parent,
        env=env,
    )
    return _Lines(proc)


@dataclass
class Cell:
    """One client on one workload against one server and scheme: its runs or why none."""

    server: str
    scheme: str
    client: str
    workload: str
    status: str = "ok"  # ok | not available | error
    reason: str = ""
    runs: list[dict[str, Any]] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--tokens", type=int, default=10_000, help="tokens seeded (default 10000)")
    p.add_argument("--gets", type=int, default=1_000, help="Gets per Get workload (default 1000)")
    p.add_argument("--concurrency", type=int, default=50, help="concurrent Gets (default 50)")
    p.add_argument("--page-size", type=int, default=100, help="list page size (default 100)")
    p.add_argument("--runs", type=int, default=3, help="runs per cell; the median is shown")
    p.add_argument("--quick", action="store_true", help="1,000 tokens, 200 Gets, 3 runs")
    p.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated subset")
    p.add_argument("--servers", default=",".join(SERVERS), help="floor,ona")
    p.add_argument("--schemes", default=",".join(SCHEMES), help="http,https")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="list,gets,gets_concurrent")
    p.add_argument("--no-jsonmap", action="store_true", help="skip the JSON mapping workload")
    p.add_argument("--no-install", action="store_true", help="never create the SDK venvs")
    p.add_argument("--out", default=str(_setup.BENCH / "results" / "latest.json"))
    p.add_argument("--readme", action="store_true", help="also rewrite bench/README.md's table")
    p.add_argument(
        "--no-network",
        action="store_true",
        help="skip the network-shaped run (bench.network: TLS through a 20 ms RTT proxy)",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.tokens, args.gets = 1_000, 200
    for name in ("clients", "servers", "schemes", "workloads"):
        setattr(args, name, [s for s in getattr(args, name).split(",") if s])
    return args


def _client_python(client: str, args: argparse.Namespace) -> tuple[str | None, str]:
    if client in _setup.SDK_VENVS:
        return _setup.sdk_python(client, create=not args.no_install)
    return sys.executable, ""


def _child_env(certs: _setup.Certs, scheme: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONA_", "GITPOD_"))}
    env.pop("PYTHONPATH", None)
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env.pop(proxy, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    if scheme == "https":
        # Clients without an explicit CA option (urllib, httpx) read the bench CA from here.
        env["SSL_CERT_FILE"] = certs.ca
    return env


def run_block(
    server: str,
    scheme: str,
    args: argparse.Namespace,
    data: _setup.Data,
    certs: _setup.Certs,
    workdir: Path,
) -> list[Cell]:
    """All clients against one server over one scheme, in interleaved rounds."""
    cells = {(c, w): Cell(server, scheme, c, w) for c in args.clients for w in args.workloads}
    if server == "ona" and data.db is None:
        for cell in cells.values():
            cell.status, cell.reason = "not available", data.embedded_reason
        return list(cells.values())
    srv = _start_server(server, scheme, data, certs, workdir)
    ready = srv.read(timeout=120)
    if ready.get("event") != "ready":
        srv.stop()
        for cell in cells.values():
            cell.status, cell.reason = "error", f"server did not start: {ready}"
        return list(cells.values())
    children = _start_children(server, scheme, ready, args, data, certs, workdir, cells)
    try:
        for _run in range(args.runs):
            for workload in args.workloads:
                for client, lines in children.items():
                    cell = cells[(client, workload)]
                    if cell.status == "ok":
                        _one_run(lines, srv, cell)
    finally:
        for lines in children.values():
            lines.stop()
        srv.stop()
    return list(cells.values())


def _start_server(
    server: str, scheme: str, data: _setup.Data, certs: _setup.Certs, workdir: Path
) -> _Lines:
    spec = {
        "kind": server,
        "scheme": scheme,
        "certfile": certs.cert,
        "keyfile": certs.key,
        "tokens_file": data.tokens_file,
        "db": data.db,
    }
    path = workdir / f"server-{server}-{scheme}.json"
    path.write_text(json.dumps(spec))
    return _spawn([sys.executable, "-m", "bench._servers", str(path)])


def _start_children(
    server: str,
    scheme: str,
    ready: dict[str, Any],
    args: argparse.Namespace,
    data: _setup.Data,
    certs: _setup.Certs,
    workdir: Path,
    cells: dict[tuple[str, str], Cell],
) -> dict[str, _Lines]:
    spec = {
        "url": ready["url"],
        "warm_url": ready["warm_url"],
        "token": data.admin_token if server == "ona" else "bench",
        "cafile": certs.ca if scheme == "https" else None,
        "page_size": args.page_size,
        "expect_items": data.expect_items,
        "ids": [data.ids[i % len(data.ids)] for i in range(args.gets)],
        "warm_ids": data.ids[-20:],
        "concurrency": args.concurrency,
        "workloads": args.workloads,
    }
    path = workdir / f"clients-{server}-{scheme}.json"
    path.write_text(json.dumps(spec))
    started: dict[str, _Lines] = {}
    for client in args.clients:
        python, reason = _client_python(client, args)
        if python is None:
            _mark(cells, client, "not available", reason)
            continue
        started[client] = _spawn([python, CHILD, client, str(path)], _child_env(certs, scheme))
    children: dict[str, _Lines] = {}
    for client, lines in started.items():  # warm-ups run in parallel; nothing is measured yet
        event = lines.read()
        if event.get("event") == "warm":
            children[client] = lines
            continue
        status = "not available" if event.get("event") == "unavailable" else "error"
        _mark(cells, client, status, str(event.get("reason") or event.get("message")))
        lines.stop()
    return children


def _mark(cells: dict[tuple[str, str], Cell], client: str, status: str, reason: str) -> None:
    print(f"bench: {client}: {status}: {reason}", file=sys.stderr)
    for (c, _w), cell in cells.items():
        if c == client:
            cell.status, cell.reason = status, reason


def _one_run(child: _Lines, srv: _Lines, cell: Cell) -> None:
    child.send({"cmd": "prepare", "workload": cell.workload})
    event = child.read()
    if event.get("event") == "ready":
        srv.send({"cmd": "stats"})
        before = srv.read()
        child.send({"cmd": "go"})
        event = child.read()
        srv.send({"cmd": "stats"})
        after = srv.read()
    if event.get("event") != "result":
        cell.status = "not available" if event.get("event") == "unavailable" else "error"
        cell.reason = str(event.get("reason") or event.get("message"))
        print(f"bench: {cell.client} {cell.workload}: {cell.reason}", file=sys.stderr)
        return
    for key in ("connections", "requests", "gzip_requests"):
        event[key] = after[key] - before[key]
    del event["event"]
    cell.runs.append(event)
    print(
        f"bench: {cell.server}/{cell.scheme} {cell.client:15} {cell.workload:16} "
        f"cpu {event['cpu']:.3f}s wall {event['wall']:.3f}s conns {event['connections']}",
        file=sys.stderr,
    )


def run_jsonmap(args: argparse.Namespace, data: _setup.Data, workdir: Path) -> list[Cell]:
    """Our to_json/from_json against json_format on the same 10,000 tokens, no network."""
    spec_path = workdir / "jsonmap.json"
    spec_path.write_text(json.dumps({"pages_file": data.tokens_file}))
    cells = []
    for impl in JSONMAP:
        child = _spawn([sys.executable, CHILD, f"jsonmap-{impl}", str(spec_path)])
        event = child.read()
        for op in ("encode", "decode"):
            cell = Cell("-", "-", impl, op)
            cells.append(cell)
            if event.get("event") != "warm":
                cell.status, cell.reason = "not available", str(event.get("reason"))
                continue
            for _run in range(args.runs):
                if cell.status == "ok":
                    _jsonmap_run(child, cell)
        child.stop()
    return cells


def _jsonmap_run(child: _Lines, cell: Cell) -> None:
    child.send({"cmd": "prepare", "workload": cell.workload})
    event = child.read()
    if event.get("event") == "ready":
        child.send({"cmd": "go"})
        event = child.read()
    if event.get("event") != "result":
        cell.status = "not available" if event.get("event") == "unavailable" else "error"
        cell.reason = str(event.get("reason") or event.get("message"))
        return
    del event["event"]
    cell.runs.append(event)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="ona-pats-bench-") as tmp:
        workdir = Path(tmp)
        certs = _setup.make_certs(workdir)
        print(f"bench: seeding {args.tokens} tokens", file=sys.stderr)
        data = _setup.prepare_data(workdir, args.tokens)
        cells: list[Cell] = []
        for server in args.servers:
            for scheme in args.schemes:
                cells += run_block(server, scheme, args, data, certs, workdir)
        jsonmap = [] if args.no_jsonmap else run_jsonmap(args, data, workdir)
    results = _report.build(args, cells, jsonmap, machine(), started)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    text = _report.render(results)
    print(text)
    if args.readme:
        _report.update_readme(_setup.BENCH / "README.md", text)
    print(f"bench: wrote {out}", file=sys.stderr)
    if args.no_network:
        return 0
    from . import network

    argv = (
        ["--runs", str(args.runs)] + ["--readme"] * args.readme + ["--no-install"] * args.no_install
    )
    if args.quick:
        argv += ["--tokens", "1000", "--concurrent-gets", "200", "--deletes", "200"]
    return network.main(argv)

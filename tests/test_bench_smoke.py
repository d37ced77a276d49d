"""The benchmark harness end to end with tiny sizes: a smoke run, never a benchmark.

It covers our clients, the raw connectrpc client and both floors against both servers over
plain HTTP and HTTPS on loopback, and checks the shape of the JSON the harness writes. The
official SDKs are left out: they live in their own virtual environments, which need PyPI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = (
    "ona-sync-proto",
    "ona-sync-json",
    "ona-async-proto",
    "raw-connectrpc",
    "raw-connectrpc-same",
    "raw-connectrpc-same-async",
    "floor-pyqwest",
    "floor-httpx",
)
TOKENS, GETS, PAGE_SIZE = 120, 12, 50
WORKLOADS = {"list", "gets", "gets_concurrent"}

# About 40 s on a busy 2-core machine: some 30 client and server processes start.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    argv = [sys.executable, "-m", "bench", "--tokens", str(TOKENS), "--gets", str(GETS)]
    argv += ["--page-size", str(PAGE_SIZE), "--concurrency", "4", "--runs", "1"]
    argv += ["--clients", ",".join(CLIENTS), "--no-install", "--no-network", "--out", str(out)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr
    assert "### Targets (issue 7, point 2; T7: issue 16, point 3)" in done.stdout
    parsed: dict[str, Any] = json.loads(out.read_text())
    return parsed


def test_bench_smoke_writes_every_cell(results: dict[str, Any]) -> None:
    assert results["sizes"] == {
        "tokens": TOKENS,
        "gets": GETS,
        "concurrency": 4,
        "page_size": PAGE_SIZE,
        "runs": 1,
    }
    cells = {(r["server"], r["scheme"], r["client"], r["workload"]) for r in results["results"]}
    servers, schemes = ("floor", "ona"), ("http", "https")
    expected = {(s, t, c, w) for s in servers for t in schemes for c in CLIENTS for w in WORKLOADS}
    assert cells == expected


def test_bench_smoke_measures_every_client(results: dict[str, Any]) -> None:
    for row in results["results"]:
        assert row["status"] == "ok", row
        assert len(row["runs"]) == 1
        assert row["cpu"] > 0
        assert row["wall"] > 0
        assert row["connections"] >= 1
        assert row["ratios"]["cpu_vs_floor-pyqwest"] is not None


def test_bench_smoke_counts_connections_and_requests(results: dict[str, Any]) -> None:
    rows = {(r["server"], r["scheme"], r["client"], r["workload"]): r for r in results["results"]}
    for server in ("floor", "ona"):
        for scheme in ("http", "https"):
            ours = rows[(server, scheme, "ona-sync-proto", "gets")]
            # One kept-alive connection: both servers send each response at once, framed by
            # its length, so the connection is idle again before the client has the response.
            assert ours["connections"] == 1
            assert ours["requests"] == GETS
            assert ours["gzip_requests"] == 0
            # connectrpc's own default compresses every request body, however small.
            raw = rows[(server, scheme, "raw-connectrpc", "gets")]
            assert raw["gzip_requests"] == GETS


def test_bench_smoke_marks_targets(results: dict[str, Any]) -> None:
    ids = {t["id"] for t in results["targets"]}
    assert ids == {"T1", "T2", "T3", "T4", "T5", "T6", "T7"}
    for target in results["targets"]:
        assert target["met"] in (True, False, None)
        if target["id"] in ("T1", "T3", "T4", "T5", "T6", "T7"):
            assert target["met"] is not None, target


def test_bench_smoke_compares_json_mapping(results: dict[str, Any]) -> None:
    rows = {(r["client"], r["workload"]): r for r in results["jsonmap"]}
    assert set(rows) == {(i, op) for i in ("ours", "json_format") for op in ("encode", "decode")}
    for row in rows.values():
        assert row["status"] == "ok", row
        assert row["cpu"] > 0


NET_CLIENTS = ("ona-sync-proto", "ona-async-proto", "floor-pyqwest")


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``bench.network`` through the RTT proxy (5 ms) with tiny sizes, over TLS with HTTP/2."""
    out = tmp_path_factory.mktemp("network") / "network.json"
    argv = [sys.executable, "-m", "bench.network", "--rtt-ms", "5", "--tokens", "150"]
    argv += ["--gets", "8", "--concurrent-gets", "40", "--concurrency", "8", "--deletes", "16"]
    argv += ["--runs", "1", "--clients", ",".join(NET_CLIENTS), "--no-install", "--out", str(out)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "### Targets at 20 ms RTT" not in done.stdout  # only measured at 20 ms
    parsed: dict[str, Any] = json.loads(out.read_text())
    return parsed


def test_network_smoke_measures_every_cell_through_the_proxy(network: dict[str, Any]) -> None:
    rows = {(r["client"], r["workload"]): r for r in network["rows"]}
    expected = {
        (c, w)
        for c in NET_CLIENTS
        for w in ("gets", "gets_concurrent", "list", "deletes")
        if (c, w) != ("ona-async-proto", "deletes")
    } | {("ona-async-proto", "deletes_bulk_8"), ("ona-async-proto", "deletes_bulk_32")}
    assert set(rows) == expected
    for row in rows.values():
        assert row["status"] == "ok", row
        (run,) = row["runs"]
        assert run["items"] > 0
        assert run["tls_handshakes"] == run["connections"] >= 1
        assert set(run["http"]) == {"2"}, run
    # Eight sequential Gets through a 5 ms proxy take at least their round trips.
    assert rows[("ona-sync-proto", "gets")]["runs"][0]["wall"] >= 8 * 0.005


def test_network_smoke_shares_one_http2_connection_for_a_burst(network: dict[str, Any]) -> None:
    rows = {(r["client"], r["workload"]): r for r in network["rows"]}
    for workload in ("gets_concurrent", "deletes_bulk_8", "deletes_bulk_32"):
        assert rows[("ona-async-proto", workload)]["runs"][0]["connections"] == 1
    # The bare pyqwest loop opens one per concurrent call before ALPN settles.
    assert rows[("floor-pyqwest", "gets_concurrent")]["runs"][0]["connections"] > 1

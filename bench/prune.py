"""``python -m bench.prune``: pruning N tokens with ``ona-pats prune`` at a bounded concurrency
versus one at a time, side by side in one run.

The embedded server runs in its own process (``ona_pats.server.Server`` with a file database);
before each measured run the bench inserts N fresh tokens for a new user straight into that
database, then times, each in its own process:

- ``prune --concurrency C``: ``ona-pats prune --user-id U --yes --concurrency C`` (the CLI:
  listing, then ``AsyncClient`` ``delete_many``), for each C given;
- ``one at a time``: ``ona-pats prune ... --concurrency 1``;
- ``delete loop``: what a script without the bulk path does: list, then ``Client.delete`` for
  each token in turn.

Prints a table of median wall times and the ratio to
one at a time; ``--out`` writes every run as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_SERVER = """
import json, sys
from ona_pats.server import Server
with Server(port=0, db_path=sys.argv[1]) as srv:
    print(json.dumps({"url": srv.base_url, "token": srv.admin_token}), flush=True)
    sys.stdin.read()
"""

_LOOP = """
import sys
from ona_pats import Client
with Client() as client:
    ids = [pat.id for pat in client.users.pats.list(filter={"user_ids": [sys.argv[1]]})]
    for pat_id in ids:
        client.users.pats.delete(personal_access_token_id=pat_id)
print(len(ids))
"""


def _seed(db: str, n: int) -> str:
    """Insert ``n`` never-used tokens of a new user into the server's database."""
    from ona_pats.server import Store, seed_tokens

    user = str(uuid.uuid4())
    store = Store(db)
    try:
        seed_tokens(store, n, user_ids=[user], random_seed=1)
    finally:
        store.close()
    return user


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.prune", description=__doc__.split("\n")[0])
    p.add_argument("--tokens", type=int, default=1000, help="tokens pruned per run (default 1000)")
    p.add_argument("--concurrency", default="8", help="comma-separated (default 8)")
    p.add_argument("--runs", type=int, default=3, help="runs per mode; the median is shown")
    p.add_argument("--no-loop", action="store_true", help="skip the Client.delete loop")
    p.add_argument("--out", help="write every run as JSON here")
    args = p.parse_args(argv)

    modes: dict[str, list[str]] = {
        f"prune --concurrency {c}": ["--concurrency", c] for c in args.concurrency.split(",")
    }
    modes["one at a time (prune --concurrency 1)"] = ["--concurrency", "1"]
    if not args.no_loop:
        modes["delete loop (Client.delete per token)"] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.sqlite3")
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER, db],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            info = json.loads(server.stdout.readline())
            env = {**os.environ, "ONA_BASE_URL": info["url"], "ONA_API_KEY": info["token"]}
            env["NO_PROXY"] = "127.0.0.1"
            walls: dict[str, list[float]] = {mode: [] for mode in modes}
            for _ in range(args.runs):
                for mode, extra in modes.items():
                    user = _seed(db, args.tokens)
                    if extra:
                        cmd = [
                            sys.executable,
                            "-m",
                            "ona_pats",
                            "prune",
                            "--user-id",
                            user,
                            "--yes",
                        ]
                        walls[mode].append(_timed([*cmd, *extra], env))
                    else:
                        walls[mode].append(_timed([sys.executable, "-c", _LOOP, user], env))
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(30)
    baseline = statistics.median(walls["one at a time (prune --concurrency 1)"])
    where = "embedded server on loopback"
    print(f"\nPruning {args.tokens:,} tokens, {where}, {args.runs} runs (median):\n")
    print("| how | wall s | vs one at a time |\n|---|---:|---:|")
    for mode, values in walls.items():
        median = statistics.median(values)
        print(f"| {mode} | {median:.2f} | {baseline / median:.2f}x |")
    if args.out:
        document: dict[str, Any] = {"tokens": args.tokens, "runs": walls}
        Path(args.out).write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Profile one client on one workload against the floor server: ``python -m bench.profile``.

```
python -m bench.profile ona-sync-proto gets --gets 5000            # pyinstrument, text
python -m bench.profile ona-sync-proto list --profiler cprofile     # call counts, tottime
python -m bench.profile floor-pyqwest gets --scheme https
```

The floor server runs in its own process (as in the benchmark), so the profile shows only the
client's own work.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import _child, _setup


def _start_floor(workdir: Path, scheme: str, tokens: int) -> tuple[subprocess.Popen[str], Any]:
    certs = _setup.make_certs(workdir)
    data = _setup.prepare_data(workdir, tokens)
    spec = {
        "kind": "floor",
        "scheme": scheme,
        "certfile": certs.cert,
        "keyfile": certs.key,
        "tokens_file": data.tokens_file,
        "db": None,
    }
    (workdir / "server.json").write_text(json.dumps(spec))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._servers", str(workdir / "server.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=_setup.BENCH.parent,
    )
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())
    return proc, (ready, data, certs)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    p.add_argument("client", choices=sorted(_child.CLIENTS))
    p.add_argument("workload", choices=("list", "gets", "gets_concurrent"))
    p.add_argument("--scheme", default="http", choices=("http", "https"))
    p.add_argument("--tokens", type=int, default=10_000)
    p.add_argument("--gets", type=int, default=5_000)
    p.add_argument("--repeat", type=int, default=3, help="workload repetitions profiled")
    p.add_argument("--profiler", default="pyinstrument", choices=("pyinstrument", "cprofile"))
    p.add_argument("--top", type=int, default=35, help="cProfile: rows shown")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ona-pats-profile-") as tmp:
        proc, (ready, data, certs) = _start_floor(Path(tmp), args.scheme, args.tokens)
        try:
            _profile(args, ready, data, certs)
        finally:
            assert proc.stdin is not None
            proc.stdin.write('{"cmd": "quit"}\n')
            proc.stdin.flush()
            proc.wait(timeout=30)


def _profile(args: argparse.Namespace, ready: dict[str, Any], data: Any, certs: Any) -> None:
    import os

    if args.scheme == "https":
        os.environ["SSL_CERT_FILE"] = certs.ca
    spec = _child.Spec(
        {
            "url": ready["url"],
            "warm_url": ready["warm_url"],
            "token": "bench",
            "cafile": certs.ca if args.scheme == "https" else None,
            "page_size": 100,
            "expect_items": data.expect_items,
            "ids": [data.ids[i % len(data.ids)] for i in range(args.gets)],
            "warm_ids": data.ids[-20:],
            "concurrency": 50,
        }
    )
    client = _child.CLIENTS[args.client](spec)
    _child.warm_up(client, spec, [args.workload])

    def work() -> None:
        for _ in range(args.repeat):
            steps = _child.run_workload(client, args.workload, spec.url, spec.ids)
            next(steps)
            print(next(steps), file=sys.stderr)

    if args.profiler == "cprofile":
        import cProfile
        import pstats
        import time

        # Process CPU time, not wall time: waiting on the server costs nothing here, while
        # pyqwest's own Rust threads are still counted (inside the ``post`` calls).
        prof = cProfile.Profile(time.process_time)
        prof.runcall(work)
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0002)
    profiler.start()
    work()
    profiler.stop()
    print(profiler.output_text(show_all=False, color=False, unicode=True))


if __name__ == "__main__":
    main()

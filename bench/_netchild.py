"""One client of the network benchmark in its own process: ``python bench/_netchild.py CLIENT
SPEC.json``. The clients are ``_child``'s; this adds the delete workloads and a simpler loop.

It warms up against the proxy's warm-up port (so no warmed connection is pooled to the
measured one), prints ``{"event": "warm"}`` (or ``unavailable``), then for each line
``{"cmd": "run", "workload": W, "ids": [...]}`` opens a fresh client, times the workload and
prints ``{"event": "result", "wall": s, "cpu": s, "items": n}``; ``{"cmd": "quit"}`` ends.

Workloads: ``gets`` (sequential), ``gets_concurrent``, ``list`` (as in ``_child``),
``deletes`` (one at a time, as each client's users would write it) and ``deletes_bulk_N``
(ona-pats ``AsyncClient.users.pats.delete_many(ids, concurrency=N)``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import traceback
from typing import Any

import _child  # bench/ is this script's directory, first on sys.path

_DELETE = "/gitpod.v1.UserService/DeletePersonalAccessToken"


def _delete_one_by_one(client: _child.Client, c: Any, ids: list[str]) -> int:
    if isinstance(client, _child.OfficialConnect):
        for pat_id in ids:
            request = client.pb.DeletePersonalAccessTokenRequest(personal_access_token_id=pat_id)
            c._unary(c.services.user.delete_personal_access_token, request, "users.pats.delete")
    elif isinstance(client, _child.FloorPyqwest):
        url, http, _ = c
        for pat_id in ids:
            body = client.pb.DeletePersonalAccessTokenRequest(personal_access_token_id=pat_id)
            r = http.post(url + _DELETE, client.headers, body.SerializeToString())
            if r.status != 200:
                raise RuntimeError(f"delete: HTTP {r.status}")
    else:  # ona-pats Client, and gitpod-sdk 0.11.0's Gitpod
        for pat_id in ids:
            c.users.pats.delete(personal_access_token_id=pat_id)
    return len(ids)


def _timed(work: Any) -> dict[str, Any]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    items = work()
    wall1, cpu1 = time.perf_counter(), time.process_time()
    return {"event": "result", "wall": wall1 - wall0, "cpu": cpu1 - cpu0, "items": items}


def _run(client: _child.Client, spec: _child.Spec, workload: str, ids: list[str]) -> dict[str, Any]:
    if workload in ("gets", "gets_concurrent", "list"):
        steps = _child.run_workload(client, workload, spec.url, ids)
        next(steps)  # "ready": the client is open
        return dict(json.loads(next(steps)))
    if workload == "deletes":
        c = client.open(spec.url)
        try:
            return _timed(lambda: _delete_one_by_one(client, c, ids))
        finally:
            client.close(c)
    concurrency = int(workload.rsplit("_", 1)[1])  # deletes_bulk_N, ona-pats AsyncClient
    from ona_pats import AsyncClient

    async def bulk() -> int:
        async with AsyncClient(base_url=spec.url, token=spec.token) as c:
            outcomes = await c.users.pats.delete_many(ids, concurrency=concurrency)
        if not all(outcome.gone for outcome in outcomes):
            raise RuntimeError("a bulk delete failed")
        return len(outcomes)

    return _timed(lambda: asyncio.run(bulk()))


def main() -> None:
    name = sys.argv[1]
    with open(sys.argv[2]) as f:
        spec_raw = json.load(f)
    out = sys.stdout
    sys.stdout = sys.stderr  # library output must not corrupt the protocol

    def send(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    spec = _child.Spec(spec_raw)
    client = _child.start(name, spec, ["gets"], send)
    if client is None:
        return
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            return
        try:
            send(_run(client, spec, cmd["workload"], cmd["ids"]))
        except Exception as exc:
            traceback.print_exc()
            send({"event": "error", "reason": repr(exc)[:500]})


if __name__ == "__main__":
    main()

"""Writes the shared test vectors in testdata/vectors/ from the messages listed below.

Each vector is a pair: ``NAME.binpb`` (binary protobuf, deterministic serialization) and
``NAME.json`` (the canonical proto3 JSON mapping, as google.protobuf's json_format prints it),
plus one line in ``manifest.json`` naming the message type. Python (tests/test_vectors.py) and
TypeScript (interop/vectors.ts) both decode every vector and re-encode it. The output depends
only on this file, so running it twice gives the same bytes; ``--check`` verifies that the
committed vectors are current without writing anything.

Usage: python scripts/make_vectors.py [--check] [OUTPUT_DIR]   (default: testdata/vectors)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from ona_pats import types

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "testdata" / "vectors"
MANIFEST = "manifest.json"

_USER = "8b0a6f1e-2c4d-4e5f-9a7b-1c2d3e4f5a6b"
_OTHER_USER = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
_CURSOR = "eyJvZmZzZXQiOjN9"  # an opaque continuation token, as a server may send one


def _pat(n: int, **overrides: object) -> types.PersonalAccessToken:
    """A fully populated token; ``n`` varies the id and the timestamps."""
    pat = types.PersonalAccessToken(
        id=f"0d6c1f3a-7b2e-4c9d-8e1f-{n:012x}",
        user_id=_USER,
        description=f"ci token {n}",
        creator=types.Subject(id=_OTHER_USER, principal=types.Principal.PRINCIPAL_USER),
        created_at=Timestamp(seconds=1_700_000_000 + n, nanos=123_456_789),
        expires_at=Timestamp(seconds=1_707_776_000 + n, nanos=123_456_000),
        last_used=Timestamp(seconds=1_700_003_600 + n, nanos=500_000_000),
        read_only=n % 2 == 1,
    )
    for field, value in overrides.items():
        setattr(pat, field, value)
    return pat


def _edge(seconds: int, nanos: int) -> types.PersonalAccessToken:
    return types.PersonalAccessToken(created_at=Timestamp(seconds=seconds, nanos=nanos))


def vectors() -> list[tuple[str, str, Message]]:
    """(name, note, message) for every vector, in manifest order."""
    full = _pat(1, description="déploiement ✓ 🚀 (UTF-8)")
    page = types.ListPersonalAccessTokensResponse(
        pagination=types.PaginationResponse(next_token=_CURSOR),
        personal_access_tokens=[_pat(2), _pat(3), _pat(4)],
    )
    result: list[tuple[str, str, Message]] = [
        ("pat-full", "every PersonalAccessToken field set, non-ASCII description", full),
        ("list-response-page", "three tokens and a next token", page),
        (
            "list-request",
            "pagination and a user filter",
            types.ListPersonalAccessTokensRequest(
                pagination=types.PaginationRequest(page_size=100, token=_CURSOR),
                filter=types.ListPersonalAccessTokensRequest.Filter(user_ids=[_USER, _OTHER_USER]),
            ),
        ),
        (
            "create-request",
            "the 90-day maximum validity, read-only",
            types.CreatePersonalAccessTokenRequest(
                user_id=_USER,
                description="ci",
                valid_for=Duration(seconds=7_776_000),
                read_only=True,
            ),
        ),
        (
            "create-request-fractional-duration",
            "a Duration with nanoseconds",
            types.CreatePersonalAccessTokenRequest(
                user_id=_USER, valid_for=Duration(seconds=3600, nanos=1)
            ),
        ),
        (
            "get-response",
            "a token inside a response",
            types.GetPersonalAccessTokenResponse(pat=_pat(5)),
        ),
    ]
    for name, number in types.Principal.items():
        result.append(
            (
                "subject-" + name.removeprefix("PRINCIPAL_").lower().replace("_", "-"),
                f"Principal {name} = {number}",
                types.Subject(id=_OTHER_USER, principal=number),
            )
        )
    result.append(
        (
            "subject-unknown-principal",
            "Principal 7, reserved (once PRINCIPAL_AGENT_EXECUTION): kept as a number",
            types.Subject(id=_OTHER_USER, principal=7),  # type: ignore[arg-type]
        )
    )
    edges = [
        ("timestamp-min", "0001-01-01T00:00:00Z", -62_135_596_800, 0),
        ("timestamp-max", "9999-12-31T23:59:59.999999999Z", 253_402_300_799, 999_999_999),
        ("timestamp-one-nanosecond", "1970-01-01T00:00:00.000000001Z", 0, 1),
        ("timestamp-epoch", "1970-01-01T00:00:00Z, set but all zero", 0, 0),
        ("timestamp-before-1970", "1969-07-20T20:17:40Z, negative seconds", -14_182_940, 0),
        ("timestamp-before-1970-fraction", "1969-12-31T23:59:59.5Z", -1, 500_000_000),
    ]
    for name, note, seconds, nanos in edges:
        result.append((name, f"created_at {note}", _edge(seconds, nanos)))
    for file in (types.PAGINATION_FILE, types.IDENTITY_FILE, types.USER_FILE):
        for message_name in file.message_types_by_name:
            empty: Message = getattr(types, message_name)()
            result.append((f"empty-{message_name}", "no field set", empty))
    return result


def render(out: Path) -> dict[Path, bytes]:
    """The content of every file of the vector folder, by path."""
    files: dict[Path, bytes] = {}
    manifest = []
    for name, note, message in vectors():
        full_name = message.DESCRIPTOR.full_name
        files[out / f"{name}.binpb"] = message.SerializeToString(deterministic=True)
        canonical = json_format.MessageToDict(message)
        files[out / f"{name}.json"] = _dump(canonical)
        manifest.append(
            {
                "name": name,
                "type": full_name,
                "binary": f"{name}.binpb",
                "json": f"{name}.json",
                "note": note,
            }
        )
    files[out / MANIFEST] = _dump(
        {"comment": "Generated by scripts/make_vectors.py; do not edit.", "vectors": manifest}
    )
    return files


def _dump(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the folder is stale")
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    out: Path = args.out
    files = render(out)
    existing = set(out.glob("*")) if out.is_dir() else set()
    stale = sorted(existing - files.keys())
    changed = sorted(p for p, data in files.items() if not p.exists() or p.read_bytes() != data)
    if args.check:
        for path in stale + changed:
            print(f"stale test vector: {path} (run scripts/make_vectors.py)", file=sys.stderr)
        return 1 if stale or changed else 0
    out.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.unlink()
    for path, data in files.items():
        path.write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

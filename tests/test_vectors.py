"""The shared test vectors (testdata/vectors) decode and re-encode exactly in Python.

Binary re-encodes byte for byte (deterministic serialization); JSON re-encodes to equal JSON;
the two halves of a pair describe the same message. interop/vectors.ts checks the same folder
with protobuf-es (tests/interop/test_vectors_ts.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.message import Message

import ona_pats
import ona_pats.types  # registers the gitpod.v1 schema in the default descriptor pool

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "testdata" / "vectors"
Entry = dict[str, str]


def load_manifest(directory: Path) -> list[Entry]:
    """The manifest's vectors: name, message type and the two file names."""
    manifest: dict[str, Any] = json.loads((directory / "manifest.json").read_text())
    return list(manifest["vectors"])


@dataclass(frozen=True)
class JSONMapping:
    """One implementation of the proto3 JSON mapping, as JSON-shaped Python data."""

    read: Callable[[Any, type[Message]], Message]
    write: Callable[[Message], Any]


#: Google's reference implementation, and the project's own (strict RFC 3339) mapping.
JSON_FORMAT = JSONMapping(
    lambda data, cls: json_format.ParseDict(data, cls()), json_format.MessageToDict
)
ONA_PATS = JSONMapping(ona_pats.from_dict, lambda m: ona_pats.to_dict(m, include_defaults=False))
MAPPINGS = [pytest.param(JSON_FORMAT, id="json_format"), pytest.param(ONA_PATS, id="ona_pats")]


def _message_class(full_name: str) -> type[Message]:
    descriptor = descriptor_pool.Default().FindMessageTypeByName(full_name)
    return message_factory.GetMessageClass(descriptor)


def check_vector(directory: Path, entry: Entry, mapping: JSONMapping = JSON_FORMAT) -> list[str]:
    """What is wrong with one vector, as sentences; empty when it round-trips exactly."""
    cls = _message_class(entry["type"])
    data = (directory / entry["binary"]).read_bytes()
    text: dict[str, Any] = json.loads((directory / entry["json"]).read_text(encoding="utf-8"))
    from_binary = cls.FromString(data)
    from_json = mapping.read(text, cls)
    checks = {
        "binary does not re-encode to the same bytes": _binary(from_binary) == data,
        "JSON does not re-encode to equal JSON": mapping.write(from_json) == text,
        "the binary message, as JSON, differs from the JSON file": mapping.write(from_binary)
        == text,
        "the JSON message, as binary, differs from the binary file": _binary(from_json) == data,
    }
    return [problem for problem, ok in checks.items() if not ok]


def check_folder(directory: Path) -> list[str]:
    """Every problem of every vector in ``directory``, prefixed with the vector's name."""
    return [
        f"{entry['name']}: {problem}"
        for entry in load_manifest(directory)
        for problem in check_vector(directory, entry)
    ]


def _binary(message: Message) -> bytes:
    return message.SerializeToString(deterministic=True)


@pytest.mark.parametrize("mapping", MAPPINGS)
@pytest.mark.parametrize("entry", load_manifest(VECTORS), ids=lambda entry: entry["name"])
def test_vector_round_trips(entry: Entry, mapping: JSONMapping) -> None:
    assert check_vector(VECTORS, entry, mapping) == []


def test_vectors_cover_the_issue_list() -> None:
    """Issue 6 names the kinds of vectors; the manifest holds one of each."""
    names = {entry["name"] for entry in load_manifest(VECTORS)}
    types = {entry["type"] for entry in load_manifest(VECTORS)}
    assert {"pat-full", "list-response-page", "timestamp-min", "timestamp-max"} <= names
    assert {"timestamp-one-nanosecond", "timestamp-before-1970"} <= names
    principals = [p.removeprefix("PRINCIPAL_") for p in _principal_names()]
    assert {"subject-" + p.lower().replace("_", "-") for p in principals} <= names
    assert {f"empty-{t.removeprefix('gitpod.v1.')}" for t in types} <= names


def test_vectors_are_current() -> None:
    """The committed folder is what scripts/make_vectors.py writes."""
    script = ROOT / "scripts" / "make_vectors.py"
    result = subprocess.run(
        [sys.executable, script, "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_changed_byte_is_a_mismatch(tmp_path: Path) -> None:
    """A vector with one changed byte fails the check: the test can see a broken contract."""
    copy = shutil.copytree(VECTORS, tmp_path / "vectors")
    tampered = copy / "pat-full.binpb"
    data = bytearray(tampered.read_bytes())
    data[-1] ^= 0x01  # read_only: true becomes an explicit false
    tampered.write_bytes(bytes(data))

    assert check_folder(VECTORS) == []
    problems = check_folder(copy)
    assert problems
    assert all(problem.startswith("pat-full: ") for problem in problems)


def _principal_names() -> list[str]:
    return [value.name for value in ona_pats.types.Principal.DESCRIPTOR.values]

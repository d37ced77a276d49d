"""Run by tests/test_rules_agreement.py with the protovalidate virtual environment's Python.

Loads our schema, rules included (a ``buf build`` image of proto/), into protobuf's global
pool next to the ``buf/validate/validate.proto`` that protovalidate imports, builds each case's
message from its proto3 JSON and prints protovalidate's violations as JSON lines:
``[[field path, rule id, message], ...]`` per case.

Usage: python _official.py IMAGE CASES_JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import protovalidate
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def _path(violation: protovalidate.Violation) -> str:
    text = ""
    for element in violation.proto.field.elements:
        if element.field_name:
            text += ("." if text else "") + element.field_name
        if element.HasField("index"):
            text += f"[{element.index}]"
    return text


def main(image: Path, cases: Path) -> None:
    pool = descriptor_pool.Default()
    files = descriptor_pb2.FileDescriptorSet.FromString(image.read_bytes())
    for file in files.file:
        if file.name.startswith("gitpod/"):
            pool.Add(file)
    validator = protovalidate.Validator()
    for case in json.loads(cases.read_text()):
        cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(case["type"]))
        message = json_format.ParseDict(case["json"], cls())
        found = validator.collect_violations(message)
        print(json.dumps([[_path(v), v.proto.rule_id, v.proto.message] for v in found]))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

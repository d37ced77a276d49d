"""Regenerates tests/fixtures/gitpod-sdk-1.2.0.binpb, the official gitpod.v1 descriptors.

The official ``gitpod-sdk`` wheel embeds each proto file's serialized FileDescriptorProto in
its generated ``*_pb2.py`` modules. That package cannot be installed next to ona_pats (it ships
a top-level ``gitpod`` package and pins an older connectrpc), so this script downloads the
wheel, reads the modules' source with ``ast`` and never imports them. It writes a
FileDescriptorSet holding ``gitpod/v1/{pagination,identity,user}.proto`` and every file they
import, in dependency order (google/protobuf files come from the protobuf runtime).

Usage: python scripts/extract_official_descriptors.py [--wheel PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import ast
import importlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from google.protobuf import descriptor_pb2

VERSION = "1.2.0"
ROOTS = ("gitpod/v1/pagination.proto", "gitpod/v1/identity.proto", "gitpod/v1/user.proto")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/gitpod-sdk-1.2.0.binpb"


def download_wheel(directory: Path) -> Path:
    """Download the gitpod-sdk wheel (no dependencies) into ``directory``."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(directory),
            f"gitpod-sdk=={VERSION}",
        ],
        check=True,
    )
    return next(directory.glob("gitpod_sdk-*.whl"))


def embedded_files(wheel: Path) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """Every FileDescriptorProto serialized in the wheel's ``*_pb2.py`` modules, by file name."""
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not name.endswith("_pb2.py"):
                continue
            for node in ast.walk(ast.parse(archive.read(name))):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "attr", "") == "AddSerializedFile"
                ):
                    proto = descriptor_pb2.FileDescriptorProto.FromString(
                        ast.literal_eval(node.args[0])
                    )
                    files[proto.name] = proto
    return files


def runtime_file(name: str) -> descriptor_pb2.FileDescriptorProto:
    """A google/protobuf well-known file, from the protobuf runtime."""
    module = importlib.import_module(name.removesuffix(".proto").replace("/", ".") + "_pb2")
    proto = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    return proto


def closure(
    files: dict[str, descriptor_pb2.FileDescriptorProto],
) -> descriptor_pb2.FileDescriptorSet:
    """The roots and their transitive imports, each file after the files it imports."""
    ordered: list[descriptor_pb2.FileDescriptorProto] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        proto = files.get(name) or runtime_file(name)
        for dependency in proto.dependency:
            visit(dependency)
        ordered.append(proto)

    for root in ROOTS:
        visit(root)
    return descriptor_pb2.FileDescriptorSet(file=ordered)


def main() -> None:
    """Parse arguments, extract, and write the fixture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a local gitpod_sdk-1.2.0 wheel")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        descriptor_set = closure(embedded_files(wheel))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(descriptor_set.SerializeToString(deterministic=True))
    print(f"wrote {args.out} ({len(descriptor_set.file)} files)")


if __name__ == "__main__":
    main()

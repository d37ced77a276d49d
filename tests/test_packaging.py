"""The distribution: what the wheel holds, what it installs, and how it meets the official SDK."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ona_pats._version import __version__

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests/fixtures/gitpod-sdk-1.2.0.binpb"


def _clone_tree(destination: Path) -> None:
    """Copy the committed and staged files of this checkout, as a fresh clone would have them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        source = ROOT / raw.decode()
        if not source.exists() and not source.is_symlink():
            continue
        target = destination / raw.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout, as ``pip install .`` would build it."""
    tree = tmp_path_factory.mktemp("tree")
    _clone_tree(tree)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(tree),
        ],
        check=True,
        capture_output=True,
    )
    return next(out.glob("ona_pats-*.whl"))


def test_every_file_in_the_wheel_is_under_ona_pats(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    outside = [n for n in names if not n.startswith(("ona_pats/", "ona_pats-"))]
    assert outside == []
    assert {n.split("/")[0] for n in names} == {"ona_pats", f"ona_pats-{__version__}.dist-info"}


def test_the_wheel_ships_the_generated_modules_stubs_and_py_typed(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in (
        "user_pb2.py",
        "user_pb2.pyi",
        "user_connect.py",
        "identity_pb2.py",
        "pagination_pb2.pyi",
    ):
        assert f"ona_pats/_gen/gitpod/v1/{module}" in names
    assert "ona_pats/py.typed" in names


def test_the_installed_wheel_imports_and_installs_no_gitpod_package(
    wheel: Path, tmp_path: Path
) -> None:
    """``pip install`` of the wheel gives a working ``import ona_pats`` and no ``gitpod``."""
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    installed = {p.name for p in site.iterdir() if not p.name.endswith(".dist-info")}
    assert installed - {"bin"} == {"ona_pats"}  # bin/ holds the ona-pats console script
    script = (
        "import ona_pats, ona_pats.types as t, sys\n"
        f"assert ona_pats.__file__.startswith({str(site)!r}), ona_pats.__file__\n"
        "assert t.PersonalAccessToken.DESCRIPTOR.full_name == 'gitpod.v1.PersonalAccessToken'\n"
        "try:\n    import gitpod\nexcept ModuleNotFoundError:\n    sys.exit(0)\n"
        "sys.exit('import gitpod succeeded')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_import_fails_clearly_when_another_gitpod_schema_is_registered() -> None:
    """With the official SDK's descriptors in the global pool, ``import ona_pats`` explains."""
    script = (
        "from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool\n"
        "from google.protobuf import duration_pb2, timestamp_pb2\n"
        f"s = descriptor_pb2.FileDescriptorSet.FromString(open({str(FIXTURE)!r}, 'rb').read())\n"
        "for f in s.file:\n"
        "    if not f.name.startswith('google/'):\n"
        "        descriptor_pool.Default().AddSerializedFile(f.SerializeToString())\n"
        "import ona_pats.types\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: ona_pats cannot load its gitpod.v1 schema"), last
    assert "separate virtual environments" in last
    assert "gitpod-sdk" in last

"""What a run needs before any client starts: certificates, data, the SDKs' environments."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from ona_pats._schema import identity_pb2, user_pb2

BENCH = Path(__file__).resolve().parent
VENVS = BENCH / ".venvs"

#: The official SDKs: each needs its own environment (both ship a top-level ``gitpod``).
SDK_VENVS = {
    "sdk-1.2.0": ("sdk120", "gitpod-sdk==1.2.0"),
    "sdk-0.11.0": ("sdk011", "gitpod-sdk==0.11.0"),
}


@dataclass(frozen=True)
class Certs:
    """A CA and a server certificate for 127.0.0.1, made by trustme for this run."""

    ca: str
    cert: str
    key: str


def make_certs(workdir: Path) -> Certs:
    import trustme

    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    paths = Certs(str(workdir / "ca.pem"), str(workdir / "server.pem"), str(workdir / "server.key"))
    ca.cert_pem.write_to_path(paths.ca)
    server.private_key_pem.write_to_path(paths.key)
    with open(paths.cert, "wb") as f:
        for blob in server.cert_chain_pems:
            f.write(blob.bytes())
    return paths


@dataclass(frozen=True)
class Data:
    """The tokens every server serves, and how to reach the embedded one."""

    tokens_file: str
    ids: list[str]
    expect_items: int
    db: str | None  # the embedded server's SQLite file, or None when it is not available
    admin_token: str
    embedded_reason: str  # why the embedded server is not available ("" when it is)


def prepare_data(workdir: Path, n: int) -> Data:
    """Seed the embedded server's store and export its tokens for the floor; without the
    embedded server, synthesise tokens of the same shape."""
    tokens_file = workdir / "tokens.bin"
    try:
        from ona_pats.server._seed import seed_tokens
        from ona_pats.server._store import Store
    except ImportError as exc:
        pats = _synthetic(n)
        _write(tokens_file, pats)
        reason = f"ona_pats.server is not available ({exc})"
        return Data(str(tokens_file), [p.id for p in pats], n, None, "bench", reason)
    db = workdir / "ona.sqlite3"
    with Store(db) as store:
        admin = store.bootstrap_admin()
        assert admin is not None
        seed_tokens(store, n, random_seed=7)
        pats = store.list(None, None, store.count())
    _write(tokens_file, pats)
    ids = [p.id for p in pats if p.id != admin.id]
    return Data(str(tokens_file), ids, len(pats), str(db), admin.token, "")


def _write(path: Path, pats: list[user_pb2.PersonalAccessToken]) -> None:
    msg = user_pb2.ListPersonalAccessTokensResponse(personal_access_tokens=pats)
    path.write_bytes(msg.SerializeToString())


def _synthetic(n: int) -> list[user_pb2.PersonalAccessToken]:
    rng = random.Random(7)
    users = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(20)]
    now = 1_790_000_000
    pats = []
    for _ in range(n):
        user = rng.choice(users)
        pat = user_pb2.PersonalAccessToken(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            user_id=user,
            description=rng.choice(("CI pipeline", "laptop CLI", "Terraform provider")),
            creator=identity_pb2.Subject(id=user, principal=identity_pb2.PRINCIPAL_USER),
            read_only=rng.random() < 0.25,
        )
        created = now - rng.randrange(80 * 86400)
        pat.created_at.FromNanoseconds(created * 10**9 + rng.randrange(10**9))
        pat.expires_at.FromSeconds(created + 30 * 86400)
        pat.last_used.FromNanoseconds((created + 3600) * 10**9 + rng.randrange(10**9))
        pats.append(pat)
    return pats


def sdk_python(client: str, *, create: bool) -> tuple[str | None, str]:
    """The interpreter of an official SDK's environment (made on first use), or why not."""
    name, requirement = SDK_VENVS[client]
    venv = VENVS / name
    python = venv / "bin" / "python"
    marker = venv / ".bench-installed"
    if marker.exists() and marker.read_text().strip() == requirement:
        return str(python), ""
    if not create:
        return None, f"{venv} is missing (run without --no-install to create it)"
    print(f"bench: creating {venv} with {requirement}", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, requirement], check=True, env={**os.environ, "PIP_NO_INPUT": "1"})
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"could not install {requirement}: {exc}"
    marker.write_text(requirement + "\n")
    return str(python), ""

"""Realistic demo and benchmark data, inserted in one bulk transaction."""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Sequence

from ona_pats._schema import identity_pb2

from ._store import Row, Store

_DAY_NS = 24 * 3600 * 10**9
_LIFETIMES_DAYS = (30, 30, 60, 90)
_DESCRIPTIONS = (
    "CI pipeline",
    "GitHub Actions deploy",
    "laptop CLI",
    "Terraform provider",
    "VS Code extension",
    "JetBrains Gateway",
    "nightly backup script",
    "monitoring probe",
    "local development",
    "release automation",
    "data export job",
    "onboarding workshop",
)
_DEFAULT_USERS = 20
# Random bytes per row: 16 for the id, 8 for the lookup, 32 for the digest.
_NOISE = 56


def seed_tokens(
    store: Store,
    n: int,
    *,
    user_ids: Sequence[str] | None = None,
    random_seed: int | None = None,
) -> list[str]:
    """Fill ``store`` with ``n`` realistic tokens whose secrets nobody knows.

    Tokens are spread over the users, created over the last 80 days, expire 30 to 90 days
    after creation (some already have), mostly have been used, and a quarter are read-only.

    Args:
        store: the store to fill.
        n: how many tokens to add.
        user_ids: their owners; by default 20 new random users.
        random_seed: makes the attributes (not the ids) reproducible.

    Returns:
        The user ids the tokens belong to.
    """
    rng = random.Random(random_seed)  # noqa: S311 (demo data, not secrets)
    users = (
        [u.lower() for u in user_ids]
        if user_ids
        else [str(uuid.uuid4()) for _ in range(_DEFAULT_USERS)]
    )
    now = store.clock()
    # Ids, lookups and digests come from one read of the OS generator: one syscall, not 3n.
    noise = memoryview(secrets.token_bytes(_NOISE * n))
    rows = [
        _row(rng, rng.choice(users), now, noise[i * _NOISE : (i + 1) * _NOISE]) for i in range(n)
    ]
    store.insert_rows(rows)
    return users


def _row(rng: random.Random, user_id: str, now: int, noise: memoryview) -> Row:
    created = now - rng.randrange(80 * _DAY_NS)
    expires = created + rng.choice(_LIFETIMES_DAYS) * _DAY_NS
    used = None if rng.random() < 0.2 else rng.randrange(created, min(now, expires))
    return (
        str(uuid.UUID(bytes=bytes(noise[:16]), version=4)),
        user_id,
        rng.choice(_DESCRIPTIONS),
        user_id,
        identity_pb2.PRINCIPAL_USER,
        created,
        expires,
        used,
        int(rng.random() < 0.25),
        0,
        noise[16:24].hex(),
        # No secret exists for seeded tokens: a random digest can never be matched.
        bytes(noise[24:56]),
    )

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
    users = list(user_ids) if user_ids else [str(uuid.uuid4()) for _ in range(_DEFAULT_USERS)]
    now = store.clock()
    store.insert_rows([_row(rng, rng.choice(users), now) for _ in range(n)])
    return users


def _row(rng: random.Random, user_id: str, now: int) -> Row:
    created = now - rng.randrange(80 * _DAY_NS)
    expires = created + rng.choice(_LIFETIMES_DAYS) * _DAY_NS
    used = None if rng.random() < 0.2 else rng.randrange(created, min(now, expires))
    return (
        str(uuid.uuid4()),
        user_id.lower(),
        rng.choice(_DESCRIPTIONS),
        user_id.lower(),
        identity_pb2.PRINCIPAL_USER,
        created,
        expires,
        used,
        int(rng.random() < 0.25),
        0,
        secrets.token_hex(8),
        # No secret exists for seeded tokens: a random digest can never be matched.
        secrets.token_bytes(32),
    )

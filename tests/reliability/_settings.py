"""Sizes of the reliability tests: small enough for CI, larger through environment variables.

| variable                        | default | what it sizes                                    |
|---------------------------------|---------|--------------------------------------------------|
| ``ONA_PATS_LIST_TOKENS``        | 10000   | tokens listed through injected faults            |
| ``ONA_PATS_FAULT_RATE``         | 0.2     | share of requests that meet a transient fault    |
| ``ONA_PATS_CONCURRENT_CALLS``   | 1000    | concurrent async calls with faults               |
| ``ONA_PATS_SOAK_SECONDS``       | 10      | soak duration                                    |
| ``ONA_PATS_SOAK_CLIENTS``       | 50      | concurrent soak clients                          |
| ``ONA_PATS_FAULT_SOAK_SECONDS`` | 30      | duration of the soak through 1 % faults          |
| ``ONA_PATS_HYPOTHESIS_EXAMPLES``| 100     | hypothesis examples per property (some use x5)   |
| ``ONA_PATS_OVERSIZED_MB``       | 64      | size of the oversized hostile body               |
| ``ONA_PATS_FAULT_SEED``         | 20261123| seed of the fault proxy's RNG                    |
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


LIST_TOKENS = _int("ONA_PATS_LIST_TOKENS", 10_000)
FAULT_RATE = float(os.environ.get("ONA_PATS_FAULT_RATE", "0.2"))
CONCURRENT_CALLS = _int("ONA_PATS_CONCURRENT_CALLS", 1_000)
SOAK_SECONDS = float(os.environ.get("ONA_PATS_SOAK_SECONDS", "10"))
SOAK_CLIENTS = _int("ONA_PATS_SOAK_CLIENTS", 50)
FAULT_SOAK_SECONDS = float(os.environ.get("ONA_PATS_FAULT_SOAK_SECONDS", "30"))
HYPOTHESIS_EXAMPLES = _int("ONA_PATS_HYPOTHESIS_EXAMPLES", 100)
OVERSIZED_BYTES = _int("ONA_PATS_OVERSIZED_MB", 64) * 1024 * 1024
FAULT_SEED = _int("ONA_PATS_FAULT_SEED", 20261123)

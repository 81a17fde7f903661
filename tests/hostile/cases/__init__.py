"""The battery's cases, one module per entry point."""

from __future__ import annotations

from tests.hostile.harness import REGISTRY, Case


def all_cases() -> list[Case]:
    """Every case, in definition order (importing the modules registers them)."""
    from tests.hostile.cases import (  # noqa: F401
        boris,
        cli,
        codebook,
        excel,
        parquet,
        result,
        sdis,
        spec,
        table,
    )

    return list(REGISTRY.cases)

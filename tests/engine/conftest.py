from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    """stamina's testing mode: one attempt, never a real sleep."""
    with stamina.set_testing(True, attempts=1):
        yield

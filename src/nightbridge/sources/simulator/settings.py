"""Settings of a simulator account (no credentials: it is the demo and the test source)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_DEVICE = "nightbridge-simulator"


class SimulatorSettings(BaseModel):
    """``seed`` picks the synthetic person; ``max_history_days`` how far back it "keeps" data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: str = Field(default="demo", min_length=1)
    seed: int = 1
    device: str = Field(default=DEFAULT_DEVICE, min_length=1)
    max_history_days: int = Field(default=90, ge=1, le=3650)

"""The action server's configuration, read once from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    api_url: str            # where the actions call the API (often an internal address)
    public_url: str         # the API's address as citizens' phones see it (place links)
    timeout_seconds: float
    province_hotline: str | None

    @classmethod
    def from_env(cls) -> "Settings":
        api_url = os.environ.get("IOC_API_URL", "http://127.0.0.1:8000").rstrip("/")
        return cls(api_url=api_url,
                   public_url=os.environ.get("IOC_PUBLIC_URL", api_url).rstrip("/"),
                   timeout_seconds=float(os.environ.get("IOC_API_TIMEOUT_SECONDS", "3")),
                   province_hotline=(os.environ.get("PROVINCE_HOTLINE") or "").strip() or None)


def settings() -> Settings:
    """Read per call: cheap, and tests can point the actions at a stub by setting the env."""
    return Settings.from_env()

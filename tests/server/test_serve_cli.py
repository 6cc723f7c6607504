"""``nightbridge serve`` as a real process: refusal without a secret, the demo answering."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.fakes.loopback import free_port

pytestmark = pytest.mark.e2e


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "SYSTEMROOT")}
    return {**keep, "HOME": str(tmp_path), "NIGHTBRIDGE_DATA_DIR": str(tmp_path / "data"), **extra}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nightbridge.cli.main", *args]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [({}, "API_SECRET is not set"), ({"API_SECRET": "short"}, "too short")],
)
def test_serve_refuses_missing_or_short_secret(
    tmp_path: Path, extra: dict[str, str], needle: str
) -> None:
    done = subprocess.run(
        _cli("serve", "--port", str(free_port())),
        env=_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
    assert "short" not in lines[0].replace("too short", "")  # the value is never echoed


def test_serve_demo_answers_with_simulator_readings(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        _cli("serve", "--demo", "--host", "127.0.0.1", "--port", str(port)),
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/entries.json?count=5"
        deadline = time.monotonic() + 30
        body: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            try:
                body = httpx.get(url, timeout=2).json()
            except httpx.TransportError:
                body = []
            if body:
                break
            time.sleep(0.2)
        assert len(body) == 5
        assert all(doc["type"] == "sgv" and isinstance(doc["sgv"], int) for doc in body)
        write = httpx.post(f"http://127.0.0.1:{port}/api/v1/entries", json=[], timeout=5)
        assert write.status_code == 401  # demo without a secret is read-only
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()

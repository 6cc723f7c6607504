"""What a person sees when they must act: wrong password, terms not accepted, and ``check``.

A wrong password is sent exactly once per run (every retry walks the account towards the
vendor's lockout), the run ends with exit 3 and one ``error:`` line saying what is wrong, with no
traceback and no password anywhere in the output.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.cli_process import run_cli
from tests.e2e.conftest import API_SECRET, Dexcom, Libre, Site
from tests.e2e.peers import DEXCOM_PASSWORD, librelink_up, share2nightscout
from tests.fakes.loopback import free_port

pytestmark = pytest.mark.e2e

WRONG = "Wr0ng-pa55word-9fK2"


def error_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("error:")]


def assert_one_clear_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    output = done.stdout + done.stderr
    (line,) = error_lines(done)
    for needle in needles:
        assert needle in line, line
    assert "Traceback" not in output
    assert WRONG not in output


@pytest.mark.parametrize("command", [["sync", "--since", "24h"], ["forever"]])
def test_wrong_dexcom_password_is_tried_once(
    command: list[str], site: Site, dexcom: Dexcom, base_env: dict[str, str]
) -> None:
    done = run_cli(command, {**base_env, **share2nightscout(site, dexcom, WRONG)}, timeout=30)
    assert done.returncode == 3, done.stderr
    assert_one_clear_line(done, "wrong credentials", "password")
    assert dexcom.fake.login_attempts == 1
    assert dexcom.fake.requests["data"] == 0
    assert site.fake.entries == []


def test_wrong_libre_password_is_tried_once(
    site: Site, libre: Libre, base_env: dict[str, str]
) -> None:
    done = run_cli(["forever"], {**base_env, **librelink_up(site, libre, WRONG)}, timeout=30)
    assert done.returncode == 3, done.stderr
    assert_one_clear_line(done, "wrong credentials", "password")
    assert libre.fake.logins == 1


@pytest.mark.parametrize(
    ("step", "advice"),
    [("tou", "accept the new terms of use"), ("pp", "accept the new privacy policy")],
)
def test_libre_terms_not_accepted(
    step: str, advice: str, site: Site, libre: Libre, base_env: dict[str, str]
) -> None:
    libre.fake.account.steps = [step]
    env = {**base_env, **librelink_up(site, libre, libre.password)}
    done = run_cli(["forever"], env, timeout=30)
    assert done.returncode == 3, done.stderr
    assert_one_clear_line(done, "terms not accepted", advice, "LibreLinkUp app")
    assert libre.fake.logins == 1
    assert site.fake.entries == []


def both_sources(site: Site, dexcom: Dexcom, libre: Libre, dexcom_password: str) -> dict[str, str]:
    """share2nightscout-bridge's and nightscout-librelink-up's variables side by side."""
    llu = librelink_up(site, libre, libre.password)
    return {
        **share2nightscout(site, dexcom, dexcom_password),
        **{k: v for k, v in llu.items() if k.startswith(("LINK_UP_", "NIGHTBRIDGE_LIBRE_"))},
    }


def test_check_all_good(site: Site, dexcom: Dexcom, libre: Libre, base_env: dict[str, str]) -> None:
    env = {**base_env, **both_sources(site, dexcom, libre, DEXCOM_PASSWORD)}
    done = run_cli(["check"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "source dexcom_share u$ern@me: ok",
        f"source librelinkup {libre.email}: ok",
        f"output nightscout_v1 {site.url}: ok",
    ]
    assert site.fake.count("POST") == 0 and dexcom.fake.requests["data"] == 0


def test_check_names_what_is_wrong(
    site: Site, dexcom: Dexcom, libre: Libre, base_env: dict[str, str]
) -> None:
    """A wrong Dexcom password, a good LibreLinkUp login, a Nightscout nobody answers."""
    env = {**base_env, **both_sources(site, dexcom, libre, WRONG)}
    env["NS"] = f"http://127.0.0.1:{free_port()}"
    done = run_cli(["check"], env)
    assert done.returncode == 3, done.stdout + done.stderr  # a person must act: the worst
    lines = done.stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        "source dexcom_share u$ern@me",
        f"source librelinkup {libre.email}",
        f"output nightscout_v1 {env['NS']}",
    ]
    verdicts = ("wrong credentials", "ok", "cannot connect")
    for line, verdict in zip(lines, verdicts, strict=True):
        assert line.split(": ", 1)[1].startswith(verdict), line
    assert WRONG not in done.stdout + done.stderr and API_SECRET not in done.stdout
    assert dexcom.fake.login_attempts == 1

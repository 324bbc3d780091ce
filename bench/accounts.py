"""Staff sign-in timing: a refusal must not tell whether the account exists.

Signs in ``--runs`` times each (default 30) on a fresh SQLite database: an unknown
username, a known one with a wrong password, a paused account (after five failures),
and the right password. Prints the median and 90th percentile wall time and CPU time
(time.process_time) per case; the refusals should cost the same Argon2 verification.

    PYTHONPATH=src python bench/accounts.py --runs 30
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from geodispatch.config import Settings
from geodispatch.domain.accounts import Role
from geodispatch.domain.errors import PermissionDeniedError
from geodispatch.services import accounts

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "the right passphrase"


def timed(
    attempt: Callable[[], object], runs: int, before: Callable[[], object] = lambda: None
) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` calls (a refusal counts as a call); ``before`` each."""
    wall, cpu = [], []
    for _ in range(runs):
        before()
        w, c = time.perf_counter(), time.process_time()
        with contextlib.suppress(PermissionDeniedError):
            attempt()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), data_dir=ROOT / "data")
        for name in ("ana", "paused"):
            accounts.create_user(name, Role.DISPATCHER, password=PASSWORD, settings=settings)
        for _ in range(accounts.THROTTLE_AFTER):  # pause one account
            timed(lambda: accounts.sign_in("paused", "wrong", settings=settings), 1)
        cases = {
            "unknown user": lambda: accounts.sign_in("nobody", "guess", settings=settings),
            "wrong password": lambda: accounts.sign_in("ana", "guess", settings=settings),
            "paused account": lambda: accounts.sign_in("paused", PASSWORD, settings=settings),
            "right password": lambda: accounts.sign_in("ana", PASSWORD, settings=settings),
        }
        timed(cases["unknown user"], 3)  # warm-up: imports, schema, decoy hash
        print(f"{'case':<16} {'wall median, p90':>22} {'CPU median, p90':>20}")
        for name, attempt in cases.items():
            # the wrong password is tried on an account with no failures yet (not paused)
            fresh = _unpause(settings) if name == "wrong password" else (lambda: None)
            wall, cpu = timed(attempt, args.runs, fresh)
            print(f"{name:<16} {_ms(wall):>22} {_ms(cpu):>20}")


def _unpause(settings: Settings) -> Callable[[], object]:
    """Clear ana's failed sign-ins (an admin's reset), so each wrong try is a first one."""
    return lambda: accounts.reset_password("ana", PASSWORD, settings=settings)


def _ms(seconds: list[float]) -> str:
    """Median and 90th percentile in milliseconds."""
    p90 = statistics.quantiles(seconds, n=10)[-1]
    return f"{statistics.median(seconds) * 1e3:8.1f}ms {p90 * 1e3:8.1f}ms"


if __name__ == "__main__":
    main()

"""Abuse benchmark: can a stranger lock every crew out, and what does a sign-in flood cost?

Run from the project root: ``.venv/bin/python bench/abuse.py`` (this tree), or with
``--before-src OTHER/src`` to measure another checkout first (e.g. the code before issue 18:
``git worktree add ../before ee6f871`` then ``--before-src ../before/src``) and print a
before/after table. Each run starts the API with uvicorn in a subprocess on 127.0.0.1
(port 8712) over a fresh SQLite database with ``--crews`` crews, and measures:

* lockout, one address: a stranger sends wrong PINs for every crew (up to ``--budget`` per
  crew, stopping at the first answer that is not a plain refusal); then each crew signs in
  with its right PIN from its own phone. Counts crews locked out, requests, wall time.
* lockout, many addresses: the same with the stranger taking a fresh address whenever one
  is throttled; counts the addresses needed to lock every crew out.
* sign-in flood: ``--flood`` sign-ins with unknown crew codes, ``--concurrency`` at once,
  from one address and from a fresh address each; meanwhile a probe reads the public
  services list every 50 ms. Reports the server's resident memory (peak) and the probe's
  latency (p50/p95), beside a quiet baseline, and CPU seconds of server and bench.

The crews' sign-ins come through a trusted proxy (X-Forwarded-For from 127.0.0.1), so each
simulated phone or attacker has its own address. Seeded; bounded by the budgets above.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PORT = 8712
BASE = f"http://127.0.0.1:{PORT}"
PIN_BASE = 24681

SETUP = textwrap.dedent(
    """
    import sys
    from geodispatch.config import Settings
    from geodispatch.services import field
    from geodispatch.services.intake import import_payload
    from geodispatch.storage.db import session_scope
    from geodispatch.storage.tables import CrewRow

    crews = int(sys.argv[1])
    settings = Settings()
    items = [
        {"service_request_id": f"b{i}", "service_code": "pothole",
         "service_name": "Pothole Repair", "requested_datetime": "2025-01-06T09:00:00-05:00",
         "status": "open", "lat": 42.30 + i * 0.003, "long": -71.07,
         "address": f"{i} Test St", "description": "bench"}
        for i in range(20)
    ]
    import_payload(items, source="bench", settings=settings)
    with session_scope(settings.database_url) as session:
        for i in range(crews):
            session.add(CrewRow(code=f"C{i + 1:02d}", name=f"Crew {i + 1}",
                                depot_lon=-71.06, depot_lat=42.33))
    for i in range(crews):
        field.set_pin(f"C{i + 1:02d}", str({pin_base} + i * 7), settings=settings)
    """
).replace("{pin_base}", str(PIN_BASE))


def crew_pin(i: int) -> str:
    """The right PIN of crew ``i`` (0-based), as the setup gave it."""
    return str(PIN_BASE + i * 7)


@dataclass
class Lockout:
    """One lockout experiment."""

    requests: int = 0
    addresses: int = 0
    crews_locked: int = 0
    crews: int = 0
    wall_s: float = 0.0
    answers: dict[str, int] = field(default_factory=dict)


@dataclass
class Flood:
    """One sign-in flood: memory, probe latency and CPU."""

    sign_ins: int = 0
    wall_s: float = 0.0
    rss_start_mb: float = 0.0
    rss_peak_mb: float = 0.0
    probe_p50_ms: float = 0.0
    probe_p95_ms: float = 0.0
    probes: int = 0
    server_cpu_s: float = 0.0
    answers: dict[str, int] = field(default_factory=dict)


@dataclass
class Run:
    """Everything measured on one source tree."""

    label: str
    src: str
    quiet_p50_ms: float = 0.0
    quiet_p95_ms: float = 0.0
    one_address: Lockout = field(default_factory=Lockout)
    many_addresses: Lockout = field(default_factory=Lockout)
    flood_one: Flood = field(default_factory=Flood)
    flood_many: Flood = field(default_factory=Flood)
    bench_cpu_s: float = 0.0


def _env(src: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(src),
            "GEODISPATCH_HOME": str(home),
            "GEODISPATCH_DATA_DIR": str(ROOT / "data"),
            "GEODISPATCH_DEMO_MODE": "true",
            "GEODISPATCH_WARM_UP": "false",
            "GEODISPATCH_TRUSTED_PROXIES": "127.0.0.1",
        }
    )
    env.pop("GEODISPATCH_DB_URL", None)
    return env


@contextmanager
def server(src: Path, home: Path) -> Iterator[subprocess.Popen[bytes]]:
    """uvicorn serving the API of ``src`` on 127.0.0.1:PORT until the block ends."""
    command = [sys.executable, "-m", "uvicorn", "geodispatch.api:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(PORT), "--log-level", "warning"]
    proc = subprocess.Popen(command, env=_env(src, home), cwd=str(home))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{BASE}/open311/v2/services.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the API did not start within 120 s")
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sign_in(client: httpx.Client, code: str, pin: str, address: str) -> httpx.Response:
    """One crew sign-in as seen from ``address`` (through the trusted proxy)."""
    return client.post(
        f"{BASE}/crew/login",
        data={"code": code, "pin": pin},
        headers={"X-Forwarded-For": address},
    )


def _kind(answer: httpx.Response) -> str:
    if answer.status_code == 401 and "locked" in answer.text:
        return "401 locked"
    return str(answer.status_code)


def lockout(crews: int, budget: int, *, rotate: bool, rng: random.Random) -> Lockout:
    """A stranger guesses PINs for every crew; then the crews try their right PINs."""
    out = Lockout(crews=crews)
    address_no = 1
    start = time.perf_counter()
    with httpx.Client(timeout=60) as client:
        for i in range(crews):
            code = f"C{i + 1:02d}"
            for _ in range(budget):
                guess = f"{rng.randrange(10_000, 99_999)}"
                if guess == crew_pin(i):
                    continue
                answer = sign_in(client, code, guess, f"203.0.113.{address_no}")
                out.requests += 1
                kind = _kind(answer)
                out.answers[kind] = out.answers.get(kind, 0) + 1
                if answer.status_code == 429 and rotate:
                    address_no += 1
                elif answer.status_code != 401 or kind == "401 locked":
                    break
        out.wall_s = time.perf_counter() - start
        out.addresses = address_no
        for i in range(crews):
            code = f"C{i + 1:02d}"
            answer = sign_in(client, code, crew_pin(i), f"198.51.100.{i + 1}")
            out.crews_locked += answer.status_code != 200
    return out


def probe_latency(stop: threading.Event, samples: list[float]) -> None:
    """Read the public services list every 50 ms until ``stop``; latencies in ms."""
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            t0 = time.perf_counter()
            client.get(f"{BASE}/open311/v2/services.json")
            samples.append((time.perf_counter() - t0) * 1000)
            stop.wait(0.05)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0-1) of ``values`` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def flood(pid: int, n: int, concurrency: int, *, rotate: bool, rng: random.Random) -> Flood:
    """``n`` sign-ins with unknown codes, ``concurrency`` at once, while a probe reads."""
    out = Flood(sign_ins=n, rss_start_mb=rss_mb(pid))
    guesses = [(f"X{rng.randrange(10**6):06d}", f"{rng.randrange(10**4, 10**5)}") for _ in range(n)]
    peak = [out.rss_start_mb]
    stop = threading.Event()
    samples: list[float] = []

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            stop.wait(0.05)

    answers: dict[str, int] = {}
    lock = threading.Lock()
    clients: list[httpx.Client] = []

    local = threading.local()  # one client per worker: no per-request set-up in the bench

    def one(k: int) -> None:
        code, pin = guesses[k]
        address = f"10.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}" if rotate else "10.0.0.1"
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=120)
            clients.append(local.client)
        kind = _kind(sign_in(local.client, code, pin, address))
        with lock:
            answers[kind] = answers.get(kind, 0) + 1

    cpu0 = cpu_s(pid)
    threads = [
        threading.Thread(target=watch),
        threading.Thread(target=probe_latency, args=(stop, samples)),
    ]
    for t in threads:
        t.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(n)))
    out.wall_s = time.perf_counter() - start
    for client in clients:
        client.close()
    stop.set()
    for t in threads:
        t.join()
    out.server_cpu_s = cpu_s(pid) - cpu0
    out.rss_peak_mb = peak[0]
    out.probe_p50_ms = percentile(samples, 0.5)
    out.probe_p95_ms = percentile(samples, 0.95)
    out.probes = len(samples)
    out.answers = answers
    return out


def measure(label: str, src: Path, args: argparse.Namespace) -> Run:
    """All experiments on one source tree, each on a fresh database and server."""
    run = Run(label=label, src=str(src))
    cpu0 = time.process_time()
    rng = random.Random(args.seed)
    experiments = ("one", "many", "flood_one", "flood_many")
    for name in experiments:
        with tempfile.TemporaryDirectory(prefix="abuse-") as tmp:
            home = Path(tmp)
            subprocess.run(
                [sys.executable, "-c", SETUP, str(args.crews)],
                env=_env(src, home),
                cwd=str(home),
                check=True,
            )
            with server(src, home) as proc:
                if name == "one":
                    quiet: list[float] = []
                    stop = threading.Event()
                    prober = threading.Thread(target=probe_latency, args=(stop, quiet))
                    prober.start()
                    time.sleep(3)
                    stop.set()
                    prober.join()
                    run.quiet_p50_ms = percentile(quiet, 0.5)
                    run.quiet_p95_ms = percentile(quiet, 0.95)
                    run.one_address = lockout(args.crews, args.budget, rotate=False, rng=rng)
                elif name == "many":
                    run.many_addresses = lockout(args.crews, args.budget, rotate=True, rng=rng)
                elif name == "flood_one":
                    run.flood_one = flood(
                        proc.pid, args.flood, args.concurrency, rotate=False, rng=rng
                    )
                else:
                    run.flood_many = flood(
                        proc.pid, args.flood, args.concurrency, rotate=True, rng=rng
                    )
        print(f"[{label}] {name} done", file=sys.stderr)
    run.bench_cpu_s = time.process_time() - cpu0
    return run


def cells(floods: list[Flood], pattern: str) -> list[str]:
    """One table cell per flood, formatted by ``pattern``."""
    return [pattern.format(f) for f in floods]


def table(runs: list[Run]) -> str:
    """The figures of each run side by side."""
    rows: list[tuple[str, ...]] = [("", *(r.label for r in runs))]

    def add(name: str, values: list[str]) -> None:
        rows.append((name, *values))

    def lock_row(r: Lockout) -> str:
        return f"{r.crews_locked}/{r.crews} locked, {r.requests} req, {r.wall_s:.1f} s"

    add("public GET quiet p50/p95 ms", [f"{r.quiet_p50_ms:.0f}/{r.quiet_p95_ms:.0f}" for r in runs])
    add("lockout, one address", [lock_row(r.one_address) for r in runs])
    add("  answers", [json.dumps(r.one_address.answers) for r in runs])
    add("lockout, fresh address when throttled", [lock_row(r.many_addresses) for r in runs])
    add("  addresses used", [str(r.many_addresses.addresses) for r in runs])
    for name, pick in (("one address", "flood_one"), ("an address each", "flood_many")):
        floods: list[Flood] = [getattr(r, pick) for r in runs]
        add(f"flood from {name}: sign-ins, wall s", cells(floods, "{0.sign_ins}, {0.wall_s:.1f}"))
        add("  server RSS start/peak MB", cells(floods, "{0.rss_start_mb:.0f}/{0.rss_peak_mb:.0f}"))
        add("  public GET p50/p95 ms", cells(floods, "{0.probe_p50_ms:.0f}/{0.probe_p95_ms:.0f}"))
        add("  server CPU s", [f"{f.server_cpu_s:.1f}" for f in floods])
        add("  answers", [json.dumps(f.answers) for f in floods])
    add("bench CPU s (process_time)", [f"{r.bench_cpu_s:.1f}" for r in runs])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


def main() -> None:
    """Measure this tree (and ``--before-src`` first, when given); print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-src", type=Path, help="src folder of the code to compare")
    parser.add_argument("--crews", type=int, default=12)
    parser.add_argument("--budget", type=int, default=20, help="wrong PINs per crew at most")
    parser.add_argument("--flood", type=int, default=150, help="sign-ins in each flood")
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    runs = []
    if args.before_src is not None:
        runs.append(measure("before", args.before_src.resolve(), args))
    runs.append(measure("after", ROOT / "src", args))
    print(
        f"{args.crews} crews, {args.budget} wrong PINs per crew at most, floods of "
        f"{args.flood} sign-ins {args.concurrency} at once, seed {args.seed}"
    )
    print(table(runs))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2))


if __name__ == "__main__":
    main()

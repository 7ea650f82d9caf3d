"""Soak: intake at 80 % of the measured maximum for ten minutes, memory over time.

Run from the repository root (``make soak``)::

    .venv/bin/python bench/soak.py                          # SQLite, 10 minutes
    .venv/bin/python bench/soak.py --database postgres --minutes 10 --out bench/results/soak.md
    # options: --max R (requests/s; else the last bench/results/intake.md, else a short
    #   saturation run), --share 0.8, --every 10 (seconds between samples), --workers N,
    #   --clients 16, --ramp-seconds 20, --postgres-url ..._bench_soak, --keep

It prepares a database as ``bench_intake.py`` does (migrate, the small demo city, a trained
classifier, Open311 keys and a resident's token; a SQLite file in a temporary directory, or
a PostgreSQL database whose name must contain "bench", dropped and created), starts the
project as in production (``gongzhi serve --production``: gunicorn with sync workers, the task
worker, the deadline clock and the tallies, in a process group of its own) on a free port, and
finds the maximum rate of a mix of half Open311 and half /api/v1/ submissions:

- ``--max R``: given;
- else the ``open311`` and ``api`` rows of ``bench/results/intake.md`` for this database (the
  last ``make bench``): a mix of two requests whose maxima are r1 and r2 tops at
  2 / (1/r1 + 1/r2);
- else a short saturation run: ``--clients`` threads posting back to back for
  ``--ramp-seconds``; its requests/s is the maximum.

Then it drives the mix at ``--share`` of the maximum for ``--minutes``, open loop: requests
start on a fixed schedule (one every 1/rate seconds) from ``--clients`` threads, whatever the
answers' latency (a request that cannot start on time because every thread is busy starts
late, and is counted). Every ``--every`` seconds it samples the resident memory (VmRSS from
/proc, no psutil) of ``serve`` itself, the gunicorn master, each gunicorn worker, the task
worker, the clock and the tallies, and the database's size (SQLite: the file and its WAL;
PostgreSQL: ``pg_database_size``), with the requests/s, latency and errors of the interval.
It prints each sample as it comes, and at the end the machine, the table and each process's
growth from the first sample after the first minute to the last, and writes the same as
Markdown to ``--out``. After the load it checks, as ``bench_intake.py`` does, that every case
that got a success answer is in the database exactly once with one submit event and that
``gongzhi verify-timelines`` passes (exit status 1 otherwise). Not run by ``make test``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_intake as intake  # bench/ is on sys.path when this runs as a script

REPO = intake.REPO
RESULTS = REPO / "bench" / "results"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_soak"
TARGETS = ("open311", "api")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--max", type=float, default=None, help="maximum requests/s")
    parser.add_argument("--share", type=float, default=0.8, help="of the maximum")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--clients", type=int, default=16, help="client threads")
    parser.add_argument("--ramp-seconds", type=float, default=20.0)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--intake", default=str(RESULTS / "intake.md"))
    parser.add_argument("--samples", type=int, default=3000, help="distinct cases prepared")
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument("--out", default=str(RESULTS / "soak.md"))
    return parser.parse_args(argv)


# --- The server: `gongzhi serve --production` in a process group of its own -----------------


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def group(self) -> dict[int, str]:
        """Live processes of the server's process group: pid -> role."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z" and int(fields[2]) == self.process.pid:
                found[int(entry.name)] = role_of(cmdline, int(fields[1]))
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # serve stops its children
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def role_of(cmdline: str, parent: int) -> str:
    padded = f" {cmdline} "
    if " gunicorn " in padded:
        return "gunicorn"  # master or worker: told apart by their parent
    for needle, role in (
        (" serve ", "serve"),
        (" db_worker ", "task worker"),
        (" watch_deadlines ", "clock"),
        (" tallies ", "tallies"),
    ):
        if needle in padded:
            return role
    return "other"


def start_serve(env: dict[str, str], workers: int, logdir: Path) -> Serve:
    port = intake.free_port()
    log = logdir / "serve.log"
    argv = [
        intake.PYTHON,
        "-m",
        "gongzhi",
        "serve",
        "--production",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (our own program)
            argv, env=env, cwd=REPO, stdout=out, stderr=out, start_new_session=True
        )
    server = Serve(process, port, log)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/open311/v2/services.json")
            ok = conn.getresponse().status == 200
            conn.close()
            if ok:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    server.stop()
    raise SystemExit(f"the server did not answer within 180 s: see {log}")


# --- Memory and database size --------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def labelled_processes(server: Serve) -> dict[str, int]:
    """Column label -> pid: serve (the supervisor), master, worker 1..n (by pid), task worker,
    clock, tallies."""
    group = server.group()
    gunicorn = [pid for pid, role in group.items() if role == "gunicorn"]
    parents = {}
    for pid in gunicorn:
        with contextlib.suppress(OSError, ValueError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            parents[pid] = int(stat[stat.rindex(")") + 2 :].split()[1])
    master = [pid for pid in gunicorn if parents.get(pid) not in gunicorn]
    labels: dict[str, int] = {}
    for pid, role in group.items():
        if role == "serve":
            labels["serve"] = pid
    if master:
        labels["master"] = master[0]
    for n, pid in enumerate(sorted(p for p in gunicorn if p not in master), start=1):
        labels[f"worker {n}"] = pid
    for pid, role in sorted(group.items()):
        if role in {"task worker", "clock", "tallies"}:
            labels[role] = pid
    return labels


def database_mb(db: intake.Database) -> float:
    if db.name == "sqlite":
        folder = Path(db.env["GONGZHI_VAR_DIR"])
        files = [folder / f"gongzhi.sqlite3{suffix}" for suffix in ("", "-wal", "-shm")]
        return sum(f.stat().st_size for f in files if f.exists()) / 2**20
    import psycopg

    with psycopg.connect(db.env["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return (row[0] if row else 0) / 2**20


# --- Load ----------------------------------------------------------------------------------------


@dataclass
class Sent:
    target: str
    started: float
    latency: float
    status: int  # 0: no answer
    ident: str = ""
    late: bool = False
    behind: float = 0.0  # seconds after its scheduled time that the request started


@dataclass
class Driver:
    """Open-loop load: request k starts at start + k / rate, from ``clients`` threads."""

    port: int
    ctx: dict[str, Any]
    rate: float
    clients: int
    seed: int
    sent: list[Sent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    start_at: float = 0.0

    def _slot(self) -> int:
        with self._lock:
            slot = self._next
            self._next += 1
            return slot

    def _client(self, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        while not self._stop.is_set():
            slot = self._slot()
            due = self.start_at + slot / self.rate
            wait = due - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            target = TARGETS[slot % 2]
            path, body, headers = intake.request_for(
                target, rng.choice(self.ctx["samples"]), self.ctx, n
            )
            began = time.monotonic()
            behind = max(0.0, began - due)
            late = behind > 1.0
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                conn.close()
            except (OSError, http.client.HTTPException):
                self._record(
                    Sent(target, began, time.monotonic() - began, 0, late=late, behind=behind)
                )
                continue
            ident = ""
            if response.status in (200, 201):
                with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
                    ident = intake.identity(target, json.loads(raw))
            self._record(
                Sent(target, began, time.monotonic() - began, response.status, ident, late, behind)
            )

    def _record(self, sent: Sent) -> None:
        with self._lock:
            self.sent.append(sent)

    def start(self) -> None:
        self.start_at = time.monotonic() + 0.5
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)

    def between(self, since: float, until: float) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if since <= s.started + s.latency < until]


def saturate(port: int, ctx: dict[str, Any], seconds: float, clients: int, seed: int) -> float:
    """Closed loop: ``clients`` threads posting the mix back to back; requests/s answered."""
    done: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(seed * 7 + n)
        k = n
        while time.monotonic() < deadline:
            target = TARGETS[k % 2]
            k += 1
            path, body, headers = intake.request_for(target, rng.choice(ctx["samples"]), ctx, n)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
            except (OSError, http.client.HTTPException):
                continue
            if response.status in (200, 201):
                with lock:
                    done[target] += 1

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done.values()) / (time.monotonic() - began)


def maximum_from_intake(path: Path, database: str) -> float | None:
    """The mix's maximum from bench_intake's table (the open311 and api rows)."""
    if not path.exists():
        return None
    rates = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[0] == database and cells[1] in TARGETS:
            with contextlib.suppress(ValueError):
                rates[cells[1]] = float(cells[5].replace(",", ""))
    if set(rates) != set(TARGETS) or not all(rates.values()):
        return None
    return 2 / sum(1 / r for r in rates.values())


# --- Report ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    return intake.percentile(values, q)


@dataclass
class Sample:
    at: float  # seconds since the load started
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    late: int
    rss: dict[str, float | None]
    database_mb: float


def row(sample: Sample, columns: list[str]) -> str:
    def mb(value: float | None) -> str:
        return f"{value:.0f}" if value is not None else "-"

    total = sum(v for v in sample.rss.values() if v is not None)
    minutes, seconds = divmod(int(sample.at), 60)
    cells = [
        f"{minutes}:{seconds:02d}",
        f"{sample.rps:.1f}",
        f"{sample.p50_ms:.0f}",
        f"{sample.p99_ms:.0f}",
        str(sample.errors),
        str(sample.late),
        *[mb(sample.rss.get(c)) for c in columns],
        f"{total:.0f}",
        f"{sample.database_mb:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def header(columns: list[str]) -> list[str]:
    names = ["t", "req/s", "p50 ms", "p99 ms", "errors", "late", *[f"{c} MB" for c in columns]]
    names += ["total MB", "database MB"]
    return ["| " + " | ".join(names) + " |", "|" + "---:|" * len(names)]


def growth(samples: list[Sample], columns: list[str]) -> list[str]:
    """Each process's RSS from the first sample after the first minute to the last."""
    settled = [s for s in samples if s.at >= 60] or samples
    first, last = settled[0], samples[-1]
    lines = []
    for column in [*columns, "database"]:
        if column == "database":
            a, b = first.database_mb, last.database_mb
        else:
            a_value, b_value = first.rss.get(column), last.rss.get(column)
            if a_value is None or b_value is None:
                lines.append(f"- {column}: not running throughout")
                continue
            a, b = a_value, b_value
        change = (b - a) / a * 100 if a else float("nan")
        minutes = (last.at - first.at) / 60
        lines.append(
            f"- {column}: {a:.0f} MB at {first.at / 60:.1f} min, {b:.0f} MB at "
            f"{last.at / 60:.1f} min: {b - a:+.1f} MB ({change:+.1f} %) in {minutes:.1f} min"
        )
    return lines


# --- Main --------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    when = datetime.now(UTC)
    pg_url = args.postgres_url if args.database == "postgres" else None
    about = intake.machine(pg_url)
    load_before = intake.load_average()
    print("Soak", when.strftime("%Y-%m-%d %H:%M UTC"))
    for line in about:
        print(" ", line)
    db = (
        intake.sqlite_database()
        if args.database == "sqlite"
        else intake.postgres_database(args.postgres_url, args.keep)
    )
    logdir = Path(tempfile.mkdtemp(prefix="gongzhi-soak-logs-", dir="/tmp"))
    server: Serve | None = None
    samples: list[Sample] = []
    driver: Driver | None = None
    try:
        print(f"== {db.name}: preparing (migrate, demo city, classifier, keys) ...", flush=True)
        ctx = intake.helper(
            db, "prepare", {"seed": args.seed, "samples": args.samples, "keys": args.clients}
        )
        server = start_serve(db.env, args.workers, logdir)
        if args.max:
            maximum, source = args.max, "given (--max)"
        elif (found := maximum_from_intake(Path(args.intake), db.name)) is not None:
            maximum, source = found, f"{args.intake} (open311 and api rows, {db.name})"
        else:
            print(f"   saturating for {args.ramp_seconds:g} s to find the maximum ...", flush=True)
            maximum = saturate(server.port, ctx, args.ramp_seconds, args.clients, args.seed)
            source = (
                f"a {args.ramp_seconds:g} s saturation run in this process "
                f"({args.clients} clients, back to back)"
            )
        rate = maximum * args.share
        print(
            f"   maximum {maximum:.1f} req/s ({source}); driving {rate:.1f} req/s "
            f"({args.share:.0%}) for {args.minutes:g} min, a sample every {args.every:g} s",
            flush=True,
        )
        started_as = labelled_processes(server)
        columns = list(started_as)
        for line in header(columns):
            print(line)
        driver = Driver(server.port, ctx, rate, args.clients, args.seed)
        driver.start()
        began = driver.start_at
        end = began + args.minutes * 60
        tick = began
        while tick < end:
            tick = min(tick + args.every, end)
            time.sleep(max(0.0, tick - time.monotonic()))
            window = driver.between(tick - args.every, tick)
            latencies = [s.latency for s in window if s.status]
            labels = labelled_processes(server)
            sample = Sample(
                at=tick - began,
                rps=sum(1 for s in window if s.status in (200, 201)) / args.every,
                p50_ms=percentile(latencies, 0.5) * 1000,
                p99_ms=percentile(latencies, 0.99) * 1000,
                errors=sum(1 for s in window if s.status not in (200, 201)),
                late=sum(1 for s in window if s.late),
                rss={c: rss_mb(labels[c]) if c in labels else None for c in columns},
                database_mb=database_mb(db),
            )
            if labels != started_as:
                print(f"   note: processes changed: {started_as} -> {labels}", flush=True)
                started_as = labels
            samples.append(sample)
            print(row(sample, columns), flush=True)
        driver.stop()
    finally:
        if driver is not None:
            driver.stop()
        if server is not None:
            server.stop()
    sent = driver.sent if driver else []
    ids = {t: [s.ident for s in sent if s.target == t and s.ident] for t in TARGETS}
    check = intake.helper(db, "verify", {"open311": ids["open311"], "api": ids["api"]})
    if db.cleanup and not (args.keep and db.name == "sqlite"):
        db.cleanup()
    problems = []
    for target in TARGETS:
        c = check[target]
        if not (c["responses"] == c["distinct"] == c["in_database"] == c["submit_events"]):
            problems.append(f"{target}: {c}")
    if not check["verify_timelines"]:
        problems.append("gongzhi verify-timelines failed")
    load_after = intake.load_average()
    total = len(sent)
    ok = sum(1 for s in sent if s.status in (200, 201))
    statuses = Counter(s.status for s in sent if s.status not in (200, 201))
    summary = [
        f"- {total:,} requests, {ok:,} answered 200/201, errors {dict(statuses) or 0} "
        f"(0: no answer), {sum(1 for s in sent if s.late):,} started more than 1 s late "
        f"(at most {max((s.behind for s in sent), default=0):.1f} s behind the schedule)",
        f"- p50 {percentile([s.latency for s in sent if s.status], 0.5) * 1000:.0f} ms, "
        f"p99 {percentile([s.latency for s in sent if s.status], 0.99) * 1000:.0f} ms overall",
        f"- checks: {'passed' if not problems else 'FAILED: ' + '; '.join(problems)} "
        f"({check['open311']['in_database']} Open311 and {check['api']['in_database']} API "
        "cases found once each with one submit event; verify-timelines)",
    ]
    columns = list(samples[0].rss) if samples else []
    table = [*header(columns), *[row(s, columns) for s in samples]]
    command = "python " + " ".join(["bench/soak.py", *sys.argv[1:]])
    document = [
        f"# Soak: intake for {args.minutes:g} minutes at {args.share:.0%} of the maximum, "
        f"{when:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        "",
        *[f"- {line}" for line in about],
        f"- database: {db.name}; `gongzhi serve --production` with {args.workers} gunicorn sync "
        f"workers, the task worker, the clock and the tallies; {args.clients} client threads on "
        "the same machine, half Open311 and half /api/v1/ submissions",
        f"- maximum {maximum:.1f} req/s from {source}; driven at {rate:.1f} req/s, open loop",
        f"- load average before {load_before}, after {load_after}",
        "",
        "Every row: the interval's answered requests/s, latency, errors (not 200/201) and",
        "requests that started more than a second late, then the resident memory (VmRSS) of",
        "each process at the end of the interval, and the database's size.",
        "",
        *table,
        "",
        "Growth, from the first sample after the first minute to the last:",
        "",
        *growth(samples, columns),
        "",
        *summary,
        "",
    ]
    print()
    print("\n".join(document))
    print(f"server log: {server.log if server else '-'}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(document), encoding="utf-8")
    print(f"written to {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

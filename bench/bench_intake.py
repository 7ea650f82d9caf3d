"""Intake under load: Open311 and /api/v1/ submissions against a bare one-row endpoint.

Run from the repository root::

    .venv/bin/python bench/bench_intake.py --seconds 5            # a short run
    .venv/bin/python bench/bench_intake.py --out bench/results/intake.md
    # options: --seconds 20 (measured, per target), --warmup 3, --concurrency 8,
    #   --workers N (gunicorn sync workers, default 2 x cores + 1), --databases sqlite,postgres,
    #   --postgres-url postgres://postgres@127.0.0.1:5432/gongzhi_bench_intake, --keep

For each database (a SQLite file in a temporary directory, in WAL mode as the project's
settings make it; a PostgreSQL database whose name must contain "bench", dropped and created)
it migrates, builds the small demo city (``build_demo_city(SMALL, cases=0)``: no history),
trains and activates a classifier on texts made from the demo history's templates (so intake
classifies), issues Open311 integration keys and a personal token for a resident account, and
creates the bare baseline's table (``bench/bare/``). Then it starts, on free ports of
127.0.0.1, the project as in production (``gunicorn gongzhi.config.wsgi:application``, sync
workers, access log, ``GONGZHI_DEBUG`` off, ``GONGZHI_HTTPS=0``) and the bare Django +
django-ninja endpoint (same gunicorn settings, same database handling), and drives each target
in turn for ``--seconds`` after ``--warmup`` seconds, from ``--concurrency`` client threads,
each with its own HTTP/1.1 connection (gunicorn's sync workers close it after each response,
so the client reconnects, for every target alike):

- ``open311``: POST /open311/v2/requests.json (api_key, service_code of the template's
  category, lat/long, description): routing and the timeline; the category is the service's,
  so the classifier does not run on this path;
- ``api``: POST /api/v1/cases as a resident with an account (bearer token, a point on the
  map, no category): point-in-polygon, classification, routing, the timeline;
- ``open311-queued``: the same against a second instance of the project in Open311 batch mode
  (``GONGZHI_OPEN311_SERVICE_TYPE=batch``): accepted into the intake queue, a token answered;
- ``api-queued``: the same as ``api`` with ``Prefer: respond-async``: 202 and a receipt;
- ``bare``: POST /rows with the same title, description and point: one INSERT;
- ``floor``: POST /floor/rows (``bench/bare/floor.py``) on the project's own stack (settings,
  middleware, URLs) with the API's bearer-token authentication and the person's memberships,
  then the bare endpoint's one INSERT: what any authenticated submission costs before it does
  anything of its own.

For the queued targets the intake processor (``gongzhi process_intake``, as ``serve`` runs it)
runs throughout, on the same cores; after each, the bench waits until every accepted
submission is a case and reports how long that took and the sustained rate (accepted
submissions over the load and that wait).

Texts come from ``demo.history.TEMPLATES`` with their placeholders filled; points are drawn
inside the demo city's grids. Every response must be 201, 202 (or 200); anything else counts
as an error. It prints requests/s, p50/p99 latency, errors and the ratio of requests/s to the
bare endpoint and to the floor on the same database, and the machine, and writes the same as
Markdown to ``--out``. After the load it checks that every case (and every queued submission)
that got a success response is in the database exactly once, has exactly one "submit" event,
and that ``gongzhi verify-timelines`` passes (exit status 1 otherwise). It stops every server
it started, whatever happens. The issue's target is 0.6 of the bare endpoint; the figures are
not a test (no test runs this).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
PYTHON = sys.executable
SECRET = "bench-intake-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_intake"
TARGET = 0.6
RESIDENT_PASSWORD = "bench-intake-resident-password"  # noqa: S105


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--samples", type=int, default=3000, help="distinct cases prepared")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--keep", action="store_true", help="keep the databases at the end")
    parser.add_argument(
        "--out",
        default=str(BENCH / "results" / f"intake-{datetime.now(UTC):%Y-%m-%d}.md"),
        help="write the Markdown table here",
    )
    return parser.parse_args(argv)


# --- Environments and databases ---------------------------------------------------------------


@dataclass
class Database:
    name: str  # sqlite | postgres
    env: dict[str, str]  # what the servers and helpers need to reach it
    cleanup: Any = None


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONGZHI_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        GONGZHI_SECRET_KEY=SECRET,
        GONGZHI_ALLOWED_HOSTS="127.0.0.1,localhost",
        GONGZHI_HTTPS="0",
        GONGZHI_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(BENCH)]),
    )
    return env


def sqlite_database() -> Database:
    folder = tempfile.mkdtemp(prefix="gongzhi-bench-intake-", dir="/tmp")
    env = base_env() | {"GONGZHI_VAR_DIR": folder}
    return Database("sqlite", env, cleanup=lambda: shutil.rmtree(folder, ignore_errors=True))


def postgres_admin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing database {name!r}: its name must contain 'bench'")
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), name


def postgres_database(url: str, keep: bool) -> Database:
    import psycopg

    admin, name = postgres_admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        if keep:
            return
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return Database("postgres", base_env() | {"DATABASE_URL": url}, cleanup=drop)


def helper(db: Database, step: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a step of this script in a fresh process with Django set up on ``db``."""
    with tempfile.NamedTemporaryFile("w+", suffix=".json", delete=False) as handle:
        json.dump(payload or {}, handle)
        path = handle.name
    try:
        env = db.env | {"DJANGO_SETTINGS_MODULE": "gongzhi.config.settings"}
        run = subprocess.run(  # noqa: S603 (our own script)
            [PYTHON, __file__, "--helper", step, path],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            sys.stderr.write(run.stdout + run.stderr)
            raise SystemExit(f"{step} on {db.name} failed (exit status {run.returncode})")
        return json.loads(Path(path).read_text(encoding="utf-8"))
    finally:
        Path(path).unlink(missing_ok=True)


# --- Helper steps (run inside Django) ----------------------------------------------------------

PLACES = {
    "where": ["幸福路与建设路交叉口", "人民路88号附近", "和平小区3幢楼下", "滨河公园东门"],
    "community": ["和平社区", "幸福里小区", "春晖苑", "东湖花园"],
    "road": ["人民路", "建设路", "解放大道", "滨河路"],
    "road2": ["文化路", "中山路", "新华路"],
    "few": ["两", "三", "四", "五"],
    "days": ["3", "5", "7", "10"],
}


def fill(text: str, rng: random.Random) -> str:
    text = rng.choice(text.split("|"))
    return re.sub(
        r"\{(\w+)\}", lambda m: rng.choice(PLACES.get(m.group(1), ["附近", "这里", "那边"])), text
    )


def step_prepare(payload: dict[str, Any]) -> dict[str, Any]:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from gongzhi.accounts.models import User
    from gongzhi.accounts.services import issue_personal_token, system_actor
    from gongzhi.cases.models import Category
    from gongzhi.demo.build import CITY_CODE, SMALL, build_demo_city
    from gongzhi.demo.history import TEMPLATES
    from gongzhi.open311.queries import services
    from gongzhi.open311.services import reissue_client_key
    from gongzhi.territory.choices import RegionLevel
    from gongzhi.territory.models import Region, Unit
    from gongzhi.territory.queries import contains
    from gongzhi.triage.dataset import LabelledSet
    from gongzhi.triage.recipes import DEFAULT, RECIPES
    from gongzhi.triage.services import activate_model, train_model

    rng = random.Random(payload["seed"])
    build_demo_city(SMALL, cases=0)
    paths = set(Category.objects.filter(is_active=True).values_list("path", flat=True))
    templates = [t for t in TEMPLATES if t.path in paths]
    texts, labels = [], []
    for template in templates:
        for _ in range(12):
            n = rng.randrange(len(template.details))
            texts.append(f"{fill(template.titles[n], rng)}\n{fill(template.details[n], rng)}")
            labels.append(template.path)
    data = LabelledSet("bench-intake", "0" * 64, texts, labels, [str(i) for i in range(len(texts))])
    model = train_model(data, recipe=RECIPES[DEFAULT], name="bench intake", cv_repeats=0)
    activate_model(model.version)

    codes = {s.category.path: s.code for s in services()}
    grids = [r for r in Region.objects.filter(level=RegionLevel.GRID) if r.boundary]
    samples = []
    weights = [t.weight for t in templates]
    while len(samples) < payload["samples"]:
        template = rng.choices(templates, weights)[0]
        grid = rng.choice(grids)
        ring = grid.boundary["coordinates"][0]
        if grid.boundary["type"] == "MultiPolygon":
            ring = ring[0]
        lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
        lat, lng = rng.uniform(min(lats), max(lats)), rng.uniform(min(lngs), max(lngs))
        if not contains(grid.boundary, lat, lng):
            continue
        n = rng.randrange(len(template.details))
        samples.append(
            {
                "title": fill(template.titles[n], rng)[:200],
                "description": fill(template.details[n], rng),
                "kind": template.kind,
                "service_code": codes.get(template.path) or rng.choice(list(codes.values())),
                "lat": round(lat, 6),
                "lng": round(lng, 6),
            }
        )
    centre = Unit.objects.get(kind="command_centre", region__code=CITY_CODE)
    keys = [
        reissue_client_key(unit=centre, name=f"bench intake client {i}", actor=system_actor()).token
        for i in range(payload["keys"])
    ]
    # The demo resident is a demo persona, locked out when GONGZHI_DEBUG is off (as in
    # production): a resident with an account of their own raises the API's cases.
    User.objects.create_user(
        username="bench_resident", password=RESIDENT_PASSWORD, display_name="林小雨"
    )
    token = issue_personal_token(None, username="bench_resident", password=RESIDENT_PASSWORD).token
    return {
        "samples": samples,
        "keys": keys,
        "token": token,
        "templates": len(templates),
        "training_texts": len(texts),
        "model_version": model.version,
        "grids": len(grids),
    }


def step_verify(payload: dict[str, Any]) -> dict[str, Any]:
    from django.core.management import call_command

    from gongzhi.cases.models import Case, CaseEvent, QueuedCase

    def chunks(values: list[str]) -> list[list[str]]:
        return [values[i : i + 500] for i in range(0, len(values), 500)]

    report: dict[str, Any] = {}
    for label, field_name, values in (
        ("open311", "number", payload["open311"]),
        ("api", "id", payload["api"]),
    ):
        found: Counter[str] = Counter()
        submits = 0
        for chunk in chunks(sorted(set(values))):
            rows = Case.objects.filter(**{f"{field_name}__in": chunk})
            found.update(str(v) for v in rows.values_list(field_name, flat=True))
            submits += CaseEvent.objects.filter(
                **{f"case__{field_name}__in": chunk}, action="submit"
            ).count()
        report[label] = {
            "responses": len(values),
            "distinct": len(set(values)),
            "in_database": sum(found.values()),
            "twice": sum(1 for c in found.values() if c > 1),
            "submit_events": submits,
        }
    for label in QUEUED:
        found = Counter()
        submits = 0
        for chunk in chunks(sorted(set(payload.get(label, [])))):
            cases = QueuedCase.objects.filter(receipt__in=chunk, case__isnull=False)
            found.update(cases.values_list("receipt", flat=True))
            submits += CaseEvent.objects.filter(
                case__queued_as__receipt__in=chunk, action="submit"
            ).count()
        values = payload.get(label, [])
        report[label] = {
            "responses": len(values),
            "distinct": len(set(values)),
            "in_database": sum(found.values()),
            "twice": sum(1 for c in found.values() if c > 1),
            "submit_events": submits,
        }
    report["cases_total"] = Case.objects.count()
    run = {"ok": True}
    try:
        call_command("verify_timelines", stdout=open(os.devnull, "w"))  # noqa: SIM115
    except SystemExit as stop:
        run["ok"] = stop.code in (0, None)
    report["verify_timelines"] = run["ok"]
    report["events_total"] = CaseEvent.objects.count()
    return report


def step_drain(payload: dict[str, Any]) -> dict[str, Any]:
    """Wait until the intake queue is empty; seconds from the end of the load until then."""
    from gongzhi.cases.intake import waiting

    deadline = time.time() + payload["timeout"]
    while waiting().exists() and time.time() < deadline:
        time.sleep(0.05)
    left = waiting().count()
    return {"seconds": max(0.0, time.time() - payload["load_ended"]), "left": left}


def run_helper(step: str, path: str) -> None:
    import django

    django.setup()
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    steps = {"prepare": step_prepare, "verify": step_verify, "drain": step_drain}
    result = steps[step](payload)
    Path(path).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


# --- Servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


def start_server(name: str, app: str, env: dict[str, str], workers: int, logdir: Path) -> Server:
    port = free_port()
    log = logdir / f"{name}.log"
    argv = [
        PYTHON,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--access-logfile",
        "-",  # as `gongzhi serve --production` does
        "--no-control-socket",  # as serve does: the default socket is one per machine
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, cwd=REPO, stdout=out, stderr=out)  # noqa: S603
    return Server(name, port, process, log)


def wait_ready(server: Server, path: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited: see {server.log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{server.name} did not answer within {timeout:.0f}s: see {server.log}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()  # gunicorn's master stops its own workers
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


# --- Load --------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    ids: list[str] = field(default_factory=list)
    sample_error: str = ""


QUEUED = ("open311-queued", "api-queued")  # accepted into the intake queue (ADR 0007)
PROJECT = ("open311", "api", *QUEUED)


def request_for(target: str, sample: dict[str, Any], ctx: dict[str, Any], i: int) -> tuple:
    if target == "api-queued":
        path, body, headers = request_for("api", sample, ctx, i)
        return path, body, {**headers, "Prefer": "respond-async"}
    if target == "floor":
        _path, body, headers = request_for("api", sample, ctx, i)
        return "/floor/rows", body, headers
    if target in ("open311", "open311-queued"):
        body = urllib.parse.urlencode(
            {
                "api_key": ctx["keys"][i % len(ctx["keys"])],
                "service_code": sample["service_code"],
                "lat": sample["lat"],
                "long": sample["lng"],
                "description": f"{sample['title']}。{sample['description']}",
            }
        ).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return "/open311/v2/requests.json", body, headers
    if target == "api":
        body = json.dumps(
            {
                "title": sample["title"],
                "description": sample["description"],
                "kind": sample["kind"],
                "channel": "mobile",
                "latitude": sample["lat"],
                "longitude": sample["lng"],
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ctx['token']}"}
        return "/api/v1/cases", body, headers
    body = json.dumps(
        {
            "title": sample["title"],
            "description": sample["description"],
            "latitude": sample["lat"],
            "longitude": sample["lng"],
        },
        ensure_ascii=False,
    ).encode()
    return "/rows", body, {"Content-Type": "application/json"}


def identity(target: str, answer: Any) -> str:
    if target == "open311":
        return str(answer[0]["service_request_id"])
    if target == "open311-queued":
        return str(answer[0]["token"])
    if target == "api-queued":
        return str(answer["receipt"])
    return str(answer["id"])


def drive(
    target: str, port: int, ctx: dict[str, Any], seconds: float, concurrency: int, seed: int
) -> tuple[Tally, float]:
    """``concurrency`` threads posting back to back until the deadline; returns the tally and
    the wall time from start to the last response."""
    tallies = [Tally() for _ in range(concurrency)]
    start = time.monotonic()
    deadline = start + seconds

    def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        tally = tallies[n]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        samples = ctx["samples"]
        while time.monotonic() < deadline:
            path, body, headers = request_for(target, rng.choice(samples), ctx, n)
            began = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                elapsed = time.perf_counter() - began
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as failed:
                conn.close()
                tally.errors[type(failed).__name__] += 1
                continue
            tally.latencies.append(elapsed)
            tally.statuses[response.status] += 1
            if response.status in (200, 201, 202):
                try:
                    tally.ids.append(identity(target, json.loads(raw)))
                except (ValueError, KeyError, IndexError, TypeError):
                    tally.errors["unreadable answer"] += 1
            else:
                tally.errors[f"HTTP {response.status}"] += 1
                tally.sample_error = tally.sample_error or raw[:300].decode(errors="replace")
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - start
    total = Tally()
    for tally in tallies:
        total.latencies += tally.latencies
        total.statuses.update(tally.statuses)
        total.errors.update(tally.errors)
        total.ids += tally.ids
        total.sample_error = total.sample_error or tally.sample_error
    return total, wall


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Row:
    database: str
    target: str
    requests: int
    ok: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    error_kinds: str
    ratio: float = float("nan")
    # Queued targets: seconds after the load until the last accepted submission was a case,
    # and accepted submissions per second over the load and that wait together.
    drained_s: float = float("nan")
    sustained_rps: float = float("nan")


# --- Machine ------------------------------------------------------------------------------------


def machine(pg_url: str | None) -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except OSError:
        ram = "unknown"
    import sqlite3

    lines = [
        f"CPU: {cpu}, {os.cpu_count()} cores; RAM {ram}; "
        f"{platform.system()} {platform.release()} {platform.machine()}",
        f"Python {platform.python_version()}, Django {version('django')}, "
        f"django-ninja {version('django-ninja')}, gunicorn {version('gunicorn')}, "
        f"psycopg {version('psycopg')}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if pg_url:
        try:
            import psycopg

            with psycopg.connect(postgres_admin(pg_url)[0]) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                lines.append(f"PostgreSQL {row[0] if row else '?'} (local, 127.0.0.1)")
        except Exception as failed:
            lines.append(f"PostgreSQL: {failed}")
    return lines


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- Main ---------------------------------------------------------------------------------------


def bench_database(db: Database, args: argparse.Namespace, logdir: Path) -> tuple[list[Row], dict]:
    print(f"\n== {db.name}: preparing (migrate, demo city, classifier, keys) ...", flush=True)
    started = time.monotonic()
    ctx = helper(
        db, "prepare", {"seed": args.seed, "samples": args.samples, "keys": args.concurrency}
    )
    created = subprocess.run(  # noqa: S603
        [PYTHON, str(BENCH / "bare" / "schema.py")],
        env=db.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if created.returncode != 0:
        raise SystemExit(f"bare table: {created.stderr}")
    print(
        f"   {time.monotonic() - started:.1f}s: {ctx['grids']} grids, {ctx['templates']} "
        f"templates, classifier v{ctx['model_version']} on {ctx['training_texts']} texts, "
        f"{len(ctx['samples'])} prepared cases",
        flush=True,
    )
    servers: list[Server] = []
    rows: list[Row] = []
    ids: dict[str, list[str]] = {target: [] for target in (*PROJECT, "bare", "floor")}
    processor: subprocess.Popen[bytes] | None = None
    try:
        project = start_server(
            f"{db.name}-project", "gongzhi.config.wsgi:application", db.env, args.workers, logdir
        )
        servers.append(project)
        # Open311's batch mode is a server setting: a second instance of the project has it.
        batch_env = db.env | {"GONGZHI_OPEN311_SERVICE_TYPE": "batch"}
        queued = start_server(
            f"{db.name}-batch", "gongzhi.config.wsgi:application", batch_env, args.workers, logdir
        )
        servers.append(queued)
        bare_env = db.env | {"DJANGO_SETTINGS_MODULE": "bare.settings"}
        bare = start_server(
            f"{db.name}-bare", "bare.wsgi:application", bare_env, args.workers, logdir
        )
        servers.append(bare)
        floor_env = db.env | {"DJANGO_SETTINGS_MODULE": "bare.floor_settings"}
        floor = start_server(
            f"{db.name}-floor", "bare.wsgi:application", floor_env, args.workers, logdir
        )
        servers.append(floor)
        wait_ready(project, "/open311/v2/services.json")
        wait_ready(queued, "/open311/v2/services.json")
        wait_ready(bare, "/ping")
        wait_ready(floor, "/open311/v2/services.json")
        # The intake processor runs all along, as `gongzhi serve` runs it: it competes for
        # the same two cores while the queued targets are driven.
        with (logdir / f"{db.name}-intake.log").open("wb") as out:
            processor = subprocess.Popen(  # noqa: S603
                [PYTHON, "-m", "gongzhi", "process_intake"],
                env=batch_env,
                cwd=REPO,
                stdout=out,
                stderr=out,
            )
        ports = dict.fromkeys(PROJECT, project.port) | {
            "bare": bare.port,
            "floor": floor.port,
            **dict.fromkeys(QUEUED, queued.port),
        }
        for target in ("bare", "floor", *PROJECT):
            if args.warmup > 0:
                warm, _ = drive(target, ports[target], ctx, args.warmup, args.concurrency, 1)
                ids[target] += warm.ids
                if target in QUEUED:
                    helper(db, "drain", {"load_ended": time.time(), "timeout": 600})
            tally, wall = drive(
                target, ports[target], ctx, args.seconds, args.concurrency, args.seed
            )
            load_ended = time.time()
            ids[target] += tally.ids
            ok = len(tally.ids)
            errors = sum(tally.errors.values())
            row = Row(
                db.name,
                target,
                len(tally.latencies) + sum(v for k, v in tally.errors.items() if "HTTP" not in k),
                ok,
                errors,
                ok / wall,
                percentile(tally.latencies, 0.50) * 1000,
                percentile(tally.latencies, 0.99) * 1000,
                ", ".join(f"{k} x{v}" for k, v in tally.errors.most_common(3)),
            )
            rows.append(row)
            print(
                f"   {target:14} {row.rps:8.1f} req/s  p50 {row.p50_ms:7.1f} ms  "
                f"p99 {row.p99_ms:7.1f} ms  errors {errors}  (load {load_average()})",
                flush=True,
            )
            if target in QUEUED:
                drained = helper(db, "drain", {"load_ended": load_ended, "timeout": 600})
                row.drained_s = drained["seconds"]
                row.sustained_rps = ok / (wall + row.drained_s)
                print(
                    f"   {'':14} every accepted submission a case {row.drained_s:.1f} s after "
                    f"the load ({drained['left']} left): {row.sustained_rps:.1f} cases/s sustained",
                    flush=True,
                )
            if tally.sample_error:
                print(f"   first error answer: {tally.sample_error}", flush=True)
    finally:
        if processor is not None:
            processor.terminate()
            processor.wait(timeout=30)
        for server in servers:
            stop_server(server)
    bare_rps = next(r.rps for r in rows if r.target == "bare")
    for row in rows:
        row.ratio = row.rps / bare_rps if bare_rps else float("nan")
    check = helper(db, "verify", {target: ids[target] for target in PROJECT})
    counted = subprocess.run(  # noqa: S603
        [PYTHON, str(BENCH / "bare" / "schema.py"), "count"],
        env=db.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    # The floor inserts into the bare baseline's table too.
    responses = len(ids["bare"]) + len(ids["floor"])
    check["bare"] = {"responses": responses, "rows": counted.stdout.strip()}
    return rows, check


def verified(check: dict[str, Any]) -> list[str]:
    problems = []
    for target in PROJECT:
        c = check[target]
        if not (c["responses"] == c["distinct"] == c["in_database"] == c["submit_events"]):
            problems.append(f"{target}: {c}")
        if c["twice"]:
            problems.append(f"{target}: {c['twice']} cases stored twice")
    if not check["verify_timelines"]:
        problems.append("gongzhi verify-timelines failed")
    rows = check["bare"]["rows"].split()
    if not rows or int(rows[0]) != check["bare"]["responses"]:
        problems.append(f"bare: {check['bare']}")
    return problems


def summary(problems: list[str]) -> str:
    return "passed" if not problems else "FAILED: " + "; ".join(problems)


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| database | target | requests | ok | errors | req/s | p50 ms | p99 ms | vs bare "
        "| vs floor | drained s | cases/s sustained | sustained vs bare |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    bare = {r.database: r.rps for r in rows if r.target == "bare"}
    floor = {r.database: r.rps for r in rows if r.target == "floor"}
    for r in rows:
        queued = r.target in QUEUED
        vs_floor = r.rps / floor[r.database] if floor.get(r.database) else float("nan")
        lines.append(
            f"| {r.database} | {r.target} | {r.requests:,} | {r.ok:,} | {r.errors:,} | "
            f"{r.rps:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.ratio:.2f} | {vs_floor:.2f} | "
            + (
                f"{r.drained_s:.1f} | {r.sustained_rps:.1f} | "
                f"{r.sustained_rps / bare[r.database]:.2f} |"
                if queued
                else "| | |"
            )
        )
    return lines


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--helper":
        run_helper(sys.argv[2], sys.argv[3])
        return 0
    args = parse_args()
    names = [n.strip() for n in args.databases.split(",") if n.strip()]
    pg_url = args.postgres_url if "postgres" in names else None
    when = datetime.now(UTC)
    about = machine(pg_url)
    load_before = load_average()
    print("Intake benchmark", when.strftime("%Y-%m-%d %H:%M UTC"))
    for line in about:
        print(" ", line)
    print(
        f"  gunicorn sync workers: {args.workers}; client threads: {args.concurrency}; "
        f"{args.seconds:g}s measured after {args.warmup:g}s warm-up per target; "
        f"load average before: {load_before}",
        flush=True,
    )
    rows: list[Row] = []
    checks: dict[str, dict[str, Any]] = {}
    logdir = Path(tempfile.mkdtemp(prefix="gongzhi-bench-intake-logs-", dir="/tmp"))
    for name in names:
        db = (
            sqlite_database()
            if name == "sqlite"
            else postgres_database(args.postgres_url, args.keep)
        )
        try:
            got, check = bench_database(db, args, logdir)
            rows += got
            checks[name] = check
        finally:
            if db.cleanup and not (args.keep and name == "sqlite"):
                db.cleanup()
    load_after = load_average()
    problems = {name: verified(check) for name, check in checks.items()}
    out = table(rows)
    print()
    print("\n".join(out))
    print(f"\nload average before {load_before}, after {load_after}")
    failed = False
    for name, check in checks.items():
        status = "OK" if not problems[name] else "FAILED: " + "; ".join(problems[name])
        failed |= bool(problems[name])
        print(
            f"{name}: "
            + ", ".join(f"{check[t]['in_database']} {t}" for t in PROJECT)
            + f" cases found once each, {check['events_total']} events, "
            f"verify-timelines {'passed' if check['verify_timelines'] else 'FAILED'}: {status}"
        )
    for r in rows:
        if r.target != "bare":
            verdict = "meets" if r.ratio >= TARGET else "misses"
            line = f"{r.database} {r.target}: {r.ratio:.2f} of bare, {verdict} the {TARGET} target"
            if r.target in QUEUED:
                bare_rps = next(
                    b.rps for b in rows if b.target == "bare" and b.database == r.database
                )
                line += f" (sustained, accepted to cases: {r.sustained_rps / bare_rps:.2f})"
            print(line)
    print(f"server logs: {logdir}")
    command = "python " + " ".join(["bench/bench_intake.py", *sys.argv[1:]])
    document = [
        f"# Intake under load, {when:%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        "",
        *[f"- {line}" for line in about],
        f"- gunicorn sync workers: {args.workers}; client threads: {args.concurrency} "
        f"(on the same machine); {args.seconds:g}s measured after {args.warmup:g}s warm-up "
        "per target",
        f"- load average before {load_before}, after {load_after}",
        "",
        *out,
        "",
        *[f"- {name}: checks {summary(problems[name])}" for name in checks],
        "",
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(document), encoding="utf-8")
    print(f"written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

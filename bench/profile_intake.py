"""What one intake submission costs in one process: queries and CPU milliseconds.

Run from the repository root::

    .venv/bin/python bench/profile_intake.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/profile_intake.py --against aeb70e6    # and the same for a revision
    .venv/bin/python bench/profile_intake.py --against /tmp/other/src  # or another src/
    # options: --submissions 300 (timed, per path), --warmup 30, --counted 20,
    #   --databases sqlite,postgres,
    #   --postgres-url postgres://postgres@127.0.0.1:5432/gongzhi_bench_profile_intake,
    #   --profile 25 (the top functions of cProfile, per path), --sort tottime, --show-queries

Throughput on a shared machine is noisy; these figures are not. For each source (the working
tree, and with ``--against REV`` the revision's ``src/`` exported by ``git archive`` into a
temporary folder, or ``--against FOLDER``, a ``src/`` folder holding ``gongzhi``) and each
database (a SQLite file in a temporary folder, with the project's own settings: WAL,
``BEGIN IMMEDIATE``; or a PostgreSQL database whose name must contain "bench", dropped and
created, dropped at the end), a fresh process sets Django up on the
production settings (``GONGZHI_DEBUG`` off), prepares the database exactly as
``bench_intake.py`` does (migrations, the small demo city, a classifier trained and active,
integration keys, a resident's personal token, cases drawn from the demo history's
templates at random points of the grids) and then posts through Django's test ``Client``
(the whole middleware stack, no network):

- ``open311``: POST /open311/v2/requests.json (api_key, service_code, lat/long, description);
- ``api``: POST /api/v1/cases with the resident's bearer token, a point and no category
  (point-in-polygon, the classifier, routing, the timeline).

The paths alternate, one submission each in turn. After ``--warmup`` submissions per path
(caches filled, the classifier loaded), ``--counted`` submissions per path run inside
``CaptureQueriesContext`` (queries per submission: min and max), then ``--submissions`` per
path are timed with ``time.process_time`` (CPU of this process: Django, the ORM and the
database driver; SQLite's own work runs in-process and is included, PostgreSQL's server is
not) and ``time.perf_counter`` (wall). Every answer must be 201 (or 200 for Open311), or the
script stops. The per-key Open311 rate limit is raised in the measuring process (it counts
in a per-process cache and is not what is measured). It prints the machine and one line per
source, database and path; no test runs this.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
PYTHON = sys.executable
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_profile_intake"
PATHS = ("floor", "open311", "api", "api-queued")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=300, help="timed, per path")
    parser.add_argument("--warmup", type=int, default=30, help="untimed first, per path")
    parser.add_argument("--counted", type=int, default=20, help="with queries counted, per path")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument(
        "--against", default="", help="also measure this git revision's src/ (or this folder)"
    )
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative, tottime")
    parser.add_argument("--show-queries", action="store_true", help="print one of each path's")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- Inside the measuring process --------------------------------------------------------------


def _post(client: Any, path: str, sample: dict[str, Any], ctx: dict[str, Any], i: int) -> Any:
    if path == "open311":
        form = {
            "api_key": ctx["keys"][i % len(ctx["keys"])],
            "service_code": sample["service_code"],
            "lat": sample["lat"],
            "long": sample["lng"],
            "description": f"{sample['title']}。{sample['description']}",
        }
        return client.post(  # a form, as bench_intake.py sends it (not multipart)
            "/open311/v2/requests.json",
            urllib.parse.urlencode(form),
            content_type="application/x-www-form-urlencoded",
        )
    body = {
        "title": sample["title"],
        "description": sample["description"],
        "kind": sample["kind"],
        "channel": "mobile",
        "latitude": sample["lat"],
        "longitude": sample["lng"],
    }
    headers = {"Authorization": f"Bearer {ctx['token']}"}
    if path == "floor":  # bench/bare/floor.py: the stack, the token, one INSERT
        return client.post(
            "/floor/rows",
            json.dumps(body, ensure_ascii=False),
            content_type="application/json",
            headers=headers,
        )
    if path == "api-queued":
        headers["Prefer"] = "respond-async"  # accepted into the intake queue (ADR 0007)
    return client.post(
        "/api/v1/cases",
        json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        headers=headers,
    )


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench_intake import step_prepare

    ctx = step_prepare({"seed": args.seed, "samples": 2000, "keys": 8})
    from bare.models import Row

    with connection.schema_editor() as editor:  # the floor's table (bench/bare/schema.py)
        if Row._meta.db_table not in connection.introspection.table_names():
            editor.create_model(Row)
    settings.GONGZHI_OPEN311_RATE_LIMIT_KEY = (10**9, 60)
    client = Client()
    rng = random.Random(args.seed)
    counter = iter(range(10**9))

    def submit(path: str) -> None:
        i = next(counter)
        sample = ctx["samples"][rng.randrange(len(ctx["samples"]))]
        response = _post(client, path, sample, ctx, i)
        if response.status_code not in (200, 201, 202):
            raise SystemExit(f"{path}: HTTP {response.status_code}: {response.content[:500]!r}")

    for _ in range(args.warmup):
        for path in PATHS:
            submit(path)
    result: dict[str, Any] = {p: {"queries": [], "cpu": [], "wall": []} for p in PATHS}
    shown: dict[str, list[str]] = {}
    for _ in range(args.counted):
        for path in PATHS:
            with CaptureQueriesContext(connection) as captured:
                submit(path)
            result[path]["queries"].append(len(captured.captured_queries))
            shown[path] = [q["sql"] for q in captured.captured_queries]
    for _ in range(args.submissions):
        for path in PATHS:
            cpu, wall = time.process_time(), time.perf_counter()
            submit(path)
            result[path]["cpu"].append((time.process_time() - cpu) * 1000)
            result[path]["wall"].append((time.perf_counter() - wall) * 1000)
    if args.show_queries:
        result["shown"] = shown
    if args.profile:
        for path in PATHS:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(min(args.submissions, 100)):
                submit(path)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.profile)
            result[path]["profile"] = out.getvalue()
    result["versions"] = {"django": django.get_version(), "database": connection.vendor}
    return result


# --- The driver ---------------------------------------------------------------------------------


def base_env(src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONGZHI_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        GONGZHI_SECRET_KEY="bench-profile-intake-secret-key-not-for-production-0123456789",  # noqa: S106
        GONGZHI_ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        GONGZHI_HTTPS="0",
        GONGZHI_LOG_LEVEL="WARNING",
        # The project's settings with the floor endpoint mounted (bench/bare/floor.py).
        DJANGO_SETTINGS_MODULE="bare.floor_settings",
        PYTHONPATH=os.pathsep.join([str(src), str(BENCH)]),
    )
    return env


def pg_admin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing database {name!r}: its name must contain 'bench'")
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), name


def run_child(args: argparse.Namespace, src: Path, database: str) -> dict[str, Any]:
    env = base_env(src)
    cleanup = None
    if database == "sqlite":
        folder = tempfile.mkdtemp(prefix="gongzhi-profile-intake-", dir="/tmp")
        env["GONGZHI_VAR_DIR"] = folder

        def cleanup() -> None:
            shutil.rmtree(folder, ignore_errors=True)

    else:
        import psycopg

        admin, name = pg_admin(args.postgres_url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = args.postgres_url

        def cleanup() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    out = tempfile.NamedTemporaryFile("w+", suffix=".json", delete=False)  # noqa: SIM115
    out.close()
    argv = [
        PYTHON,
        __file__,
        "--child",
        out.name,
        "--submissions",
        str(args.submissions),
        "--warmup",
        str(args.warmup),
        "--counted",
        str(args.counted),
        "--profile",
        str(args.profile),
        "--seed",
        str(args.seed),
        "--sort",
        args.sort,
        *(["--show-queries"] if args.show_queries else []),
    ]
    try:
        run = subprocess.run(argv, env=env, cwd=REPO, check=False)  # noqa: S603
        if run.returncode != 0:
            raise SystemExit(f"measuring {src} on {database} failed ({run.returncode})")
        return json.loads(Path(out.name).read_text(encoding="utf-8"))
    finally:
        Path(out.name).unlink(missing_ok=True)
        cleanup()


def export(revision: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gongzhi-profile-intake-src-", dir="/tmp"))
    archive = subprocess.run(  # noqa: S603
        ["git", "archive", revision, "src"],  # noqa: S607
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    subprocess.run(  # noqa: S603
        ["tar", "-x", "-C", str(folder)],  # noqa: S607
        input=archive.stdout,
        check=True,
    )
    return folder / "src"


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; load average {load}",
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}",
    ]


def line(source: str, database: str, path: str, got: dict[str, Any]) -> str:
    queries = got["queries"]
    cpu, wall = sorted(got["cpu"]), sorted(got["wall"])
    return (
        f"| {source} | {database} | {path} | {min(queries)}"
        f"{'' if min(queries) == max(queries) else '-' + str(max(queries))} | "
        f"{statistics.mean(cpu):.2f} | {statistics.median(cpu):.2f} | "
        f"{cpu[int(len(cpu) * 0.9)]:.2f} | {statistics.median(wall):.2f} |"
    )


def main() -> int:
    args = parse_args()
    if args.child:
        result = measure(args)
        Path(args.child).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        return 0
    sources: list[tuple[str, Path]] = [("working tree", REPO / "src")]
    exported = None
    if args.against and Path(args.against, "gongzhi").is_dir():
        sources.insert(0, (args.against, Path(args.against).resolve()))
    elif args.against:
        exported = export(args.against)
        sources.insert(0, (args.against, exported))
    print("Intake, per submission, in one process")
    for text in machine():
        print(" ", text)
    print(
        f"  {args.warmup} warm-up, {args.counted} counted, {args.submissions} timed "
        "submissions per path, the paths alternating",
        flush=True,
    )
    rows = [
        "| source | database | path | queries | CPU ms mean | CPU ms median | CPU ms p90 "
        "| wall ms median |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    try:
        for database in [d.strip() for d in args.databases.split(",") if d.strip()]:
            for source, src in sources:
                print(f"\n== {source} on {database} ...", flush=True)
                got = run_child(args, src, database)
                for path in PATHS:
                    rows.append(line(source, database, path, got[path]))
                    print(rows[-1], flush=True)
                    if args.profile:
                        print(got[path]["profile"])
                for path, sql in got.get("shown", {}).items():
                    print(f"-- queries of one {path} submission ({source}, {database}):")
                    for n, statement in enumerate(sql, 1):
                        print(f"{n:3}. {statement[:300]}")
    finally:
        if exported is not None:
            shutil.rmtree(exported.parent, ignore_errors=True)
    print()
    print("\n".join(rows))
    print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

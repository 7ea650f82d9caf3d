"""Subtree reads over ~100,000 regions: materialised path vs. recursive CTE vs. per-level loop.

Run from the repository root::

    .venv/bin/python bench/bench_subtree.py                      # a temporary SQLite file
    .venv/bin/python bench/bench_subtree.py \\
        --database-url postgres://postgres@127.0.0.1:5432/gongzhi_bench

With ``--database-url`` the script creates that PostgreSQL database (dropping it first if it
exists, so its name must contain "bench"), migrates it, and drops it at the end.

It builds a synthetic tree city > district > street > community > grid, then for a
district, a street and a community root times, interleaved, over repeated runs:

(a) ``territory.queries.subtree_of``: one range scan over the materialised ``path``;
(b) a recursive CTE over ``parent_id`` returning the same rows;
(c) a naive loop of ``parent_id__in`` queries, one level at a time;

plus (a'), the SQL of (a) sent through a raw cursor like (b), which separates the cost of
the database from the cost of building the query in the ORM. For each it times counting
the subtree and fetching it as model instances, checks that all methods return the same set
of ids (an assertion, not a timing threshold), and prints the EXPLAIN plan of (a), so that a
missing index or a collation that breaks the range shows up. Exit status: 0 on success, 1
when the methods disagree, 2 when a plan of (a) does not use an index.

``--pg-icu-locale und`` creates the database with a linguistic (ICU) default collation, and
``--pg-path-collation C`` then gives ``territory_region.path`` the "C" collation: the first
shows the range query going wrong, the second the proposed fix (see bench/README.md).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CITY_CODE = "330100000000"
# The default shape: 1 + 16 + 16*20 + 16*20*25 + 16*20*25*12 = 104,337 regions.
BASE_FANOUT = (16, 20, 25, 12)
BASE_TOTAL = 104_337
# A few ordinary region paths; the subtree range is [root, root + "~").
PROBE = ("330100000000/330101000000/", "330100000000/~")


# --- Command line and database --------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", type=int, default=100_000, help="about how many regions")
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL URL whose database this script creates and drops (name must "
        "contain 'bench'); default: a temporary SQLite file",
    )
    parser.add_argument("--repeats", type=int, default=25, help="timed runs per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    parser.add_argument(
        "--pg-icu-locale",
        default="",
        help="create the PostgreSQL database with this ICU locale as its default collation "
        "(e.g. 'und' or 'zh'), to see what a linguistic collation does to the range query",
    )
    parser.add_argument(
        "--pg-path-collation",
        default="",
        help="after migrating, give territory_region.path this collation (e.g. 'C'): the "
        "proposed fix for databases whose default collation is linguistic",
    )
    parser.add_argument("--keep", action="store_true", help="do not drop the scratch database")
    args = parser.parse_args()
    if args.regions < 10 or args.repeats < 1 or args.warmup < 0:
        parser.error("--regions must be at least 10 and --repeats at least 1")
    if (args.pg_icu_locale or args.pg_path_collation) and not args.database_url:
        parser.error("--pg-icu-locale and --pg-path-collation need --database-url")
    return args


@dataclass(frozen=True)
class PgTarget:
    name: str
    admin_conninfo: dict[str, Any]


def pg_target(url: str) -> PgTarget:
    import dj_database_url

    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"--database-url must be a PostgreSQL URL, not {config['ENGINE']}")
    name = config["NAME"]
    if "bench" not in name:
        sys.exit(f"refusing to drop and re-create database {name!r}: its name must contain 'bench'")
    conninfo = {
        "dbname": "postgres",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    return PgTarget(name, {k: v for k, v in conninfo.items() if v is not None})


def pg_admin(target: PgTarget, sql: str) -> None:
    import psycopg

    with psycopg.connect(**target.admin_conninfo, autocommit=True) as conn:
        conn.execute(sql)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def scratch_database(args: argparse.Namespace) -> Iterator[str]:
    """Yield a DATABASE_URL for an empty database that is removed afterwards."""
    if args.database_url:
        target = pg_target(args.database_url)
        pg_admin(target, f"DROP DATABASE IF EXISTS {quote_ident(target.name)} WITH (FORCE)")
        create = f"CREATE DATABASE {quote_ident(target.name)}"
        if args.pg_icu_locale:
            create += (
                " TEMPLATE template0 LOCALE_PROVIDER icu"
                f" ICU_LOCALE {quote_literal(args.pg_icu_locale)}"
            )
        pg_admin(target, create)
        try:
            yield args.database_url
        finally:
            from django.db import connections

            connections.close_all()
            if not args.keep:
                pg_admin(target, f"DROP DATABASE IF EXISTS {quote_ident(target.name)} WITH (FORCE)")
            else:
                print(f"\nKept database {target.name}.")
    else:
        directory = tempfile.mkdtemp(prefix="gongzhi-bench-")
        try:
            yield f"sqlite:///{directory}/bench.sqlite3"
        finally:
            from django.db import connections

            connections.close_all()
            if not args.keep:
                shutil.rmtree(directory, ignore_errors=True)
            else:
                print(f"\nKept {directory}/bench.sqlite3.")


def setup_django(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.config.settings_test"
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("GONGZHI_DEBUG", None)
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


# --- Building the tree ----------------------------------------------------------------------


def fanout_for(total: int) -> tuple[int, int, int, int]:
    """Districts, streets per district, communities per street, grids per community."""
    factor = (total / BASE_TOTAL) ** 0.25
    limits = (99, 999, 999, 999)  # digits available in the administrative codes
    scaled = zip(BASE_FANOUT, limits, strict=True)
    d, s, _c, g = (max(1, min(lim, round(n * factor))) for n, lim in scaled)
    # Pick the communities per street that brings the total closest to the target.
    c = max(1, min(999, round((total - 1 - d - d * s) / (d * s * (1 + g)))))
    return d, s, c, g


def build_tree(fanout: tuple[int, int, int, int]) -> dict[str, int]:
    """Insert the regions level by level with bulk_create; return how many per level."""
    from django.db import connection, transaction

    from gongzhi.territory.choices import RegionLevel
    from gongzhi.territory.models import Region

    districts, streets, communities, grids = fanout
    batch = 2000

    def children(parents: list[Region], level: RegionLevel, n: int) -> list[Region]:
        rows: list[Region] = []
        for parent in parents:
            for i in range(1, n + 1):
                if level == RegionLevel.DISTRICT:
                    code = f"{parent.code[:4]}{i:02d}000000"
                elif level == RegionLevel.STREET:
                    code = f"{parent.code[:6]}{i:03d}000"
                elif level == RegionLevel.COMMUNITY:
                    code = f"{parent.code[:9]}{i:03d}"
                else:
                    code = f"{parent.code}{i:03d}"
                rows.append(
                    Region(
                        code=code,
                        name=f"{level.label} {code}",
                        level=level,
                        parent_id=parent.pk,
                        path=f"{parent.path}{code}/",
                    )
                )
        created = Region.objects.bulk_create(rows, batch_size=batch)
        assert all(r.pk is not None for r in created), "bulk_create did not return ids"
        return created

    with transaction.atomic():
        city = Region.objects.create(
            code=CITY_CODE, name="Bench city", level=RegionLevel.CITY, path=f"{CITY_CODE}/"
        )
        level_rows = [city]
        counts = {"city": 1}
        for level, n in zip(
            (RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY, RegionLevel.GRID),
            (districts, streets, communities, grids),
            strict=True,
        ):
            level_rows = children(level_rows, level, n)
            counts[RegionLevel(level).name.lower()] = len(level_rows)
    with connection.cursor() as cursor:
        # Fresh planner statistics, as autovacuum / a nightly ANALYZE would leave them.
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE territory_region")
        else:
            cursor.execute("ANALYZE")
    return counts


# --- The three ways of reading a subtree ----------------------------------------------------


# Table and column names below come from the model's metadata, never from input.


def cte_sql(count: bool) -> str:
    from gongzhi.territory.models import Region

    table = Region._meta.db_table
    columns = ", ".join(f.column for f in Region._meta.concrete_fields)
    if count:
        return (
            f"WITH RECURSIVE sub(id) AS ("  # noqa: S608
            f" SELECT id FROM {table} WHERE id = %s"
            f" UNION ALL SELECT c.id FROM {table} c JOIN sub ON c.parent_id = sub.id"
            f") SELECT COUNT(*) FROM sub"
        )
    child_columns = ", ".join(f"c.{f.column}" for f in Region._meta.concrete_fields)
    return (
        f"WITH RECURSIVE sub({columns}) AS ("  # noqa: S608
        f" SELECT {columns} FROM {table} WHERE id = %s"
        f" UNION ALL SELECT {child_columns} FROM {table} c JOIN sub ON c.parent_id = sub.id"
        f") SELECT {columns} FROM sub"
    )


def path_count(root: Any) -> int:
    from gongzhi.territory.queries import subtree_of

    return subtree_of(root).count()


def path_fetch(root: Any) -> list[Any]:
    from gongzhi.territory.queries import subtree_of

    return list(subtree_of(root))


def range_sql(count: bool) -> str:
    from gongzhi.territory.models import Region

    table = Region._meta.db_table
    columns = ", ".join(f.column for f in Region._meta.concrete_fields)
    where = "WHERE path >= %s AND path < %s"
    if count:
        return f"SELECT COUNT(*) FROM {table} {where}"  # noqa: S608
    return f"SELECT {columns} FROM {table} {where} ORDER BY path"  # noqa: S608


def range_params(root: Any) -> list[str]:
    from gongzhi.core.scoping import PATH_END

    return [root.path, root.path + PATH_END]


def raw_range_count(root: Any) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(range_sql(count=True), range_params(root))
        return int(cursor.fetchone()[0])


def raw_range_fetch(root: Any) -> list[Any]:
    from gongzhi.territory.models import Region

    return list(Region.objects.raw(range_sql(count=False), range_params(root)))


def cte_count(root: Any) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(cte_sql(count=True), [root.pk])
        return int(cursor.fetchone()[0])


def cte_fetch(root: Any) -> list[Any]:
    from gongzhi.territory.models import Region

    return list(Region.objects.raw(cte_sql(count=False), [root.pk]))


def loop_count(root: Any) -> int:
    from gongzhi.territory.models import Region

    total, frontier = 1, [root.pk]
    while frontier:
        frontier = list(Region.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        total += len(frontier)
    return total


def loop_fetch(root: Any) -> list[Any]:
    from gongzhi.territory.models import Region

    rows, frontier = [root], [root.pk]
    while frontier:
        level = list(Region.objects.filter(parent_id__in=frontier))
        rows.extend(level)
        frontier = [r.pk for r in level]
    return rows


METHODS: dict[str, tuple[Callable[[Any], int], Callable[[Any], list[Any]]]] = {
    "(a) path range": (path_count, path_fetch),
    "(a') same, raw SQL": (raw_range_count, raw_range_fetch),
    "(b) recursive CTE": (cte_count, cte_fetch),
    "(c) per-level loop": (loop_count, loop_fetch),
}


# --- Measuring ------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def check_same_rows(label: str, root: Any) -> int:
    """All three methods return the same set of ids, and counting agrees with fetching."""
    results: dict[str, set[int]] = {}
    for name, (count, fetch) in METHODS.items():
        rows = fetch(root)
        ids = {r.pk for r in rows}
        assert len(ids) == len(rows), f"{name} returned duplicate rows for {label}"
        assert count(root) == len(ids), f"{name}: count and fetch disagree for {label}"
        results[name] = ids
    reference = results["(b) recursive CTE"]
    for name, ids in results.items():
        if ids != reference:
            raise SubtreeMismatch(label, root, name, len(ids), len(reference))
    return len(reference)


class SubtreeMismatch(AssertionError):
    def __init__(self, label: str, root: Any, method: str, got: int, expected: int) -> None:
        super().__init__(
            f"{method} returned {got} regions for the {label} {root.path} subtree; "
            f"the recursive CTE returned {expected}"
        )


def time_call(fn: Callable[[Any], Any], root: Any) -> float:
    started = time.perf_counter()
    fn(root)
    return (time.perf_counter() - started) * 1000


def measure(
    roots: dict[str, Any], repeats: int, warmup: int
) -> dict[tuple[str, str, str], list[float]]:
    """Times in ms per (root label, operation, method); methods interleaved in each round."""
    samples: dict[tuple[str, str, str], list[float]] = {}
    # Like timeit, keep the cyclic garbage collector out of the timings (model instances
    # are freed by reference counting anyway); collect between series.
    gc.disable()
    try:
        for label, root in roots.items():
            for op_index, op in enumerate(("count", "fetch")):
                gc.collect()
                for round_number in range(warmup + repeats):
                    for name, fns in METHODS.items():
                        elapsed = time_call(fns[op_index], root)
                        if round_number >= warmup:
                            samples.setdefault((label, op, name), []).append(elapsed)
    finally:
        gc.enable()
    return samples


# --- Reporting ------------------------------------------------------------------------------


def machine_report() -> list[str]:
    import django
    from django.db import connection

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            database = cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
    return [
        f"date      {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"cpu       {cpu}, {os.cpu_count()} cores",
        f"ram       {ram}",
        f"os        {platform.platform()}",
        f"python    {platform.python_version()} ({platform.python_implementation()})",
        f"django    {django.get_version()}",
        f"database  {database}",
        "load      {:.2f} {:.2f} {:.2f} (1/5/15 min, at start)".format(*os.getloadavg()),
    ]


def collation_report() -> list[str]:
    """How the database compares paths: the range query is only right if '~' sorts last."""
    from django.db import connection

    lines = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT datcollate, datlocprovider, daticulocale FROM pg_database"
                " WHERE datname = current_database()"
            )
            collate, provider, icu = cursor.fetchone()
            providers = {"c": "libc", "i": "icu", "d": "default"}
            lines.append(
                f"database collation  {collate} (provider {providers.get(provider, provider)}"
                + (f", ICU locale {icu})" if icu else ")")
            )
            cursor.execute(
                "SELECT collation_name FROM information_schema.columns"
                " WHERE table_name = 'territory_region' AND column_name = 'path'"
            )
            column_collation = cursor.fetchone()[0]
            lines.append(f"path column collation  {column_collation or 'database default'}")
            collate = f" COLLATE {quote_ident(column_collation)}" if column_collation else ""
        else:
            lines.append("collation  BINARY (SQLite compares text byte by byte)")
            collate = ""
        # Compare as the path column does: its own collation, else the database default.
        cursor.execute(f"SELECT %s < %s{collate}", list(PROBE))
        ok = bool(cursor.fetchone()[0])
    lines.append(
        f"'{PROBE[0]}' < '{PROBE[1]}'{collate}  {ok}"
        + ("" if ok else "  <-- WRONG: '~' does not sort after digits, subtree ranges are broken")
    )
    return lines


def explain(fn: Callable[[Any], Any], root: Any) -> tuple[str, str]:
    """The SQL ``fn`` runs against the database and that statement's plan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn(root)
    sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = "\n".join(f"{row[0]:>3} {row[1]:>3}  {row[3]}" for row in cursor.fetchall())
    return sql, plan


def uses_index(plan: str) -> bool:
    lowered = plan.lower()
    if "seq scan" in lowered:
        return False
    if "scan territory_region" in lowered and "index" not in lowered:
        return False  # SQLite's full table scan
    return "index" in lowered


def fmt(ms: float) -> str:
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def results_table(
    samples: dict[tuple[str, str, str], list[float]], sizes: dict[str, int]
) -> list[str]:
    lines = [
        "| root | rows | operation | method | median ms | p95 ms | vs (b) CTE |",
        "|---|---:|---|---|---:|---:|---:|",
    ]
    for label, size in sizes.items():
        for op in ("count", "fetch"):
            baseline = statistics.median(samples[(label, op, "(b) recursive CTE")])
            for name in METHODS:
                times = samples[(label, op, name)]
                median = statistics.median(times)
                lines.append(
                    f"| {label} | {size:,} | {op} | {name} | {fmt(median)} "
                    f"| {fmt(percentile(times, 0.95))} | {median / baseline:.2f} |"
                )
    return lines


def ratio_lines(
    samples: dict[tuple[str, str, str], list[float]], sizes: dict[str, int]
) -> list[str]:
    lines = []
    for label in sizes:
        for op in ("count", "fetch"):
            b = statistics.median(samples[(label, op, "(b) recursive CTE")])
            parts = []
            for name, short in (("(a) path range", "(a)"), ("(a') same, raw SQL", "(a')")):
                a = statistics.median(samples[(label, op, name)])
                faster = f"{'path' if a <= b else 'CTE'} {max(a, b) / min(a, b):.1f}x faster"
                parts.append(f"{short}/(b) = {a / b:.3f} ({faster})")
            lines.append(f"{label:<9} {op:<5}  " + ";  ".join(parts))
    return lines


# --- Main -----------------------------------------------------------------------------------


def pick_roots() -> dict[str, Any]:
    """A district, a street and a community from the middle of the tree."""
    from gongzhi.territory.choices import RegionLevel
    from gongzhi.territory.models import Region

    def middle(qs: Any) -> Any:
        n = qs.count()
        return qs.order_by("path")[n // 2]

    district = middle(Region.objects.filter(level=RegionLevel.DISTRICT))
    street = middle(Region.objects.filter(parent=district))
    community = middle(Region.objects.filter(parent=street))
    return {"district": district, "street": street, "community": community}


def run(args: argparse.Namespace, database_url: str) -> int:
    started = time.perf_counter()
    setup_django(database_url)
    from django.core.management import call_command
    from django.db import connection

    vendor = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    print(f"# Subtree benchmark on {vendor}\n")
    print("\n".join(machine_report()))

    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    if args.pg_path_collation:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE territory_region ALTER COLUMN path TYPE varchar(255)"
                f" COLLATE {quote_ident(args.pg_path_collation)}"
            )
        print(f"\nfix       territory_region.path altered to COLLATE {args.pg_path_collation!r}")
    migrate_s = time.perf_counter() - t

    fanout = fanout_for(args.regions)
    t = time.perf_counter()
    counts = build_tree(fanout)
    build_s = time.perf_counter() - t
    total = sum(counts.values())
    print(
        f"\ntree      {total:,} regions ("
        + ", ".join(f"{n:,} {level}" for level, n in counts.items())
        + f"); fan-out {'/'.join(map(str, fanout))}"
    )
    print(f"setup     migrate {migrate_s:.1f}s, bulk insert + ANALYZE {build_s:.1f}s")
    print("\n".join(collation_report()))

    roots = pick_roots()
    try:
        sizes = {label: check_same_rows(label, root) for label, root in roots.items()}
    except SubtreeMismatch as exc:
        print(f"\nFAILED: {exc}")
        print("The three methods must return the same regions; the path range did not.")
        print("Plan of (a) for that root:")
        print(explain(path_fetch, roots["district"])[1])
        return 1
    print(
        "check     (a), (b) and (c) return the same ids for every root: "
        + ", ".join(f"{label} {n:,}" for label, n in sizes.items())
    )

    samples = measure(roots, args.repeats, args.warmup)
    print(
        f"\n## Times over {args.repeats} runs after {args.warmup} warm-up runs"
        " (milliseconds, wall clock in this process, cyclic GC off while timing)\n"
    )
    print("\n".join(results_table(samples, sizes)))
    print("\n## Ratios of medians: (a) and (a') to (b) recursive CTE\n")
    print("\n".join(ratio_lines(samples, sizes)))

    print(f"\n## Plans of (a) for the district root ({sizes['district']:,} rows)")
    all_indexed = True
    for op, fn in (("count", path_count), ("fetch", path_fetch)):
        sql, plan = explain(fn, roots["district"])
        indexed = uses_index(plan)
        all_indexed &= indexed
        print(f"\n{op}: {sql}\n{plan}")
        print(f"-> {'uses an index' if indexed else 'WARNING: does NOT use an index'}")
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    elapsed = time.perf_counter() - started
    print(f"\nwhole run {elapsed:.1f}s ({connection.vendor}); load at end {load}")
    return 0 if all_indexed else 2


def main() -> None:
    args = parse_args()
    with scratch_database(args) as database_url:
        status = run(args, database_url)
    sys.exit(status)


if __name__ == "__main__":
    main()

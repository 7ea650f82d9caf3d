"""Evaluation at scale: the command centre and a monthly ranking over ten million cases.

Run from the repository root (PostgreSQL only)::

    .venv/bin/python bench/bench_evaluation.py --cases 200000          # a first try
    .venv/bin/python bench/bench_evaluation.py --cases 10000000 --keep # the real thing
    .venv/bin/python bench/bench_evaluation.py --cases 10000000 --keep # again: reuses the data

The database comes from ``--database-url``, else ``DATABASE_URL``, else
postgres://postgres@127.0.0.1:5432/gongzhi_bench_eval; its name must contain "bench"
because the script drops and re-creates it. Without ``--keep`` it starts from an empty
database and drops it at the end. With ``--keep`` it reuses the database when it already
holds a complete generated set of the same size (no generation), and leaves it in place.

1. Migrates, builds the full demo city without history (8 districts, 60 streets, 400
   communities, 2,000 grids, ~725 units, the personas, the routing rules).
2. Generates N cases over five years with set-based SQL (``INSERT ... SELECT FROM
   generate_series``), in submission order, spread over all grids (urban grids three times
   as busy as county ones), each with a category drawn from the demo history's templates
   and the unit the city's own routing rules give for it in that street; a realistic mix
   of states (most closed and rated; rejected, merged, open ones still on their way, stalled
   ones overdue and supervised, returned and re-dispatched, reworked, escalated), and one
   ``Assignment`` per dispatch (two for returned cases). No ``CaseEvent`` timelines: this
   measures reads of figures. Secondary indexes and constraints are dropped during the load
   and re-created afterwards, then ``VACUUM ANALYZE``.
3. Times, repeated (median and p95):
   (a) ``rebuild_tallies()``: every month from scratch;
   (b) ``refresh_tallies()`` after touching 1,000 cases of the current month (the
       incremental path after a minute of typical activity);
   (c) the command centre for the city and a district: ``dashboards.queries.command_centre``
       when it exists, else a stand-in made of the evaluation reads (``compare_region``,
       ``monthly_figures`` over 12 months, ``figures_by_child`` for the streets) and the
       live counts of open and overdue cases (the output says which one it timed);
   (d) ``draft_ranking`` of the streets and of the units of the city for last month, and a
       whole ``publish_ranking`` by the demo assessor;
   (e) baselines in the same rounds: ``tallies.compute_month`` for that month (the indexed
       scan of a month's cases the roll-up replaces) and a naive aggregate over the whole
       case and dispatch tables for the city's figures over 12 months; it checks that the
       naive figures equal the summed tallies (an assertion, not a timing threshold).
4. Prints the machine, the timings, ratios against the baselines, and the EXPLAIN
   (ANALYZE, BUFFERS) of the slowest queries of any read whose median is above
   ``--explain-over`` ms (default 500, the bar of issue 5).

Exit status 0, or 1 when the tallies disagree with the naive scan. This is a benchmark:
no test runs it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_eval"
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # as cases.services
MAX_CASES = 32**5 - 1  # the tracking code's sequence part has five base-32 digits
BAR_MS = 500.0
META = "bench_eval_meta"


# --- Command line and database --------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000_000, help="how many cases")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_URL,
        help=f"PostgreSQL URL, name containing 'bench' (default: $DATABASE_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse the database if it holds the same generated set; leave it in place",
    )
    parser.add_argument("--years", type=int, default=5, help="years of cases (default 5)")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--chunk", type=int, default=500_000, help="cases per INSERT statement")
    parser.add_argument("--repeats", type=int, default=15, help="rounds of the fast reads")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    parser.add_argument(
        "--baseline-repeats", type=int, default=3, help="rounds that also run the baselines"
    )
    parser.add_argument(
        "--rebuild-repeats",
        type=int,
        default=3,
        help="full rebuilds timed (0: keep the tallies a --keep database already has)",
    )
    parser.add_argument("--refresh-repeats", type=int, default=7, help="refreshes timed")
    parser.add_argument("--publish-repeats", type=int, default=5, help="publications timed")
    parser.add_argument("--touch", type=int, default=1000, help="cases touched per refresh")
    parser.add_argument(
        "--explain-over", type=float, default=BAR_MS, help="EXPLAIN reads slower than this (ms)"
    )
    args = parser.parse_args()
    if not 1000 <= args.cases <= MAX_CASES:
        parser.error(f"--cases must lie between 1,000 and {MAX_CASES:,}")
    if (
        min(args.repeats, args.refresh_repeats, args.publish_repeats) < 1
        or args.rebuild_repeats < 0
    ):
        parser.error("every --*-repeats must be at least 1 (--rebuild-repeats at least 0)")
    args.baseline_repeats = max(1, min(args.baseline_repeats, args.repeats))
    return args


@dataclass(frozen=True)
class PgTarget:
    name: str
    admin_conninfo: dict[str, Any]


def pg_target(url: str) -> PgTarget:
    import dj_database_url

    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"this benchmark needs PostgreSQL, not {config['ENGINE']}")
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


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pg_admin(target: PgTarget, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(**target.admin_conninfo, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def database_exists(target: PgTarget) -> bool:
    return bool(pg_admin(target, "SELECT 1 FROM pg_database WHERE datname = %s", (target.name,)))


def recreate_database(target: PgTarget) -> None:
    pg_admin(target, f"DROP DATABASE IF EXISTS {quote_ident(target.name)} WITH (FORCE)")
    pg_admin(target, f"CREATE DATABASE {quote_ident(target.name)}")


def setup_django(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.config.settings_test"
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("GONGZHI_DEBUG", None)
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


def sql(query: str, params: Any = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def read_meta() -> dict[str, Any] | None:
    found = sql("SELECT to_regclass(%s) IS NOT NULL", [META])
    if not found[0][0]:
        return None
    rows = sql(f"SELECT cases, years, seed, anchor, seconds, complete FROM {META}")  # noqa: S608
    if not rows:
        return None
    cases, years, seed, anchor, seconds, complete = rows[0]
    return {
        "cases": cases,
        "years": years,
        "seed": seed,
        "anchor": anchor,
        "seconds": seconds,
        "complete": complete,
    }


# --- The city and the helper tables ---------------------------------------------------------


class Filler(dict[str, str]):
    """Values for the history templates' {placeholders}: plain, invented, the same always."""

    def __missing__(self, key: str) -> str:
        return "附近"


FILLER = Filler(
    where="幸福小区3栋",
    community="幸福社区",
    road="人民路",
    road2="解放路",
    estate="幸福家园小区",
    few="3",
    many="20",
    days="5",
    floor="12",
    hours="2",
    shop="一家餐馆",
    school="实验小学",
    company="某公司",
    village="李家村",
    name="王先生",
    amount="8000",
    months="3",
)
NAMES = ["张先生", "王女士", "李先生", "刘女士", "陈先生", "杨女士", "赵先生", "黄女士",
         "周先生", "吴女士", "徐先生", "孙女士", "胡先生", "朱女士", "高先生", "林女士",
         "何先生", "郭女士", "马先生", "罗女士"]  # fmt: skip


def build_city() -> dict[str, int]:
    from gongzhi.demo.build import FULL, build_demo_city

    report = build_demo_city(FULL, cases=0)
    return report.counts


def build_helpers(seed: int) -> dict[str, int]:
    """bench_eval_grid (one row per pick: urban grids three times) and bench_eval_route
    (100 slots per street: a category drawn from the history templates' weights, and the
    unit the city's routing rules give for it there, with texts)."""
    from gongzhi.cases.imports import Routes
    from gongzhi.cases.models import Category
    from gongzhi.demo.history import TEMPLATES
    from gongzhi.territory.choices import RegionLevel
    from gongzhi.territory.models import Region

    regions = list(Region.objects.defer("boundary").order_by("path"))
    by_path = {r.path: r for r in regions}

    def ancestor(region: Region, level: int) -> Region:
        parts = region.path.split("/")
        return by_path["/".join(parts[:level]) + "/"]

    rng = random.Random(seed)
    grids = [r for r in regions if r.level == RegionLevel.GRID]
    grid_rows: list[tuple[Any, ...]] = []
    for grid in grids:
        street = ancestor(grid, RegionLevel.STREET)
        district = ancestor(grid, RegionLevel.DISTRICT)
        county = district.name.endswith("县")
        lat = grid.centre_lat if grid.centre_lat is not None else 31.0 + rng.random() * 0.45
        lon = grid.centre_lng if grid.centre_lng is not None else 118.6 + rng.random() * 0.7
        for _ in range(1 if county else 3):
            grid_rows.append(
                (
                    len(grid_rows) + 1,
                    grid.pk,
                    grid.path,
                    street.pk,
                    district.pk,
                    street.name,
                    lat,
                    lon,
                )
            )

    categories = {c.path: c for c in Category.objects.all()}
    routes = Routes()
    route_rows: list[tuple[Any, ...]] = []
    streets = [r for r in regions if r.level == RegionLevel.STREET]
    for street in streets:
        county = ancestor(street, RegionLevel.DISTRICT).name.endswith("县")
        usable = [
            t
            for t in TEMPLATES
            if t.path in categories and t.area in ("any", "rural" if county else "urban")
        ]
        weights = [t.weight for t in usable]
        for slot in range(100):
            template = rng.choices(usable, weights)[0]
            k = rng.randrange(len(template.details))
            category = categories[template.path]
            unit = routes.unit_for(category, street)
            title = template.titles[k % len(template.titles)].split("|")[0]
            reply = template.replies[k % len(template.replies)]
            route_rows.append(
                (
                    street.pk,
                    slot,
                    category.pk,
                    unit.pk,
                    str(template.kind),
                    title.format_map(FILLER)[:200],
                    template.details[k].format_map(FILLER)[:5000],
                    reply.format_map(FILLER)[:5000],
                )
            )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_eval_grid, bench_eval_route")
        cursor.execute(
            "CREATE TABLE bench_eval_grid (pick int PRIMARY KEY, region_id bigint NOT NULL,"
            " path text NOT NULL, street_id bigint NOT NULL, district_id bigint NOT NULL,"
            " street_name text NOT NULL, lat float8 NOT NULL, lon float8 NOT NULL)"
        )
        cursor.executemany(
            "INSERT INTO bench_eval_grid VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", grid_rows
        )
        cursor.execute(
            "CREATE TABLE bench_eval_route (street_id bigint, slot int, category_id bigint"
            " NOT NULL, unit_id bigint NOT NULL, kind text NOT NULL, title text NOT NULL,"
            " description text NOT NULL, reply text NOT NULL, PRIMARY KEY (street_id, slot))"
        )
        cursor.executemany(
            "INSERT INTO bench_eval_route VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", route_rows
        )
        cursor.execute("ANALYZE bench_eval_grid")
        cursor.execute("ANALYZE bench_eval_route")
    return {
        "grid picks": len(grid_rows),
        "grids": len(grids),
        "route slots": len(route_rows),
        "distinct routed units": len({row[3] for row in route_rows}),
        "routing lookups": routes.calls,
    }


# --- Generating the cases --------------------------------------------------------------------


def channel_array() -> list[str]:
    from gongzhi.demo.history import CHANNEL_SHARES

    out: list[str] = []
    for channel, share in CHANNEL_SHARES:
        out.extend([str(channel)] * round(share * 100))
    while len(out) < 100:
        out.append(str(CHANNEL_SHARES[0][0]))
    return out[:100]


def tracking_expr() -> str:
    """Ten characters of the live alphabet: five random, then g in base 32 (unique)."""
    alphabet = f"'{TRACKING_ALPHABET}'"
    parts = [f"substr({alphabet}, 1 + ((floor(u_tc * 33554432)::bigint >> {5 * k}) & 31)::int, 1)"
             for k in range(5)]  # fmt: skip
    parts += [f"substr({alphabet}, 1 + ((g >> {5 * k}) & 31)::int, 1)" for k in range(5)]
    return " || ".join(parts)


H = "* interval '1 hour'"

# One chunk of cases and their dispatches; every moment after ``now`` is "infinity" (has not
# happened yet). Hours are scaled by ``f`` (urgent and dangerous matters move faster).
# {H} and the {placeholders} are filled in from this module's constants; values are parameters.
GENERATE = """
WITH s AS MATERIALIZED (
  SELECT g, gen_random_uuid() AS id,
    %(start)s::timestamptz + (g - 1 + random()) * %(step)s * interval '1 second' AS sub,
    1 + floor(random() * %(picks)s)::int AS pick,
    floor(random() * 100)::int AS slot, floor(random() * 100)::int AS slot2,
    random() AS u_out, random() AS u_chan, random() AS u_urg, random() AS u_ret,
    random() AS u_sat, random() AS u_res, random() AS u_lead, random() AS u_rework,
    random() AS u_anon, random() AS u_stall, random() AS u_cx, random() AS u_rate,
    random() AS u_lat, random() AS u_lon, random() AS u_tc,
    -ln(1 - random()) AS e1, -ln(1 - random()) AS e2, -ln(1 - random()) AS e3,
    -ln(1 - random()) AS e4, -ln(1 - random()) AS e5, -ln(1 - random()) AS e6,
    -ln(1 - random()) AS e7, -ln(1 - random()) AS e8
  FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
), gen AS (
  -- Each LATERAL step is fenced with OFFSET 0: inlined, every reference to an earlier
  -- column would copy its whole expression, and the expressions would grow exponentially.
  SELECT s.*, gr.region_id, gr.path, gr.street_id, gr.district_id, gr.street_name,
    gr.lat + (u_lat - 0.5) * 0.004 AS lat, gr.lon + (u_lon - 0.5) * 0.004 AS lon,
    r.category_id, r.unit_id AS routed_unit, r.kind, r.title, r.description,
    r.reply AS reply_text, r2.unit_id AS first_unit,
    b.*, c.*, t1.*, t2.*, t3.*, t4.*, t5.*, t6.*, t7.*, t8.*, t9.*, t10.*, t11.*
  FROM s
  JOIN bench_eval_grid gr ON gr.pick = s.pick
  JOIN bench_eval_route r ON r.street_id = gr.street_id AND r.slot = s.slot
  JOIN bench_eval_route r2 ON r2.street_id = gr.street_id AND r2.slot = s.slot2
  CROSS JOIN LATERAL (SELECT
    (%(channels)s::text[])[1 + floor(s.u_chan * 100)::int] AS channel,
    CASE WHEN s.u_urg < 0.03 THEN 'danger' WHEN s.u_urg < 0.13 THEN 'urgent' ELSE 'normal' END
      AS urgency,
    CASE WHEN s.u_out < 0.03 THEN 'rejected' WHEN s.u_out < 0.035 THEN 'merged'
      WHEN s.u_out < 0.035 + CASE WHEN s.sub >= %(recent)s THEN 0.045 ELSE 0.002 END THEN
        CASE WHEN s.u_stall < 0.6 THEN 'stall_progress' WHEN s.u_stall < 0.85 THEN 'stall_sign'
             ELSE 'stall_return' END
      ELSE 'normal' END AS fate
    OFFSET 0) AS b
  CROSS JOIN LATERAL (SELECT
    CASE b.urgency WHEN 'normal' THEN 1.0 WHEN 'urgent' THEN 0.3 ELSE 0.15 END AS f,
    CASE b.urgency WHEN 'normal' THEN 0.5 ELSE 1.0 / 6 END AS dlim,
    CASE b.urgency WHEN 'normal' THEN 2.0 WHEN 'urgent' THEN 0.5 ELSE 0.25 END AS slim,
    CASE WHEN b.urgency = 'danger' THEN 2.0 WHEN s.u_cx < 0.04 THEN 504.0 ELSE 235.0 END
      AS fblim,
    (s.u_cx < 0.04 AND b.urgency <> 'danger') AS is_complex,
    (b.fate = 'stall_return' OR (b.fate = 'normal' AND s.u_ret < 0.065)) AS returned,
    (b.fate = 'normal' AND s.u_rework < 0.035) AS reworked,
    (s.u_anon < 0.06) AS anonymous
    OFFSET 0) AS c
  CROSS JOIN LATERAL (SELECT
    s.sub + (0.1 + s.e1 * 1.5) * c.f {H} AS rej,
    CASE WHEN b.fate IN ('rejected', 'merged') THEN 'infinity'::timestamptz
         ELSE s.sub + (0.01 + s.e1 * 0.05) * c.f {H} END AS reg
    OFFSET 0) AS t1
  CROSS JOIN LATERAL (SELECT
    t1.reg + (0.01 + s.e2 * 0.08) * c.f {H} AS disp1, t1.reg + c.fblim {H} AS fb_due
    OFFSET 0) AS t2
  CROSS JOIN LATERAL (SELECT
    CASE WHEN c.returned THEN t2.disp1 + (0.1 + s.e6 * 0.6) * c.f {H} END AS ret_at,
    CASE WHEN b.fate = 'stall_return' THEN 'infinity'::timestamptz
         WHEN c.returned THEN t2.disp1 + (0.2 + s.e6 * 0.6 + s.e7 * 0.3) * c.f {H}
         ELSE t2.disp1 END AS disp
    OFFSET 0) AS t3
  CROSS JOIN LATERAL (SELECT
    CASE WHEN b.fate = 'stall_sign' THEN 'infinity'::timestamptz
         ELSE t3.disp + s.e3 * c.slim * 0.28 {H} END AS sign
    OFFSET 0) AS t4
  CROSS JOIN LATERAL (SELECT
    CASE WHEN b.fate = 'stall_progress' THEN 'infinity'::timestamptz
         ELSE t4.sign + s.e4 * c.fblim * 0.34 {H} END AS reply
    OFFSET 0) AS t5
  CROSS JOIN LATERAL (SELECT
    t5.reply + (0.25 + s.e5 * 6) * c.f {H} AS verify_at,
    t5.reply + (0.5 + s.e5 * 12 + CASE WHEN c.reworked THEN 72 ELSE 0 END) * c.f {H} AS close
    OFFSET 0) AS t6
  CROSS JOIN LATERAL (SELECT
    CASE WHEN NOT c.anonymous AND b.channel <> 'grid_patrol' AND s.u_rate < 0.9
         THEN t6.close + (2 + s.e8 * 30) * c.f {H} ELSE 'infinity'::timestamptz END AS rate,
    CASE
      WHEN b.fate = 'rejected' AND t1.rej <= %(now)s THEN 'rejected'
      WHEN b.fate = 'merged' AND t1.rej <= %(now)s THEN 'merged'
      WHEN %(now)s < t1.reg THEN 'submitted'
      WHEN %(now)s < t2.disp1 THEN 'registered'
      WHEN c.returned AND %(now)s < t3.ret_at THEN 'dispatched'
      WHEN c.returned AND %(now)s < t3.disp THEN 'returned'
      WHEN %(now)s < t4.sign THEN 'dispatched'
      WHEN %(now)s < t5.reply THEN 'in_progress'
      WHEN %(now)s < t6.verify_at THEN 'replied'
      WHEN %(now)s < t6.close THEN 'verified'
      ELSE 'closed' END AS state
    OFFSET 0) AS t7
  CROSS JOIN LATERAL (SELECT
    CASE WHEN t7.state IN ('submitted', 'registered', 'returned') THEN 'dispatch'
         WHEN t7.state = 'dispatched' THEN 'sign' WHEN t7.state = 'in_progress' THEN 'feedback'
         ELSE '' END AS stage,
    CASE WHEN t7.state IN ('submitted', 'registered') THEN s.sub
         WHEN t7.state = 'returned' THEN t3.ret_at
         WHEN t7.state = 'dispatched' AND c.returned AND %(now)s < t3.ret_at THEN t2.disp1
         WHEN t7.state = 'dispatched' THEN t3.disp
         WHEN t7.state = 'in_progress' THEN t4.sign END AS clock_start
    OFFSET 0) AS t8
  CROSS JOIN LATERAL (SELECT
    CASE t8.stage WHEN 'dispatch' THEN t8.clock_start + c.dlim {H}
                  WHEN 'sign' THEN t8.clock_start + c.slim {H}
                  WHEN 'feedback' THEN t2.fb_due END AS due
    OFFSET 0) AS t9
  CROSS JOIN LATERAL (SELECT
    LEAST(t9.due, t8.clock_start + (t9.due - t8.clock_start) * 0.8) AS yellow,
    CASE WHEN t9.due <= %(now)s THEN 'red'
         WHEN t8.clock_start + (t9.due - t8.clock_start) * 0.8 <= %(now)s THEN 'yellow'
         ELSE 'none' END AS warning,
    CASE WHEN t1.reg <= %(now)s THEN t1.reg END AS registered_at,
    CASE WHEN t3.disp <= %(now)s THEN t3.disp WHEN t2.disp1 <= %(now)s THEN t2.disp1 END
      AS dispatched_at,
    CASE WHEN t4.sign <= %(now)s THEN t4.sign END AS signed_at,
    CASE WHEN t5.reply <= %(now)s THEN t5.reply END AS replied_at,
    CASE WHEN t7.state IN ('rejected', 'merged') THEN t1.rej
         WHEN t7.state = 'closed' THEN t6.close END AS closed_at,
    CASE WHEN t7.state = 'closed' AND t7.rate <= %(now)s THEN t7.rate END AS rated_at,
    CASE WHEN c.returned AND t3.ret_at <= %(now)s THEN 1 ELSE 0 END AS return_count,
    CASE WHEN c.reworked AND t6.verify_at <= %(now)s THEN 1 ELSE 0 END AS rework_count,
    CASE WHEN b.fate NOT IN ('rejected', 'merged') AND s.sub + c.dlim {H} <= %(now)s
              AND t2.disp1 > s.sub + c.dlim {H} THEN 1 ELSE 0 END AS late_dispatch
    OFFSET 0) AS t10
  CROSS JOIN LATERAL (SELECT
    t10.late_dispatch
      + CASE WHEN t7.state = 'returned' AND t10.warning = 'red' THEN 1 ELSE 0 END
      AS escalation_count,
    (s.u_lead < 0.015
     OR (t3.disp + c.slim {H} <= %(now)s AND t4.sign > t3.disp + c.slim {H})
     OR (t2.fb_due <= %(now)s AND t5.reply > t2.fb_due)
     OR (t10.warning = 'red' AND t8.stage IN ('sign', 'feedback'))) AS is_supervised,
    CASE WHEN t7.state IN ('dispatched', 'in_progress', 'replied', 'verified', 'closed') THEN
      CASE WHEN c.returned AND %(now)s < t3.ret_at THEN r2.unit_id ELSE r.unit_id END END
      AS unit_now,
    CASE WHEN t10.rated_at IS NULL THEN ''
         WHEN s.u_sat < 0.85 THEN 'satisfied' WHEN s.u_sat < 0.95 THEN 'basically'
         ELSE 'unsatisfied' END AS satisfaction,
    CASE WHEN t10.rated_at IS NULL THEN ''
         WHEN s.u_sat < 0.85 THEN CASE WHEN s.u_res < 0.95 THEN 'resolved' ELSE 'partly' END
         WHEN s.u_sat < 0.95 THEN CASE WHEN s.u_res < 0.6 THEN 'resolved' ELSE 'partly' END
         ELSE CASE WHEN s.u_res < 0.4 THEN 'partly' ELSE 'not_resolved' END END AS resolution
    OFFSET 0) AS t11
), ins_case AS (
  INSERT INTO cases_case (
    id, number, tracking_code, kind, channel, urgency, complexity, title, description,
    category_id, region_id, region_path, address, latitude, longitude, reporter_id,
    reporter_name, reporter_phone, is_anonymous, state, version, dispatch_region_id, unit_id,
    proposed_unit_id, merged_into_id, stage, due_at, yellow_at, warning, feedback_due_at,
    is_supervised, escalation_count, return_count, rework_count, extension_count,
    submitted_at, registered_at, dispatched_at, signed_at, replied_at, closed_at, updated_at,
    reply, resolution, satisfaction, rated_at, is_replied_on_time{extra_columns}
  )
  SELECT id,
    'B' || to_char(sub AT TIME ZONE %(tz)s, 'YYYYMMDD') || '-' || lpad(g::text, 8, '0'),
    {tracking}, kind, channel, urgency,
    CASE WHEN is_complex AND registered_at IS NOT NULL THEN 'complex' ELSE 'ordinary' END,
    title, description, category_id, region_id, path,
    street_name || '人民路' || (1 + mod(g, 300))::text || '号', lat, lon, NULL,
    CASE WHEN anonymous THEN '' ELSE (%(names)s::text[])[1 + mod(g, %(n_names)s)::int] END,
    CASE WHEN anonymous THEN ''
         ELSE '1' || (30 + mod(g, 60))::text || '****' || lpad(mod(g * 7919, 10000)::text, 4, '0')
    END,
    anonymous, state,
    1 + (registered_at IS NOT NULL)::int + (dispatched_at IS NOT NULL)::int
      + 2 * return_count + (signed_at IS NOT NULL)::int + (replied_at IS NOT NULL)::int
      + 2 * (state = 'closed')::int + (state IN ('rejected', 'merged'))::int
      + (rated_at IS NOT NULL)::int + 3 * rework_count + (warning <> 'none')::int
      + escalation_count + is_supervised::int,
    CASE WHEN escalation_count > 0 THEN district_id ELSE street_id END,
    unit_now, routed_unit, NULL, stage, due, CASE WHEN due IS NOT NULL THEN yellow END, warning,
    CASE WHEN registered_at IS NOT NULL THEN fb_due END,
    is_supervised, escalation_count, return_count, rework_count, 0,
    sub, registered_at, dispatched_at, signed_at, replied_at, closed_at,
    GREATEST(sub, registered_at, dispatched_at, signed_at, replied_at, closed_at, rated_at,
             CASE WHEN return_count > 0 THEN ret_at END,
             CASE warning WHEN 'red' THEN due WHEN 'yellow' THEN yellow END),
    CASE WHEN replied_at IS NOT NULL THEN reply_text ELSE '' END,
    resolution, satisfaction, rated_at,
    CASE WHEN replied_at IS NOT NULL THEN replied_at <= fb_due END{extra_values}
  FROM gen
), ins_first AS (
  INSERT INTO cases_assignment (
    case_id, unit_id, region_path, dispatched_at, sign_due_at, outcome, responded_at,
    is_on_time, updated_at)
  SELECT id, CASE WHEN returned THEN first_unit ELSE routed_unit END, path, disp1,
    disp1 + slim {H},
    CASE WHEN returned AND ret_at <= %(now)s THEN 'returned'
         WHEN NOT returned AND sign <= %(now)s THEN 'signed' ELSE 'pending' END,
    CASE WHEN returned AND ret_at <= %(now)s THEN ret_at
         WHEN NOT returned AND sign <= %(now)s THEN sign END,
    CASE WHEN returned AND ret_at <= %(now)s THEN ret_at <= disp1 + slim {H}
         WHEN NOT returned AND sign <= %(now)s THEN sign <= disp1 + slim {H} END,
    CASE WHEN returned AND ret_at <= %(now)s THEN ret_at
         WHEN NOT returned AND sign <= %(now)s THEN sign ELSE disp1 END
  FROM gen WHERE disp1 <= %(now)s
)
INSERT INTO cases_assignment (
  case_id, unit_id, region_path, dispatched_at, sign_due_at, outcome, responded_at,
  is_on_time, updated_at)
SELECT id, routed_unit, path, disp, disp + slim {H},
  CASE WHEN sign <= %(now)s THEN 'signed' ELSE 'pending' END,
  CASE WHEN sign <= %(now)s THEN sign END,
  CASE WHEN sign <= %(now)s THEN sign <= disp + slim {H} END,
  CASE WHEN sign <= %(now)s THEN sign ELSE disp END
FROM gen WHERE returned AND disp <= %(now)s
"""

KNOWN_CASE_COLUMNS = {
    "id", "number", "tracking_code", "kind", "channel", "urgency", "complexity", "title",
    "description", "category_id", "region_id", "region_path", "address", "latitude",
    "longitude", "reporter_id", "reporter_name", "reporter_phone", "is_anonymous", "state",
    "version", "dispatch_region_id", "unit_id", "proposed_unit_id", "merged_into_id", "stage",
    "due_at", "yellow_at", "warning", "feedback_due_at", "is_supervised", "escalation_count",
    "return_count", "rework_count", "extension_count", "submitted_at", "registered_at",
    "dispatched_at", "signed_at", "replied_at", "closed_at", "updated_at", "reply",
    "resolution", "satisfaction", "rated_at", "is_replied_on_time",
}  # fmt: skip


def extra_case_columns() -> tuple[str, str, dict[str, Any]]:
    """Columns added to cases_case after this script was written: nullable ones stay NULL,
    NOT NULL ones get the model field's default (or the script stops with a clear message)."""
    from django.db import connection

    from gongzhi.cases.models import Case

    rows = sql(
        "SELECT a.attname, a.attnotnull, format_type(a.atttypid, a.atttypmod)"
        " FROM pg_attribute a WHERE a.attrelid = 'cases_case'::regclass AND a.attnum > 0"
        " AND NOT a.attisdropped"
    )
    by_column = {f.column: f for f in Case._meta.concrete_fields}
    names, values, params = "", "", {}
    for index, (column, not_null, type_name) in enumerate(rows):
        if column in KNOWN_CASE_COLUMNS or not not_null:
            continue
        model_field = by_column.get(column)
        if model_field is None or not model_field.has_default():
            sys.exit(f"cases_case.{column} is NOT NULL without a default: teach the script it")
        key = f"extra_{index}"
        params[key] = model_field.get_db_prep_save(model_field.get_default(), connection)
        names += f", {quote_ident(column)}"
        values += f", %({key})s::{type_name}"
    return names, values, params


@dataclass
class Dropped:
    constraints: list[tuple[str, str, str]] = field(default_factory=list)  # table, name, def
    indexes: list[str] = field(default_factory=list)  # CREATE INDEX statements


def drop_for_load() -> Dropped:
    """Drop every index and key of the two big tables (and the foreign keys into cases_case),
    remembering their definitions, so that the load writes heap pages only."""
    dropped = Dropped()
    constraints = sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype"
        " FROM pg_constraint WHERE contype IN ('p', 'u', 'f') AND (conrelid IN"
        " ('cases_case'::regclass, 'cases_assignment'::regclass)"
        " OR confrelid = 'cases_case'::regclass)"
    )
    # Foreign keys first when dropping; keys first when re-creating.
    constraints.sort(key=lambda row: row[3] != "f")
    for table, name, definition, _kind in constraints:
        sql(f"ALTER TABLE {quote_ident(table)} DROP CONSTRAINT {quote_ident(name)}")
        dropped.constraints.append((table, name, definition))
    dropped.constraints.sort(key=lambda row: row[2].startswith("FOREIGN KEY"))
    indexes = sql(
        "SELECT indexname, indexdef FROM pg_indexes"
        " WHERE tablename IN ('cases_case', 'cases_assignment')"
    )
    for name, definition in indexes:
        sql(f"DROP INDEX {quote_ident(name)}")
        dropped.indexes.append(definition)
    return dropped


def restore_after_load(dropped: Dropped) -> None:
    for table, name, definition in dropped.constraints:
        if not definition.startswith("FOREIGN KEY"):
            sql(f"ALTER TABLE {quote_ident(table)} ADD CONSTRAINT {quote_ident(name)} {definition}")
    for definition in dropped.indexes:
        sql(definition)
    for table, name, definition in dropped.constraints:
        if definition.startswith("FOREIGN KEY"):
            sql(f"ALTER TABLE {quote_ident(table)} ADD CONSTRAINT {quote_ident(name)} {definition}")


def generate(args: argparse.Namespace, anchor: dt.datetime) -> dict[str, float]:
    from django.conf import settings

    phases: dict[str, float] = {}
    started = time.perf_counter()
    helpers = build_helpers(args.seed)
    phases["helper tables"] = time.perf_counter() - started
    print("  helpers: " + ", ".join(f"{k} {v:,}" for k, v in helpers.items()), flush=True)
    picks = helpers["grid picks"]
    start = anchor - dt.timedelta(days=round(365.25 * args.years))
    span = (anchor - start).total_seconds()
    names, values, extra_params = extra_case_columns()
    statement = GENERATE.replace("{extra_columns}", names).replace("{extra_values}", values)
    statement = statement.replace("{tracking}", tracking_expr()).replace("{H}", H)
    sql("SET maintenance_work_mem = '1GB'")
    sql("SET synchronous_commit = off")
    sql("SELECT setseed(%s)", [(args.seed % 1000) / 1000])

    started = time.perf_counter()
    dropped = drop_for_load()
    done = 0
    for lo in range(1, args.cases + 1, args.chunk):
        hi = min(args.cases, lo + args.chunk - 1)
        params = {
            "lo": lo,
            "hi": hi,
            "start": start,
            "step": span / args.cases,
            "picks": picks,
            "now": anchor,
            "recent": anchor - dt.timedelta(days=365),
            "channels": channel_array(),
            "names": NAMES,
            "n_names": len(NAMES),
            "tz": settings.TIME_ZONE,
            **extra_params,
        }
        sql(statement, params)
        done = hi
        elapsed = time.perf_counter() - started
        print(
            f"  inserted {done:,} / {args.cases:,} cases ({elapsed:.0f} s,"
            f" {done / elapsed:,.0f} cases/s)",
            flush=True,
        )
    phases["insert cases and dispatches"] = time.perf_counter() - started
    started = time.perf_counter()
    restore_after_load(dropped)
    phases[f"re-create {len(dropped.indexes)} indexes, {len(dropped.constraints)} keys"] = (
        time.perf_counter() - started
    )
    print(f"  indexes and keys re-created ({phases[list(phases)[-1]]:.0f} s)", flush=True)
    started = time.perf_counter()
    sql("VACUUM (ANALYZE) cases_case")
    sql("VACUUM (ANALYZE) cases_assignment")
    phases["VACUUM ANALYZE"] = time.perf_counter() - started
    sql("RESET maintenance_work_mem")
    sql("RESET synchronous_commit")
    return phases


def write_meta(args: argparse.Namespace, anchor: dt.datetime, seconds: float) -> None:
    sql(f"DROP TABLE IF EXISTS {META}")
    sql(
        f"CREATE TABLE {META} (cases bigint, years int, seed int, anchor timestamptz,"
        " seconds float8, complete boolean)"
    )
    sql(
        f"INSERT INTO {META} VALUES (%s, %s, %s, %s, %s, true)",  # noqa: S608
        [args.cases, args.years, args.seed, anchor, seconds],
    )


# --- What is timed ---------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


@dataclass
class Context:
    city: Any
    district: Any
    now: dt.datetime
    current: dt.date  # the month of the data's "now"
    ranked: dt.date  # last month: the one a ranking is published for
    twelve: Any  # Period: the 12 months up to the current one
    assessor: Any
    dashboard: str = ""


def open_counts(region: Any) -> tuple[int, int]:
    """The command centre's live counters (``cases.queries.live_counts``)."""
    from django.utils import timezone

    from gongzhi.cases.queries import live_counts
    from gongzhi.core.scoping import Scope

    counts = live_counts(Scope.of([region.path]), timezone.now())
    return counts.open_count, counts.overdue_count


def stand_in_dashboard(region: Any, now: dt.datetime) -> dict[str, Any]:
    """What a command centre shows, from the evaluation reads, until the real one exists."""
    from gongzhi.evaluation import queries
    from gongzhi.evaluation.periods import Period, add_months, month_of
    from gongzhi.territory.choices import RegionLevel

    month = month_of(now)
    period = Period.month(month)
    open_cases, overdue = open_counts(region)
    return {
        "comparison": queries.compare_region(region, period),
        "trend": queries.monthly_figures(region, Period(add_months(month, -11), month)),
        "streets": queries.figures_by_child(region, period, RegionLevel.STREET),
        "computed_at": queries.computed_at(period),
        "open": open_cases,
        "overdue": overdue,
    }


def dashboard_function() -> tuple[str, Callable[[Any, dt.datetime], Any]]:
    try:
        from gongzhi.dashboards.queries import command_centre  # type: ignore[import-not-found]
    except ImportError as exc:
        print(f"could not import dashboards.queries.command_centre: {exc!r}")
        return (
            "stand-in (dashboards.queries.command_centre does not exist yet): compare_region"
            " + monthly_figures(12 months) + figures_by_child(streets) + computed_at"
            " + live counts of open and overdue cases",
            stand_in_dashboard,
        )
    return "dashboards.queries.command_centre(region, now)", command_centre


def naive_city_figures(region: Any, period: Any) -> dict[str, float]:
    """The city's counters for the period by scanning every case and dispatch (no tallies),
    with the same definitions as tallies.compute_month."""
    from gongzhi.core.scoping import PATH_END

    p = {"s": period.start, "e": period.end, "lo": region.path, "hi": region.path + PATH_END}
    sub = "submitted_at >= %(s)s AND submitted_at < %(e)s"
    closed = "state = 'closed' AND closed_at >= %(s)s AND closed_at < %(e)s"
    rated = "rated_at >= %(s)s AND rated_at < %(e)s"
    row = sql(
        f"""SELECT count(*) FILTER (WHERE {sub}),
          count(*) FILTER (WHERE {sub} AND state = 'merged'),
          count(*) FILTER (WHERE {closed}),
          count(*) FILTER (WHERE {closed} AND is_replied_on_time),
          count(*) FILTER (WHERE {closed} AND rework_count > 0),
          coalesce(sum(extract(epoch FROM closed_at - submitted_at)) FILTER (WHERE {closed}), 0)
            / 3600.0,
          count(*) FILTER (WHERE {rated}),
          count(*) FILTER (WHERE {rated} AND resolution = 'resolved'),
          count(*) FILTER (WHERE {rated} AND resolution = 'partly'),
          count(*) FILTER (WHERE {rated} AND satisfaction = 'satisfied'),
          count(*) FILTER (WHERE {rated} AND satisfaction = 'basically')
        FROM cases_case WHERE region_path >= %(lo)s AND region_path < %(hi)s""",  # noqa: S608
        p,
    )[0]
    names = [
        "submitted_count",
        "repeat_count",
        "closed_count",
        "closed_on_time_count",
        "reworked_count",
        "handling_hours",
        "rated_count",
        "resolved_count",
        "partly_resolved_count",
        "satisfied_count",
        "basically_satisfied_count",
    ]
    out = dict(zip(names, row, strict=True))
    disp = "dispatched_at >= %(s)s AND dispatched_at < %(e)s"
    answered = "outcome IN ('signed', 'returned')"
    row = sql(
        f"""SELECT count(*) FILTER (WHERE {disp}),
          count(*) FILTER (WHERE {disp} AND {answered} AND is_on_time),
          count(*) FILTER (WHERE {disp} AND outcome = 'signed' AND is_on_time),
          count(*) FILTER (WHERE {disp} AND outcome = 'returned')
        FROM cases_assignment WHERE region_path >= %(lo)s AND region_path < %(hi)s""",  # noqa: S608
        p,
    )[0]
    names = ["assigned_count", "responded_on_time_count", "signed_on_time_count", "returned_count"]
    out.update(zip(names, row, strict=True))
    return {k: float(v) for k, v in out.items()}


def tally_city_figures(region: Any, period: Any) -> dict[str, float]:
    from django.db.models import Sum

    from gongzhi.core.scoping import subtree_q
    from gongzhi.evaluation.models import COUNTERS, Tally

    rows = Tally.objects.filter(month__gte=period.first, month__lte=period.last).filter(
        subtree_q("region_path", region.path)
    )
    found = rows.aggregate(**{name: Sum(name) for name in COUNTERS})
    return {name: float(found[name] or 0) for name in COUNTERS}


def touch_cases(month_start: dt.datetime, count: int) -> int:
    """What a minute of activity leaves behind: ``count`` cases of the month changed now."""
    rows = sql(
        "UPDATE cases_case SET updated_at = now(), version = version + 1 WHERE id IN ("
        " SELECT id FROM cases_case WHERE submitted_at >= %s ORDER BY random() LIMIT %s)",
        [month_start, count],
    )
    del rows
    return count


# --- Reporting -------------------------------------------------------------------------------


def machine_report() -> list[str]:
    import django

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
    version = sql("SELECT version()")[0][0]
    settings = sql(
        "SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers',"
        " 'work_mem', 'effective_cache_size', 'max_parallel_workers_per_gather', 'jit',"
        " 'random_page_cost') ORDER BY name"
    )

    def show(value: str, unit: str | None) -> str:
        if unit == "8kB":
            return f"{int(value) * 8 // 1024} MB"
        if unit == "kB":
            return f"{int(value) // 1024} MB"
        return value

    return [
        f"date      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"cpu       {cpu}, {os.cpu_count()} cores",
        f"ram       {ram}",
        f"os        {platform.platform()}",
        f"python    {platform.python_version()}, django {django.get_version()}",
        f"database  {version}",
        "settings  " + ", ".join(f"{n} {show(v, u)}" for n, v, u in settings),
        "load      {:.2f} {:.2f} {:.2f} (1/5/15 min, now)".format(*os.getloadavg()),
    ]


def size_report() -> list[str]:
    rows = sql(
        "SELECT c.relname, c.reltuples::bigint, pg_size_pretty(pg_table_size(c.oid)),"
        " pg_size_pretty(pg_indexes_size(c.oid))"
        " FROM pg_class c WHERE c.relname IN ('cases_case', 'cases_assignment',"
        " 'evaluation_tally') ORDER BY c.relname"
    )
    lines = [
        f"{name:<18} ~{tuples:>12,} rows  table {table:>8}  indexes {indexes:>8}"
        for name, tuples, table, indexes in rows
    ]
    lines.append(
        f"database size {sql('SELECT pg_size_pretty(pg_database_size(current_database()))')[0][0]}"
    )
    return lines


def mix_report() -> list[str]:
    rows = sql(
        "SELECT state, count(*), count(*) FILTER (WHERE warning = 'red'),"
        " count(*) FILTER (WHERE is_supervised), count(*) FILTER (WHERE return_count > 0),"
        " count(*) FILTER (WHERE rework_count > 0), count(*) FILTER (WHERE rated_at IS NOT NULL)"
        " FROM cases_case GROUP BY state ORDER BY count(*) DESC"
    )
    total = sum(r[1] for r in rows) or 1
    lines = ["state         cases     share     red  supervised  returned  reworked     rated"]
    for state, n, red, sup, ret, rew, rated in rows:
        lines.append(
            f"{state:<11} {n:>9,} {n / total:>8.2%} {red:>7,} {sup:>11,} {ret:>9,}"
            f" {rew:>9,} {rated:>9,}"
        )
    dispatches = sql("SELECT outcome, count(*) FROM cases_assignment GROUP BY 1 ORDER BY 2 DESC")
    lines.append("dispatches: " + ", ".join(f"{o} {n:,}" for o, n in dispatches))
    return lines


def explain_slowest(fn: Callable[[], Any], top: int = 3) -> list[str]:
    """The slowest statements ``fn`` sends, each with its EXPLAIN (ANALYZE, BUFFERS)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    queries = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
    total = sum(float(q["time"]) for q in captured.captured_queries)
    lines = [f"{len(queries)} statements, {total * 1000:.0f} ms in the database driver"]
    for query in queries[:top]:
        statement = query["sql"]
        lines.append("")
        lines.append(f"-- {float(query['time']) * 1000:.1f} ms: {statement[:600]}")
        if statement.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}")
                lines.extend("   " + row[0] for row in cursor.fetchall())
    return lines


# --- Main ------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    target = pg_target(args.database_url)
    reuse = False
    if args.keep and database_exists(target):
        setup_django(args.database_url)
        meta = read_meta()
        if meta and meta["complete"] and meta["cases"] == args.cases:
            reuse = True
        elif meta and meta["complete"]:
            sys.exit(
                f"{target.name} holds {meta['cases']:,} generated cases, not {args.cases:,}:"
                f" pass --cases {meta['cases']} to reuse it, or drop --keep to regenerate"
            )
        else:
            from django.db import connections

            connections.close_all()
            recreate_database(target)
    else:
        recreate_database(target)
        setup_django(args.database_url)

    from django.core.management import call_command
    from django.utils import timezone

    from gongzhi.accounts.models import User
    from gongzhi.evaluation import queries, services, tallies
    from gongzhi.evaluation.choices import RankingSubject
    from gongzhi.evaluation.models import Ranking, RankingEntry, Tally
    from gongzhi.evaluation.periods import Period, add_months, month_of, month_start
    from gongzhi.territory.choices import RegionLevel
    from gongzhi.territory.models import Region

    print(f"Evaluation benchmark: {args.cases:,} cases in database {target.name}\n")
    print("Machine")
    for line in machine_report():
        print("  " + line)
    print(flush=True)

    call_command("migrate", verbosity=0)
    generation: dict[str, float] = {}
    if reuse:
        meta = read_meta()
        assert meta is not None
        anchor = meta["anchor"]
        print(
            f"Reusing the generated cases (--keep): {meta['cases']:,} cases generated"
            f" {meta['anchor']:%Y-%m-%d %H:%M} UTC in {meta['seconds']:.0f} s\n"
        )
    else:
        print("Generating (no CaseEvent timelines: this measures reads of figures)")
        started = time.perf_counter()
        counts = build_city()
        generation["demo city (build_demo_city(FULL, cases=0))"] = time.perf_counter() - started
        print("  city: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
        anchor = timezone.now().replace(microsecond=0)
        generation.update(generate(args, anchor))
        total = sum(generation.values())
        write_meta(args, anchor, total)
        for phase, seconds in generation.items():
            print(f"  {phase:<48} {seconds:>8.1f} s")
        print(f"  {'total':<48} {total:>8.1f} s  ({args.cases / total:,.0f} cases/s overall)\n")

    print("Data")
    for line in size_report() + mix_report():
        print("  " + line)
    print(flush=True)

    city = Region.objects.defer("boundary").get(level=RegionLevel.CITY, code="990100000000")
    district = (
        Region.objects.defer("boundary").filter(level=RegionLevel.DISTRICT).order_by("code").first()
    )
    current = month_of(anchor)
    ctx = Context(
        city=city,
        district=district,
        now=timezone.now(),
        current=current,
        ranked=add_months(current, -1),
        twelve=Period(add_months(current, -11), current),
        assessor=User.objects.get(username="assessor"),
    )
    label, dashboard = dashboard_function()
    if dashboard is not stand_in_dashboard:
        try:
            dashboard(city, ctx.now)
        except Exception as exc:
            print(f"command_centre failed ({exc!r}); timing the stand-in instead")
            label = f"stand-in (command_centre raised {type(exc).__name__})"
            dashboard = stand_in_dashboard
    ctx.dashboard = label
    results: dict[str, list[float]] = {}
    notes: dict[str, str] = {}

    # (a) full rebuild ------------------------------------------------------------------------
    gc.collect()
    for i in range(args.rebuild_repeats):
        ms, report = timed(lambda: tallies.rebuild_tallies(timezone.now()))
        results.setdefault("(a) rebuild_tallies, all months", []).append(ms)
        months, rows = len(report.months), report.rows
        print(
            f"  rebuild {i + 1}: {ms / 1000:.1f} s, {months} months, {rows:,} tallies", flush=True
        )
    if args.rebuild_repeats:
        notes["(a) rebuild_tallies, all months"] = (
            f"{len(report.months)} months, {report.rows:,} rows"
        )
    elif not Tally.objects.exists():
        sys.exit("--rebuild-repeats 0 needs tallies in the database (a --keep run left them)")
    tally_rows = Tally.objects.count()

    # (b) incremental refresh -----------------------------------------------------------------
    recomputed: list[int] = []
    for i in range(args.refresh_repeats):
        touch_cases(month_start(current), args.touch)
        ms, report = timed(lambda: tallies.refresh_tallies(timezone.now()))
        results.setdefault(f"(b) refresh_tallies after {args.touch:,} cases changed", []).append(ms)
        recomputed.append(len(report.months))
        print(
            f"  refresh {i + 1}: {ms:.0f} ms, months {[f'{m:%Y-%m}' for m in report.months]}",
            flush=True,
        )
    notes[f"(b) refresh_tallies after {args.touch:,} cases changed"] = (
        f"recomputed {min(recomputed)}-{max(recomputed)} month(s)"
    )

    # (d) publishing, right after activity: it freezes the month's tallies as the watcher
    # last computed them (no refresh of its own since the first run of this benchmark) -----
    Ranking.objects.filter(month=ctx.ranked, region=city).delete()  # left by an earlier run
    for i in range(args.publish_repeats):
        touch_cases(month_start(current), args.touch)
        ms, _ranking = timed(
            lambda: services.publish_ranking(
                city,
                month=ctx.ranked,
                subject=RankingSubject.STREET,
                actor=ctx.assessor,
                correction_reason=f"benchmark run {i}",  # noqa: B023
                now=timezone.now(),
            )
        )
        results.setdefault("(d) publish_ranking streets, city", []).append(ms)
    RankingEntry.objects.filter(ranking__month=ctx.ranked, ranking__region=city).delete()
    Ranking.objects.filter(month=ctx.ranked, region=city).delete()

    # (c), (d) and (e): reads and baselines interleaved in each round ------------------------
    month_period = Period.month(ctx.ranked)
    reads: dict[str, Callable[[], Any]] = {
        "(c) dashboard, city": lambda: dashboard(city, ctx.now),
        "(c) dashboard, district": lambda: dashboard(district, ctx.now),
        "    live open/overdue counts, city": lambda: open_counts(city),
        "    live open/overdue counts, district": lambda: open_counts(district),
        "(d) draft_ranking streets, city": lambda: services.draft_ranking(
            city, ctx.ranked, RankingSubject.STREET
        ),
        "(d) draft_ranking units, city": lambda: services.draft_ranking(
            city, ctx.ranked, RankingSubject.UNIT
        ),
        "    figures_for_region city, one month (tallies)": lambda: queries.figures_for_region(
            city, month_period
        ),
        "    figures_for_region city, 12 months (tallies)": lambda: queries.figures_for_region(
            city, ctx.twelve
        ),
    }
    baselines: dict[str, Callable[[], Any]] = {
        "(e) baseline: compute_month, one month of cases": lambda: tallies.compute_month(
            ctx.ranked, timezone.now()
        ),
        "(e) baseline: naive scan, city 12 months": lambda: naive_city_figures(city, ctx.twelve),
    }
    gc.collect()
    gc.disable()
    try:
        for round_number in range(args.warmup + args.repeats):
            for name, fn in reads.items():
                ms, _out = timed(fn)
                if round_number >= args.warmup:
                    results.setdefault(name, []).append(ms)
            if args.warmup <= round_number < args.warmup + args.baseline_repeats:
                for name, fn in baselines.items():
                    ms, _out = timed(fn)
                    results.setdefault(name, []).append(ms)
            gc.collect()
    finally:
        gc.enable()

    # The roll-up must agree with the scan (everything but response_due_count, which moves
    # with the clock while pending dispatches pass their deadline).
    naive = naive_city_figures(city, ctx.twelve)
    rolled = tally_city_figures(city, ctx.twelve)
    mismatches = [
        f"{name}: tallies {rolled[name]:,.2f}, scan {value:,.2f}"
        for name, value in naive.items()
        if not math.isclose(rolled[name], value, rel_tol=1e-9, abs_tol=1e-6)
    ]

    # Report --------------------------------------------------------------------------------
    print("\nMachine (at the end)")
    for line in machine_report():
        print("  " + line)
    print(f"\nData: {args.cases:,} cases over {args.years} years, {tally_rows:,} tally rows;")
    print(f"data's now {anchor:%Y-%m-%d %H:%M} UTC, current month {current:%Y-%m},")
    print(f"ranked month {ctx.ranked:%Y-%m}, 12 months {ctx.twelve.label}")
    print(f"Dashboard timed: {ctx.dashboard}")
    print(f"Rounds: {args.warmup} warm-up + {args.repeats} timed for the reads,")
    print(f"baselines in {args.baseline_repeats} of them; rebuild x{args.rebuild_repeats},")
    print(f"refresh x{args.refresh_repeats}, publish x{args.publish_repeats}\n")
    print(f"| measurement | n | median ms | p95 ms | under {BAR_MS:.0f} ms |")
    print("|---|---:|---:|---:|:---:|")
    for name, samples in results.items():
        median, p95 = statistics.median(samples), percentile(samples, 0.95)
        bar = "yes" if median < BAR_MS else "NO"
        if name.startswith(("(a)", "(b)", "(e)", "    of which")):
            bar = "n/a"
        shown = name.replace("|", "/") + (f" ({notes[name]})" if name in notes else "")
        print(f"| {shown} | {len(samples)} | {median:,.1f} | {p95:,.1f} | {bar} |")

    def med(name: str) -> float:
        return statistics.median(results[name])

    print("\nRatios of medians (roll-up read / scan baseline; below 1 means the roll-up is faster)")
    pairs = [
        (
            "    figures_for_region city, one month (tallies)",
            "(e) baseline: compute_month, one month of cases",
        ),
        ("(d) draft_ranking streets, city", "(e) baseline: compute_month, one month of cases"),
        ("(d) draft_ranking units, city", "(e) baseline: compute_month, one month of cases"),
        (
            "    figures_for_region city, 12 months (tallies)",
            "(e) baseline: naive scan, city 12 months",
        ),
        ("(c) dashboard, city", "(e) baseline: naive scan, city 12 months"),
        (
            f"(b) refresh_tallies after {args.touch:,} cases changed",
            "(a) rebuild_tallies, all months",
        ),
    ]
    for read, base in pairs:
        if read not in results or base not in results:
            continue
        ratio = med(read) / med(base)
        verdict = f"{1 / ratio:,.1f}x faster" if ratio < 1 else f"{ratio:,.1f}x slower"
        print(f"  {read.strip()} / {base.strip()} = {ratio:.4f} ({verdict})")

    print("\nCheck: city figures over 12 months, tallies against the naive scan: ", end="")
    print("equal" if not mismatches else "DIFFERENT\n  " + "\n  ".join(mismatches))

    slow = [name for name in reads if statistics.median(results[name]) >= args.explain_over]
    for name in slow:
        print(f"\nSlow: {name.strip()} (median {med(name):,.0f} ms); its slowest statements:")
        for line in explain_slowest(reads[name]):
            print("  " + line)
    print("\nA refresh, statement by statement (the slowest three):")
    touch_cases(month_start(current), args.touch)
    for line in explain_slowest(lambda: tallies.refresh_tallies(timezone.now())):
        print("  " + line)

    from django.db import connections

    connections.close_all()
    if args.keep:
        print(f"\nKept database {target.name} (reuse it with --keep --cases {args.cases}).")
    else:
        pg_admin(target, f"DROP DATABASE IF EXISTS {quote_ident(target.name)} WITH (FORCE)")
        print(f"\nDropped database {target.name}.")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())

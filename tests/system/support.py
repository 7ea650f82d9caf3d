"""What the system tests drive: a scratch database, the production server as real
processes, a TCP proxy in front of PostgreSQL, HTTP clients, and raw reads of the database.

Nothing here is mocked: the server is ``gongzhi serve --production`` (gunicorn with sync
workers, the task worker, the deadline clock) on a free port of 127.0.0.1, in a process group
of its own so that a test can kill every one of its processes at once, and a teardown never
leaves one behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import itertools
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SECRET = "system-tests-secret-key-not-for-production-0123456789abcdef"
# Generous: the machine running the tests may be loaded (2 cores, shared).
READY_TIMEOUT = 180.0
HTTP_TIMEOUT = 60.0


def wait_for(what: str, condition: Callable[[], Any], timeout: float, every: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- The scratch database ------------------------------------------------------------------


def server_environment(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a production server: no debug, no inherited Django settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONGZHI_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="gongzhi.config.settings",
        GONGZHI_SECRET_KEY=SECRET,
        GONGZHI_ALLOWED_HOSTS="127.0.0.1,localhost",
        GONGZHI_HTTPS="0",
        GONGZHI_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class ScratchDatabase:
    """A database of its own for the servers the tests start: a SQLite file, or a PostgreSQL
    database beside the test database (``<name>_system_<pid>``), dropped at the end."""

    kind: str  # "sqlite" | "postgres"
    var_dir: Path
    url: str = ""  # PostgreSQL only: postgres://.../<scratch name>
    admin_url: str = ""  # PostgreSQL only: the "postgres" database, to create and drop
    blocker: Any = None  # pytest-django's database blocker, lifted while reading here

    @classmethod
    def create(cls, var_dir: Path, database_url: str) -> ScratchDatabase:
        var_dir.mkdir(parents=True, exist_ok=True)
        if not database_url.startswith(("postgres://", "postgresql://")):
            return cls("sqlite", var_dir)
        import psycopg

        parts = urllib.parse.urlsplit(database_url)
        name = f"{parts.path.lstrip('/') or 'gongzhi'}_system_{os.getpid()}"
        admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
        return cls("postgres", var_dir, url, admin)

    @property
    def name(self) -> str:
        return urllib.parse.urlsplit(self.url).path.lstrip("/") if self.url else "sqlite"

    def env(self, database_url: str | None = None) -> dict[str, str]:
        """The servers' environment; ``database_url`` overrides where they connect (a proxy)."""
        extra = {"GONGZHI_VAR_DIR": str(self.var_dir)}
        if self.kind == "postgres":
            extra["DATABASE_URL"] = database_url or self.url
        return server_environment(extra)

    def drop(self) -> None:
        if self.kind != "postgres":
            return
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    # Raw reads (and the few writes a test makes to move time), outside Django.

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                yield conn
        else:
            conn = sqlite3.connect(self.var_dir / "gongzhi.sqlite3", timeout=30)
            try:
                conn.execute("PRAGMA busy_timeout=30000")
                yield conn
            finally:
                conn.close()

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """``sql`` with %s placeholders, on either database."""
        if self.kind == "sqlite":
            sql = sql.replace("%s", "?")
            params = tuple(self._sqlite_value(p) for p in params)
        with self.connect() as conn:
            cursor = conn.execute(sql, params)
            found = list(cursor.fetchall()) if cursor.description else []
            if self.kind == "sqlite":
                conn.commit()
            return found

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.rows(sql, params)

    @staticmethod
    def _sqlite_value(value: Any) -> Any:
        # Django stores aware datetimes on SQLite as naive UTC text.
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return str(value.astimezone(dt.UTC).replace(tzinfo=None))
        return value

    def uuid(self, value: str) -> str:
        """A case id as this database stores it (SQLite: 32 hex digits, no dashes)."""
        return value.replace("-", "") if self.kind == "sqlite" else value

    def as_datetime(self, value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)

    def seed(self, logdir: Path) -> dict[str, Any]:
        """Migrate and fill the database (``seed.py``, in a process of its own)."""
        out = logdir / "seed.json"
        log = logdir / "seed.log"
        with log.open("wb") as handle:
            run = subprocess.run(  # noqa: S603 (our own script)
                [PYTHON, str(Path(__file__).with_name("seed.py")), str(out)],
                env=self.env(),
                cwd=REPO,
                stdout=handle,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=600,
            )
        if run.returncode != 0:
            raise AssertionError(f"seeding failed:\n{log.read_text(errors='replace')[-4000:]}")
        return dict(json.loads(out.read_text(encoding="utf-8")))

    def verify_timelines(self) -> tuple[int, str]:
        """``gongzhi verify-timelines`` on the scratch database: the command itself, run in
        this process through a connection alias of its own (no second Django start)."""
        import copy
        import io

        import dj_database_url
        from django.core.management import call_command
        from django.db import connections
        from django.test import override_settings

        settings = copy.deepcopy(connections["default"].settings_dict)
        if self.kind == "sqlite":
            settings.update(
                ENGINE="django.db.backends.sqlite3",
                NAME=str(self.var_dir / "gongzhi.sqlite3"),
                USER="",
                PASSWORD="",
                HOST="",
                PORT="",
                OPTIONS={},
            )
        else:
            settings.update(dj_database_url.parse(self.url))
            settings["OPTIONS"] = {}
        settings.update(CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=False, AUTOCOMMIT=True)
        connections.settings[SCRATCH_ALIAS] = settings
        out = io.StringIO()
        status: int | str | None = 0
        unblocked = self.blocker.unblock() if self.blocker else contextlib.nullcontext()
        try:
            with unblocked, override_settings(DATABASE_ROUTERS=[ToScratch()]):
                try:
                    call_command("verify_timelines", stdout=out)
                except SystemExit as stop:
                    status = stop.code
        finally:
            connections[SCRATCH_ALIAS].close()
            del connections[SCRATCH_ALIAS]
            del connections.settings[SCRATCH_ALIAS]
        return int(status or 0), out.getvalue()


SCRATCH_ALIAS = "system_scratch"


def verification_problems(db: ScratchDatabase) -> list[str]:
    """What ``gongzhi verify-timelines`` found wrong on the scratch database (empty when
    it passed, and checked every case event there is)."""
    status, report = db.verify_timelines()
    events = db.rows("SELECT COUNT(*) FROM cases_caseevent")[0][0]
    problems = [] if status == 0 else [f"verify-timelines exited {status}: {report[-3000:]}"]
    if f"cases.CaseEvent: {events} events checked" not in report:
        problems.append(f"verify-timelines did not check the {events} case events: {report}")
    return problems


class ToScratch:
    """A database router that sends every read and write to the scratch database."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return SCRATCH_ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return SCRATCH_ALIAS


# --- The production server -------------------------------------------------------------------


def process_group(pgid: int) -> dict[int, str]:
    """Live (not zombie) processes of a process group: pid -> command line."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        # The fields after the command name, which may itself hold spaces or parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


def role_of(cmdline: str) -> str:
    for needle, role in (
        ("commands.serve", "serve"),
        (" gunicorn ", "gunicorn"),
        (" db_worker", "worker"),
        (" watch_deadlines", "clock"),
        (" process_intake", "intake"),
        (" tallies", "tallies"),
    ):
        if needle in f" {cmdline} ":
            return role
    return "other"


# ``gongzhi serve`` without Django's set-up in the supervisor itself (the same code and the
# same children; a few seconds sooner on a loaded machine).
SERVE = "gongzhi.core.management.commands.serve"
# The task worker, the intake processor and the deadline clock; the tallies (figures for
# evaluation) take part in nothing these tests assert, and cost each start 6 s of CPU and
# 300 MB.
BACKGROUND = ("worker", "intake", "clock")


class ProductionServer:
    """``gongzhi serve --production`` in a process group of its own, on a free port."""

    def __init__(self, env: dict[str, str], logdir: Path, workers: int = 2) -> None:
        self.env = env
        self.logdir = logdir
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.logdir / f"serve-{self.starts}.log"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        argv = [
            PYTHON,
            "-m",
            SERVE,
            "--production",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--background",
            ",".join(BACKGROUND),
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603
                argv,
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as one
            )

    @property
    def pgid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def processes(self) -> dict[int, str]:
        return process_group(self.pgid) if self.process is not None else {}

    def roles(self) -> Counter[str]:
        return Counter(role_of(cmd) for cmd in self.processes().values())

    def expected_roles(self) -> Counter[str]:
        # The supervisor, the gunicorn master and its workers, the worker and the clock.
        return Counter(serve=1, gunicorn=1 + self.workers, **dict.fromkeys(BACKGROUND, 1))

    def is_answering(self) -> bool:
        try:
            status, _, _ = request(self.port, "GET", "/open311/v2/services.json", timeout=10)
        except (OSError, http.client.HTTPException):
            return False
        return status == 200

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"the server exited ({self.process.returncode}):\n{self.tail()}"
                )
            return self.is_answering() and self.roles() == self.expected_roles()

        try:
            wait_for("the server to answer", ready, READY_TIMEOUT, every=0.3)
        except AssertionError as failed:
            raise AssertionError(f"{failed}; processes {self.roles()}\n{self.tail()}") from None

    def kill_all(self) -> dict[int, str]:
        """kill -9 every process of the group at once; returns what was killed."""
        killed = self.processes()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=30)
        wait_for("every server process to die", lambda: not self.processes(), 30)
        return killed

    def stop(self) -> None:
        """kill -9 whatever is left of the group (quick: gunicorn's graceful stop takes
        seconds, and how ``serve`` stops its children is tested in test_serve.py)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        with contextlib.suppress(AssertionError):
            wait_for("every server process to die", lambda: not self.processes(), 30)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


# --- A TCP proxy in front of PostgreSQL -------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database. ``cut()`` closes every connection and
    refuses new ones (as a database that went away); ``hang()`` accepts connections and
    never answers (as a database host that vanished); ``restore()`` forwards again."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.mode = "forward"
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.accepted = 0
        self.listen()

    def listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed
            with self._lock:
                self.accepted += 1
                self._sockets.add(client)
                mode = self.mode
            if mode == "hang":
                continue  # keep it open, say nothing
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                self._close(client)
                continue
            with self._lock:
                self._sockets.add(server)
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            self._close(source)
            self._close(target)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

    def _drop_everything(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)

    def cut(self) -> None:
        """Close every connection and stop listening: new connections are refused."""
        with self._lock:
            self.mode = "cut"
            listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()
        self._drop_everything()

    def hang(self) -> None:
        """Accept connections but never answer (after closing every open one)."""
        self.cut()
        with self._lock:
            self.mode = "hang"
        self.listen()

    def restore(self) -> None:
        self.cut()
        with self._lock:
            self.mode = "forward"
        self.listen()

    def close(self) -> None:
        self.cut()

    def url_for(self, database_url: str) -> str:
        parts = urllib.parse.urlsplit(database_url)
        user = f"{parts.username}@" if parts.username else ""
        if parts.password:
            user = f"{parts.username}:{parts.password}@"
        return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{self.port}"))


# --- HTTP ------------------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = HTTP_TIMEOUT,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a connection of its own (sync workers close it after each answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def api(
    port: int, method: str, path: str, token: str, payload: dict[str, Any] | None = None
) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    body = None
    if payload is not None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    status, answer_headers, raw = request(port, method, f"/api/v1{path}", body, headers)
    return status, answer_headers, _json(raw)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return {"unreadable": raw[:500].decode(errors="replace")}


# --- Case actions through the API, as the staff who may take them ----------------------------


@dataclass(frozen=True)
class Move:
    """One action: who takes it, the API path, its body, and the timeline's action name."""

    role: str
    path: str
    payload: dict[str, Any]
    event: str
    versioned: bool = True  # the operation accepts expected_version


def moves(category_id: int, unit_id: int) -> dict[str, list[Move]]:
    """The actions the tests take, by the state they are legal in."""
    register = Move("dispatcher", "register", {"category_id": category_id}, "register")
    dispatch = Move(
        "dispatcher",
        "dispatch",
        {"unit_id": unit_id, "reason": "street office handles street lights here"},
        "dispatch",
    )
    sign = Move("handler", "sign-for", {}, "sign_for")
    give_back = Move("handler", "return", {"reason": "not ours: a utility's lamp"}, "return")
    reply = Move("handler", "reply", {"reply": "The lamp was repaired on Tuesday."}, "reply")
    verify = Move("grid", "verify", {"resolved": True}, "verify")
    fail = Move("grid", "verify", {"resolved": False, "note": "still dark"}, "fail_verification")
    close = Move("dispatcher", "close", {}, "close")
    reopen = Move("dispatcher", "reopen", {"reason": "the person called again"}, "reopen", False)
    supervise = Move("leader", "supervise", {"note": "act on it today"}, "supervise", False)
    return {
        "submitted": [register, supervise],
        "registered": [dispatch, supervise],
        "returned": [dispatch, supervise],
        "dispatched": [sign, give_back, supervise],
        "in_progress": [reply, supervise],
        "replied": [verify, fail, supervise],
        "verified": [close, supervise],
        "closed": [reopen],
    }


@dataclass
class Outcome:
    role: str
    event: str
    case_id: str
    status: int  # 0: no answer (connection refused, reset, timed out)
    code: str = ""
    version: int | None = None  # after the action, when it succeeded
    state: str = ""  # after the action, when it succeeded
    expected_version: int | None = None
    error: str = ""
    document: Any = None  # the error answer's JSON


@dataclass
class Actor:
    """Takes actions on cases through the API like a person at a screen: reads the case,
    picks an action its state allows (or, now and then, any action), and sends it with the
    version it read (or without)."""

    port: int
    tokens: dict[str, str]
    table: dict[str, list[Move]]
    rng: random.Random
    outcomes: list[Outcome] = field(default_factory=list)
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)  # case id -> state, version

    def read(self, case_id: str) -> dict[str, Any] | None:
        """The case as the dispatcher sees it (the city's: every case), None without answer."""
        try:
            status, _, body = api(self.port, "GET", f"/cases/{case_id}", self.tokens["dispatcher"])
        except (OSError, http.client.HTTPException):
            return None
        return dict(body) if status == 200 else None

    def step(self, case_id: str, *, blind: float = 0.2, versioned: float = 0.5) -> Outcome:
        """One action on the case as last seen (read again after a refusal)."""
        seen = self.seen.get(case_id) or self.read(case_id)
        every = [m for ms in self.table.values() for m in ms]
        if seen is None or self.rng.random() < blind:
            move = self.rng.choice(every)
            version = seen["version"] if seen else None
        else:
            move = self.rng.choice(self.table.get(seen["state"], every))
            version = seen["version"]
        payload = dict(move.payload)
        expected = None
        if move.versioned and version is not None and self.rng.random() < versioned:
            expected = payload["expected_version"] = version
        outcome = self.send(case_id, move, payload, expected)
        if outcome.status == 200:
            self.seen[case_id] = {"state": outcome.state, "version": outcome.version}
        else:
            self.seen.pop(case_id, None)
        return outcome

    def send(
        self, case_id: str, move: Move, payload: dict[str, Any], expected: int | None
    ) -> Outcome:
        path = f"/cases/{case_id}/{move.path}"
        try:
            status, _, body = api(self.port, "POST", path, self.tokens[move.role], payload)
        except (OSError, http.client.HTTPException) as failed:
            outcome = Outcome(move.role, move.event, case_id, 0, error=type(failed).__name__)
        else:
            outcome = Outcome(
                move.role,
                move.event,
                case_id,
                status,
                code=str(body.get("code", "")) if status != 200 else "",
                version=body.get("version") if status == 200 else None,
                state=str(body.get("state", "")) if status == 200 else "",
                expected_version=expected,
                error="" if status == 200 else json.dumps(body, ensure_ascii=False)[:300],
                document=None if status == 200 else body,
            )
        self.outcomes.append(outcome)
        return outcome


# --- Reading back what happened -------------------------------------------------------------


def key_of(case_id: Any) -> str:
    """One spelling of a case id for comparing (32 hex digits)."""
    return uuid.UUID(str(case_id)).hex


def timelines(db: ScratchDatabase, case_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each case's events in order (seq, action, from_state, to_state, data, occurred_at),
    by case id as given."""
    wanted = {key_of(c): c for c in case_ids}
    found: dict[str, list[dict[str, Any]]] = {c: [] for c in case_ids}
    rows = db.rows(
        "SELECT case_id, seq, action, from_state, to_state, data, occurred_at "
        "FROM cases_caseevent ORDER BY case_id, seq"
    )
    for case_id, seq, action, from_state, to_state, data, occurred_at in rows:
        given = wanted.get(key_of(case_id))
        if given is None:
            continue
        found[given].append(
            {
                "seq": seq,
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
                "data": data if isinstance(data, dict) else json.loads(data or "{}"),
                "occurred_at": db.as_datetime(occurred_at),
            }
        )
    return found


def case_rows(db: ScratchDatabase, case_ids: list[str]) -> dict[str, dict[str, Any]]:
    wanted = {key_of(c): c for c in case_ids}
    found = {}
    for case_id, state, version, warning, stage in db.rows(
        "SELECT id, state, version, warning, stage FROM cases_case"
    ):
        given = wanted.get(key_of(case_id))
        if given is not None:
            found[given] = {"state": state, "version": version, "warning": warning, "stage": stage}
    missing = set(case_ids) - set(found)
    assert not missing, f"cases missing from the database: {missing}"
    return found


def lifecycle_problems(db: ScratchDatabase, case_ids: list[str]) -> list[str]:
    """What breaks the lifecycle's rules in these cases' timelines (empty when none):
    each event a legal transition of ``cases/workflow.py``, each chained to the one before
    (its from_state the previous to_state), the case's state the last event's, and the
    case's version the number of its events (one submit, then one per action, an absorbed
    duplicate included: every event moves the version on)."""
    from gongzhi.cases.workflow import TRANSITIONS, Action, State

    problems = []
    rows = case_rows(db, case_ids)
    for case_id, events in timelines(db, case_ids).items():
        row = rows[case_id]
        if not events or events[0]["action"] != "submit" or events[0]["to_state"] != "submitted":
            problems.append(f"{case_id}: does not start with one submit event")
            continue
        if sum(1 for e in events if e["action"] == "submit") != 1:
            problems.append(f"{case_id}: more than one submit event")
        for before, event in itertools.pairwise(events):
            key = (State(event["from_state"]), Action(event["action"]))
            if TRANSITIONS.get(key) != event["to_state"]:
                problems.append(f"{case_id} #{event['seq']}: illegal {key} -> {event['to_state']}")
            if event["from_state"] != before["to_state"]:
                problems.append(
                    f"{case_id} #{event['seq']}: from {event['from_state']} after "
                    f"#{before['seq']} ended in {before['to_state']}"
                )
        if row["state"] != events[-1]["to_state"]:
            problems.append(f"{case_id}: state {row['state']}, last event {events[-1]}")
        if row["version"] != len(events):
            problems.append(f"{case_id}: version {row['version']} but {len(events)} events")
        if [e["seq"] for e in events] != list(range(1, len(events) + 1)):
            problems.append(f"{case_id}: seq not 1..{len(events)}")
    return problems


def acknowledged_problems(db: ScratchDatabase, outcomes: list[Outcome]) -> list[str]:
    """Every action answered 200 is in its case's timeline exactly once, at the version the
    answer gave, with its own action name: no acknowledged update was lost or doubled."""
    done = [o for o in outcomes if o.status == 200]
    lines = timelines(db, sorted({o.case_id for o in done}))
    problems = []
    claimed = Counter((o.case_id, o.version) for o in done)
    for (case_id, version), count in claimed.items():
        if count > 1:
            problems.append(f"{case_id}: {count} answers claimed version {version}")
    for o in done:
        events = [e for e in lines[o.case_id] if e["seq"] == o.version]
        if len(events) != 1 or events[0]["action"] != o.event:
            problems.append(f"{o.case_id}: answered {o.event} v{o.version}, timeline {events}")
        if o.expected_version is not None and o.version != o.expected_version + 1:
            problems.append(f"{o.case_id}: expected v{o.expected_version}, became v{o.version}")
    return problems


# --- Load: client threads, each recording every answer ------------------------------------


@dataclass
class Answer:
    kind: str  # open311 | api | page | data | action
    started: float  # time.monotonic() when the request was sent
    finished: float
    status: int  # 0: no answer (refused, reset, timed out)
    headers: dict[str, str]
    body: bytes
    ident: str = ""  # what a success created: the Open311 number, the API case id
    key: str = ""  # the Open311 Idempotency-Key (one per matter, kept across retries)
    error: str = ""


class Load:
    """Client threads against the server until ``stop()``: ``open311`` posts requests with an
    Idempotency-Key and sends the same request again until it gets an answer other than 503
    (a client that must not report a matter twice); ``api`` raises cases as a resident;
    ``page`` and ``data`` read the dispatcher's queue page (HTML) and map (JSON) with a web
    session; ``action`` takes actions on ``action_cases`` (``Actor``). A failed attempt
    waits ``pause`` seconds before the next, so a dead server is not spun on."""

    def __init__(
        self,
        port: int,
        seeded: dict[str, Any],
        kinds: dict[str, int],
        action_cases: list[str] | None = None,
        pause: float = 0.2,
        seed: int = 1,
    ) -> None:
        self.port = port
        self.seeded = seeded
        self.kinds = kinds
        self.action_cases = action_cases or []
        self.pause = pause
        self.seed = seed
        self.answers: list[Answer] = []
        self.actors: list[Actor] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        n = 0
        for kind, count in self.kinds.items():
            for _ in range(count):
                n += 1
                target = getattr(self, f"_{kind}")
                thread = threading.Thread(target=target, args=(n,), daemon=True)
                self._threads.append(thread)
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=HTTP_TIMEOUT + 30)
        alive = [t for t in self._threads if t.is_alive()]
        assert not alive, f"{len(alive)} client threads did not finish"

    def _record(self, answer: Answer) -> Answer:
        with self._lock:
            self.answers.append(answer)
        if answer.status in (0, 503):
            self._stop.wait(self.pause)
        return answer

    def _send(
        self, kind: str, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> Answer:
        started = time.monotonic()
        try:
            status, answer_headers, raw = request(self.port, method, path, body, headers)
        except (OSError, http.client.HTTPException) as failed:
            return Answer(kind, started, time.monotonic(), 0, {}, b"", error=type(failed).__name__)
        return Answer(kind, started, time.monotonic(), status, answer_headers, raw[:4000])

    def _open311(self, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        keys, codes = self.seeded["keys"], self.seeded["service_codes"]
        points = self.seeded["points"]
        sent = 0
        while not self._stop.is_set():
            sent += 1
            idempotency = f"system-{self.seed}-{n}-{sent}"
            lat, lng = rng.choice(points)
            form = urllib.parse.urlencode(
                {
                    "api_key": keys[n % len(keys)],
                    "service_code": rng.choice(codes),
                    "lat": lat,
                    "long": lng,
                    "description": f"系统测试 {idempotency}：小区门口的井盖松动，一直响。",
                }
            ).encode()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept-Language": "en",
                "Idempotency-Key": idempotency,
            }
            while not self._stop.is_set():  # the same request again until it is answered
                answer = self._send("open311", "POST", "/open311/v2/requests.json", form, headers)
                answer.key = idempotency
                if answer.status == 200:
                    answer.ident = str(_json(answer.body)[0]["service_request_id"])
                self._record(answer)
                if answer.status not in (0, 503):
                    break

    def _api(self, n: int) -> None:
        self._raise_matters(n, "api", queued=False)

    def _queued(self, n: int) -> None:
        """A resident's app that asks to be answered at once (``Prefer: respond-async``):
        202 and a receipt; the intake processor makes the case (ADR 0007)."""
        self._raise_matters(n, "queued", queued=True)

    def _raise_matters(self, n: int, kind: str, *, queued: bool) -> None:
        """Raise cases as a resident through /api/v1/ until stopped; a success names the
        case's id (201), or with ``queued`` the receipt of the accepted submission (202)."""
        rng = random.Random(self.seed * 1000 + n)
        token = self.seeded["tokens"]["resident"]
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept-Language": "en",
            **({"Prefer": "respond-async"} if queued else {}),
        }
        ok, ident = (202, "receipt") if queued else (201, "id")
        sent = 0
        while not self._stop.is_set():
            sent += 1
            point = rng.choice(self.seeded["points"])
            payload = {
                "title": f"系统测试 {self.seed}-{n}-{sent}：{'排队受理' if queued else '路面塌陷'}",
                "description": "建设路东段人行道有一处塌陷，雨后积水，老人小孩容易摔倒。",
                "channel": "mobile",
                "latitude": point[0],
                "longitude": point[1],
            }
            body = json.dumps(payload, ensure_ascii=False).encode()
            answer = self._send(kind, "POST", "/api/v1/cases", body, headers)
            if answer.status == ok:
                answer.ident = str(_json(answer.body)[ident])
            self._record(answer)

    def _web(self, kind: str, path: str) -> None:
        cookie = f"sessionid={self.seeded['session_key']}"
        while not self._stop.is_set():
            headers = {"Cookie": cookie, "Accept-Language": "en"}
            self._record(self._send(kind, "GET", path, None, headers))

    def _page(self, n: int) -> None:
        self._web("page", "/cases/")

    def _data(self, n: int) -> None:
        self._web("data", "/cases/map.json")

    def _action(self, n: int) -> None:
        actor = Actor(
            self.port,
            self.seeded["tokens"],
            moves(self.seeded["category_id"], self.seeded["handler_unit_id"]),
            random.Random(self.seed * 1000 + n),
        )
        with self._lock:
            self.actors.append(actor)
        while not self._stop.is_set():
            outcome = actor.step(actor.rng.choice(self.action_cases), blind=0.0)
            if outcome.status in (0, 503):
                self._stop.wait(self.pause)

    def successes(self, kind: str | None = None, since: float = 0.0) -> int:
        with self._lock:
            return sum(
                1
                for a in self.answers
                if 200 <= a.status < 300 and a.started >= since and kind in (None, a.kind)
            )

    def outcomes(self) -> list[Outcome]:
        return [o for actor in self.actors for o in actor.outcomes]


def exactly_once_problems(db: ScratchDatabase, answers: list[Answer]) -> list[str]:
    """Every case a success answer named is in the database exactly once with exactly one
    submit event; answers to one Open311 request (retries with its Idempotency-Key) all
    name the same case, and different requests name different cases."""
    problems = []
    numbers: dict[str, set[str]] = {}
    for a in answers:
        if a.kind == "open311" and a.status == 200:
            numbers.setdefault(a.key, set()).add(a.ident)
    for key, found in numbers.items():
        if len(found) != 1:
            problems.append(f"Open311 request {key} answered with several numbers {found}")
    open311 = [n for found in numbers.values() for n in found]
    if len(open311) != len(set(open311)):
        problems.append("two Open311 requests were answered with the same number")
    api_ids = [a.ident for a in answers if a.kind == "api" and a.status == 201]
    if len(api_ids) != len(set(api_ids)):
        problems.append("two API submissions were answered with the same case")
    for column, values in (("number", open311), ("id", [db.uuid(i) for i in api_ids])):
        for start in range(0, len(values), 200):
            chunk = values[start : start + 200]
            marks = ", ".join(["%s"] * len(chunk))
            rows = db.rows(
                f"SELECT c.{column}, COUNT(DISTINCT c.id), "  # noqa: S608 (fixed columns)
                "SUM(CASE WHEN e.action = 'submit' THEN 1 ELSE 0 END) "
                "FROM cases_case c LEFT JOIN cases_caseevent e ON e.case_id = c.id "
                f"WHERE c.{column} IN ({marks}) GROUP BY c.{column}",
                tuple(chunk),
            )
            found = {str(value): (cases, submits) for value, cases, submits in rows}
            for value in chunk:
                got = found.get(str(value))
                if got != (1, 1):
                    problems.append(f"{column} {value}: (cases, submit events) = {got}")
    receipts = [a.ident for a in answers if a.kind == "queued" and a.status == 202]
    if len(receipts) != len(set(receipts)):
        problems.append("two queued submissions were answered with the same receipt")
    for start in range(0, len(receipts), 200):
        chunk = receipts[start : start + 200]
        marks = ", ".join(["%s"] * len(chunk))
        rows = db.rows(
            "SELECT q.receipt, COUNT(DISTINCT c.id), "  # noqa: S608 (fixed columns)
            "SUM(CASE WHEN e.action = 'submit' THEN 1 ELSE 0 END) "
            "FROM cases_queuedcase q JOIN cases_case c ON c.id = q.case_id "
            "LEFT JOIN cases_caseevent e ON e.case_id = c.id "
            f"WHERE q.receipt IN ({marks}) GROUP BY q.receipt",
            tuple(chunk),
        )
        found = {str(value): (cases, submits) for value, cases, submits in rows}
        for value in chunk:
            got = found.get(value)
            if got != (1, 1):
                problems.append(f"receipt {value}: (cases, submit events) = {got}")
    return problems


def queue_drained(db: ScratchDatabase) -> bool:
    """No accepted submission is still waiting to become a case."""
    rows = db.rows(
        "SELECT COUNT(*) FROM cases_queuedcase WHERE case_id IS NULL AND processed_at IS NULL"
    )
    return int(rows[0][0]) == 0


def all_case_ids(db: ScratchDatabase) -> list[str]:
    return [str(row[0]) for row in db.rows("SELECT id FROM cases_case ORDER BY submitted_at")]

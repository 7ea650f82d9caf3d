"""The bare baseline of ``bench/bench_intake.py``: one Django + django-ninja POST endpoint that
inserts one row into a one-table model, nothing else (no auth, no classification, no timeline).

Its settings build ``DATABASES`` exactly as ``gongzhi.config.settings`` does (``DATABASE_URL``
with ``conn_max_age=600`` and health checks on PostgreSQL; unset: SQLite in WAL mode in
``$GONGZHI_VAR_DIR/gongzhi.sqlite3``), so the baseline pays the same connection handling as
the project. Served by gunicorn as ``bare.wsgi:application`` with ``bench/`` on ``sys.path``.
Its table ``bench_bare_row`` is created by ``python bench/bare/schema.py`` (drop and create).
"""

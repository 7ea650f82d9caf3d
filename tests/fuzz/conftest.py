"""The browser fixtures of tests/e2e/ (Debian's Chromium through Playwright), for
test_stored_script.py."""

from tests.e2e.conftest import browser, page, page_problems  # noqa: F401

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import TEST_PASSWORD


@pytest.fixture
def sign_in_as(page: Any, live_server: Any) -> Any:
    """Sign in through the real login page in Chromium."""

    def _sign_in(user: Any) -> Any:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        return page

    return _sign_in

"""The application factory's wiring of settings into the running app."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from anyio import to_thread
from fastapi.testclient import TestClient

from calle.settings import Settings
from service.app import create_app


@pytest.mark.parametrize("threads", [1, 3])
def test_the_request_thread_pool_has_the_size_the_settings_give(
    settings: Settings, engine: sa.Engine, threads: int
):
    app = create_app(settings.model_copy(update={"request_threads": threads}))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        limiter = client.portal.call(to_thread.current_default_thread_limiter)
        assert limiter.total_tokens == threads

"""Fixtures shared by the HTTP tests: an app from ``create_app`` and its test client.

A test module that needs another configuration defines its own ``app`` fixture; ``client``
then uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cds_test_support import app_for
from flask import Flask
from flask.testing import FlaskClient


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    with app_for(tmp_path) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()

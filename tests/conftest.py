"""Fixtures shared by several test modules."""

from __future__ import annotations

import pytest

from embedder.ratings import logs


@pytest.fixture(params=["arrow", "csv"])
def tier(request, monkeypatch) -> str:
    """Run a test once with bad rows located by pyarrow, once by the csv-module pass; both must agree."""
    if request.param == "arrow":
        def refuse(*args):
            raise AssertionError("pyarrow should have located every bad row")
        monkeypatch.setattr(logs, "_read_log_slowly", refuse)
    else:
        monkeypatch.setattr(logs, "_read_log_located", lambda *args: None)
    return request.param


#: Markers whose tests are slow by nature: they are also marked ``slow`` (``-m "not slow"`` is the fast tier).
SLOW_BY_NATURE = ("browser", "spark", "tf", "shared")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.get_closest_marker(name) for name in SLOW_BY_NATURE) and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)

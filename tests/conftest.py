"""Shared test configuration: a deterministic hypothesis profile for CI."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


#: Test files whose tests are independent pages or notebooks (no shared fixture): with
#: ``-n 2 --dist loadgroup`` (``make test``) each of their tests may run on either worker;
#: every other file runs whole on one worker, so its module fixtures (fitted models) are
#: built once.
SPREAD_FILES = frozenset({"test_docs_snippets.py", "test_notebooks.py"})


def pytest_collection_modifyitems(config, items):
    """Group tests for pytest-xdist's ``loadgroup``: by file, except :data:`SPREAD_FILES`."""
    import pytest

    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            group = item.nodeid if item.path.name in SPREAD_FILES else str(item.path)
            item.add_marker(pytest.mark.xdist_group(name=group))

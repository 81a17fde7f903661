"""Shared test configuration: a deterministic hypothesis profile for CI."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


#: The test files that take longest (``--durations`` on the 2-core development machine,
#: heaviest first). ``make test`` runs two workers that each take whole files
#: (``--dist loadfile``) in collection order (``--no-loadscope-reorder``; xdist would
#: otherwise start with the files that hold the most tests, which are quick, and leave
#: these few-test, long files for the end, where one worker waits for the other). Started
#: first, they spread over both workers and the many short files fill in at the end.
SLOW_FILES = (
    "tests/test_notebooks.py",
    "tests/test_docs_snippets_shard2.py",
    "tests/test_docs_snippets_shard1.py",
    "tests/models/test_spec.py",
    "tests/test_docs_snippets.py",
    "tests/models/test_agreement_recovery.py",
    "tests/hostile/test_battery.py",
    "tests/models/test_standard_fits.py",
    "tests/models/test_regression_fit.py",
    "tests/test_vocabulary.py",
    "tests/models/test_impact.py",
    "tests/test_cli_report.py",
    "tests/test_calibration.py",
    "tests/models/test_fit.py",
)


def pytest_collection_modifyitems(config, items):
    """Run :data:`SLOW_FILES` first, in that order; every file keeps its own test order."""
    rank = {name: i for i, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))

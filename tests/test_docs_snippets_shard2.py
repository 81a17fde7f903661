"""Documentation pages, shard 2 of ``tests/test_docs_snippets.py`` (see its ``N_SHARDS``)."""

import pytest

from tests.test_docs_snippets import _page_params, run_page


@pytest.mark.parametrize("page", _page_params(2))
def test_page_snippets_run(page, tmp_path, monkeypatch):
    run_page(page, tmp_path, monkeypatch)

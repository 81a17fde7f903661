"""The report shows stationarity and dominance beside the lag tables where they apply."""

from __future__ import annotations

import re

import numpy as np
import pytest

import lagnest as ln
from lagnest.demo import standard_tables, table_tests
from lagnest.viz.report import write_report


@pytest.fixture(scope="module")
def corpus():
    seqs = ln.datasets.load_example()
    tables = standard_tables(seqs)
    return seqs, tables, table_tests(seqs, tables)


def test_stationarity_for_every_table_dominance_for_a_stream_on_itself(corpus):
    seqs, tables, tests = corpus
    assert set(tests) == set(tables)
    for heading, found in tests.items():
        table = tables[heading]
        direct = ln.stationarity_test(seqs, table.attrs["given"], table.attrs["target"],
                                      lag=int(table.attrs["lag"]), by="half")
        assert found["stationarity"].attrs["G2"] == pytest.approx(direct.attrs["G2"])
        same_stream = table.attrs["given"] == table.attrs["target"]
        assert ("dominance" in found) == same_stream, heading
    # rupture -> rupture: the two most frequent rupture types after "none", counted here
    # from the codes (withdrawal 33%, confrontation 7.5%, both 5.5% of the segments)
    codes, labels = seqs.categorical("rupture")
    counts = np.bincount(np.asarray(codes)[np.asarray(codes) >= 0], minlength=len(labels))
    expected = [labels[i] for i in np.argsort(-counts[1:], kind="stable")[:2] + 1]
    dom = tests["rupture → rupture, lag 1"]["dominance"]
    assert list(dom["given"].values[:2]) == expected == ["withdrawal", "confrontation"]


def test_the_page_states_each_test_with_its_p_value_marked(corpus, tmp_path):
    seqs, tables, tests = corpus
    page = write_report(tmp_path / "r.html", seqs, tables=tables,
                        table_tests=tests).read_text(encoding="utf-8")
    stated = re.findall(r"<p>(Stationarity|Parallel dominance)[^<]*"
                        r'<span class="pvalue">(p [=<] [0-9.]+)</span>', page)
    assert [kind for kind, _ in stated].count("Stationarity") == 3
    assert [kind for kind, _ in stated].count("Parallel dominance") == 1
    p = tests["rupture → rupture, lag 1"]["stationarity"].attrs["p"]
    assert f"p = {p:.3f}" in [value for _, value in stated]
    es = write_report(tmp_path / "es.html", seqs, tables=tables, table_tests=tests,
                      lang="es").read_text(encoding="utf-8")
    assert es.count("Estacionariedad: ") == 3 and "mitades de cada sesión" in es
    assert "Dominancia paralela (Wampold) entre Retirada y Confrontación" in es
    assert "Stationarity" not in es and "halves of each session" not in es

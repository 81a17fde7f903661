"""`lagnest ppc RESULT`: checks of saved fits, and one line for every bad input."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import pytest
import xarray as xr
from PIL import Image

import lagnest as ln
from tests.cli_helpers import edited, fails, run


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    seqs = ln.datasets.load_example()
    result = ln.TransitionModel(seqs, "rupture", "rupture").fit(
        draws=20, tune=20, chains=2, cores=1, seed=3, warn=False)
    path = tmp_path_factory.mktemp("ppc") / "res.nc"
    result.save(path)
    return result, path


def test_ppc_help_documents_every_option(capsys):
    assert run(["ppc", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "RESULT" in out and "--stats" in out and "--plot FILE.png" in out


@pytest.mark.slow
def test_ppc_prints_the_check_and_its_flags(fitted, capsys):
    result, path = fitted
    assert run(["ppc", str(path), "--draws", "30", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    expected = str(result.ppc(n_draws=30, seed=5))  # the library's own rendering
    assert out.strip() == expected.strip()
    assert "Posterior predictive check of TransitionModel (30 replicates" in out
    assert "checked values flagged at two-sided posterior predictive p (ppp) < 0.01" in out


@pytest.mark.slow
def test_ppc_selected_stats_as_json_with_a_plot(fitted, tmp_path, capsys):
    result, path = fitted
    plot = tmp_path / "ppc.png"
    argv = ["ppc", str(path), "--stats", "G2,homogeneity_dyads", "--stats", "adj_resid",
            "--draws", "20", "--seed", "2", "--json", "--plot", str(plot)]
    assert run(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert {row["statistic"] for row in data["statistics"]} == {"G2", "homogeneity_dyads",
                                                                "adj_resid"}
    summary = result.ppc(stats=["G2", "homogeneity_dyads", "adj_resid"], n_draws=20,
                         seed=2).summary()
    assert [row["ppp"] for row in data["statistics"]] == pytest.approx(summary["ppp"].tolist())
    assert data["flagged"] == [r for r in data["statistics"] if r["flag"]]
    with Image.open(plot) as image:
        assert image.format == "PNG" and image.width > 200


def _bad_cases(tmp_path, fitted):
    result, path = fitted
    not_nc = tmp_path / "table.nc"
    not_nc.write_text("dyad,session,segment,code\n")
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("a", [1, 2])}).to_netcdf(foreign, engine="h5netcdf")
    return [
        (["ppc", str(tmp_path / "absent.nc")], "no such result file"),
        (["ppc", str(not_nc)], "not a lagnest result"),
        (["ppc", str(foreign)], "foreign.nc: not a lagnest result"),
        (["ppc", str(edited(result, tmp_path / "future.nc", model="FutureModel"))],
         "model 'FutureModel', which this version of lagnest does not know"),
        (["ppc", str(edited(result, tmp_path / "newer.nc",
                            versions={**result.config["versions"], "lagnest": "9.0.0"}))],
         "written by lagnest 9.0.0, newer than this lagnest"),
        (["ppc", str(path), "--stats", "nonsense"], "unknown statistic(s) ['nonsense']"),
        (["ppc", str(path), "--plot", str(tmp_path / "p.pdf")], "ending in .png"),
        (["ppc", str(path), "--draws", "0"], "expected an integer >= 1"),
        (["ppc"], "the following arguments are required: RESULT"),
    ]


@pytest.mark.slow
def test_ppc_bad_input_prints_one_line(fitted, tmp_path, capsys):
    for argv, fragment in _bad_cases(tmp_path, fitted):
        fails(capsys, argv, fragment)
    assert not (tmp_path / "p.pdf").exists()

"""`lagnest sbc` and `lagnest design`: thin wrappers over lagnest.calibration.

These tests replace ``sbc`` and ``design_analysis`` with stand-ins that record what the
command line passes (the real functions fit models; tests/test_calibration.py runs them),
so they check the wiring in milliseconds.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from PIL import Image

import lagnest as ln
from tests.cli_helpers import TINY_SPEC, fails, run


class _Answer:
    def __init__(self, what):
        self.what = what

    def uniformity(self):
        return pd.DataFrame({"parameter": ["a", "b"], "p_uniform": [0.41, 0.73]})

    def coverage(self):
        return "90% intervals covered the truth in 88 of 100 fits"

    def sentence(self):
        return f"With {self.what} the effect is detected in 4 of 5 simulated studies."

    def plot(self):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        return fig, ax


@pytest.fixture
def calls(monkeypatch):
    calls = {}
    def sbc(model, **kwargs):
        calls["sbc"] = (model, kwargs)
        return _Answer("sbc")

    def design_analysis(**kwargs):
        calls["design"] = kwargs
        return _Answer(f"{kwargs['dyads']} dyads")

    monkeypatch.setattr(ln.calibration, "sbc", sbc)
    monkeypatch.setattr(ln.calibration, "design_analysis", design_analysis)
    return calls


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_SPEC)
    return path


def test_sbc_passes_the_model_and_settings(calls, spec, tmp_path, capsys):
    plot = tmp_path / "sbc.png"
    argv = ["sbc", str(spec), "--n", "3", "--seed", "5", "--draws", "10", "--tune", "10",
            "--chains", "2", "--jobs", "1", "--out", str(tmp_path / "runs"), "--plot",
            str(plot)]
    assert run(argv) == 0
    model, kwargs = calls["sbc"]
    assert isinstance(model, ln.TransitionModel)
    expected = ln.TransitionModel(ln.datasets.load_example(), given="MIA4", target="rupture")
    assert model.id == expected.id
    assert kwargs == {"n": 3, "seed": 5, "draws": 10, "tune": 10, "chains": 2, "n_jobs": 1,
                      "path": str(tmp_path / "runs"), "progress": False}  # not a terminal
    out = capsys.readouterr().out
    assert "p_uniform" in out and "88 of 100 fits" in out and f"wrote {plot}" in out
    with Image.open(plot) as image:
        assert image.format == "PNG"


def test_sbc_prints_the_real_answers_as_tables_not_xarray_reprs(spec, monkeypatch, capsys):
    """The real ``uniformity()`` and ``coverage()`` are Datasets with overall attributes."""
    import xarray as xr

    params = {"parameter": ["beta[a]", "sigma_dyad"]}

    class Datasets(_Answer):
        def uniformity(self):
            return xr.Dataset({"chi2_p": ("parameter", [0.41, 0.0734]),
                               "ks_p": ("parameter", [0.5, 0.25])}, coords=params,
                              attrs={"bins": 20, "overall_p": 0.1468})

        def coverage(self):
            return xr.Dataset({"coverage": ("parameter", [0.88, 0.91])}, coords=params,
                              attrs={"ci_prob": 0.9, "overall": 0.895})

    monkeypatch.setattr(ln.calibration, "sbc", lambda model, **kwargs: Datasets("sbc"))
    assert run(["sbc", str(spec), "--n", "3"]) == 0
    out = capsys.readouterr().out
    assert "<xarray." not in out and "Size:" not in out and "Data variables" not in out
    rows = [line.split() for line in out.splitlines()]
    assert ["beta[a]", "0.410", "0.500"] in rows and ["sigma_dyad", "0.073", "0.250"] in rows
    assert ["sigma_dyad", "0.910"] in rows
    for line in ("bins: 20", "overall_p: 0.147", "ci_prob: 0.900", "overall: 0.895"):
        assert line in out.splitlines(), line


def test_sbc_leaves_unset_settings_to_the_library(calls, spec, capsys):
    assert run(["sbc", str(spec)]) == 0
    assert calls["sbc"][1] == {"n": 100, "seed": 1, "progress": False}
    capsys.readouterr()


def test_design_passes_the_designs(calls, tmp_path, capsys):
    plot = tmp_path / "design.png"
    argv = ["design", "--dyads", "6", "12", "--sessions", "10", "--segments", "8", "--n-sim",
            "4", "--seed", "2", "--plot", str(plot)]
    assert run(argv) == 0
    assert calls["design"] == {"dyads": [6, 12], "sessions": [10], "segments": 8, "n_sim": 4,
                               "seed": 2, "progress": False}
    out = capsys.readouterr().out
    assert out.startswith("With [6, 12] dyads the effect is detected") and plot.is_file()


def test_calibration_bad_input_prints_one_line(calls, spec, tmp_path, capsys):
    broken = tmp_path / "broken.toml"
    broken.write_text(TINY_SPEC.replace("draws = 20", "draws = [20]"))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(TINY_SPEC.replace('"rupture"', '"ruptures"'))
    cases = [
        (["sbc", str(tmp_path / "absent.toml")], "absent.toml: No such file or directory"),
        (["sbc", str(broken)], "key 'fit.draws': wrong type"),
        (["sbc", str(unknown)], "ruptures"),
        (["sbc", str(spec), "--data", str(tmp_path / "none.csv")],
         "none.csv: No such file or directory"),
        (["sbc", str(spec), "--plot", str(tmp_path / "p.svg")], "ending in .png"),
        (["sbc", str(spec), "--n", "0"], "expected an integer >= 1"),
        (["design", "--dyads", "0", "--sessions", "10"], "expected an integer >= 1"),
        (["design", "--sessions", "10"], "required: --dyads"),
        (["design", "--dyads", "6", "--sessions", "x"], "expected an integer"),
    ]
    for argv, fragment in cases:
        fails(capsys, argv, fragment)
    assert calls == {}


def test_sbc_reads_data_with_the_reading_options(calls, spec, tmp_path, capsys):
    seqs = ln.simulate.null(seed=2)[0]
    ln.write_table(seqs, tmp_path / "comma.csv")
    text = (tmp_path / "comma.csv").read_text()
    assert ";" not in text
    (tmp_path / "semicolon.csv").write_text(text.replace(",", ";"))
    argv = ["sbc", str(spec), "--data", str(tmp_path / "semicolon.csv"), "--sep", ";",
            "--codebook", "3rs_2015+mia"]
    assert run(argv) == 0
    capsys.readouterr()
    expected = ln.TransitionModel(ln.read_table(tmp_path / "comma.csv", codebook="3rs_2015+mia"),
                                  given="MIA4", target="rupture")
    assert calls["sbc"][0].id == expected.id

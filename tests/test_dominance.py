"""Wampold's parallel and nonparallel dominance against O'Connor's LagSequential (R).

Reference values: the R package LagSequential 0.1.1 (Draper & O'Connor 2019;
repository github.com/cran/LagSequential, files ``R/paradom.R`` and ``R/nonparadom.R``),
run with R 4.2.2 on the package's data sets ``data_Wampold_1984`` and
``data_Wampold_1982`` (``data/*.rda``, the 200-event sequences that mimic the tables of
Wampold 1984 and Wampold & Margolin 1982; transcribed below, codes 1-6 = HPos, HNeu,
HNeg, WPos, WNeu, WNeg). The functions' documented examples (``man/paradom.Rd``:
``paradom(data_Wampold_1984, labels = ..., ...)``; ``man/nonparadom.Rd``:
``nonparadom(data_Wampold_1984, i = 6, j = 1, k = 3, L = 4, ...)``) print rounded
matrices; the values here are the returned lists (``domfreqs``, ``expdomfreqs``,
``domtypes``, ``kappas``, ``z``, ``pk``) printed to 12 significant digits. The .Rd
example prints, e.g., kappa = 0.63, z = 2.485, p = 0.00648 for nonparallel dominance of
WNeg -> HPos over HNeg -> WPos.
"""

from __future__ import annotations

import numpy as np
import pytest

from lagnest.classical.dominance import (
    dominance_arrays,
    dominance_table,
    dominance_test,
    nonparallel_dominance_arrays,
)
from lagnest.classical.lagtable import count_table
from lagnest.data.sequences import Sequences
from lagnest.errors import LagnestDataError

LABELS = ["HPos", "HNeu", "HNeg", "WPos", "WNeu", "WNeg"]
WAMPOLD_1984 = (
    "61411141141141141126224141122414112241411224144112244144511224144515411224223445"
    "13141524223445411242231324451415211223424313254451415211223424313253344546141511"
    "2613614215223161124325363344546135561615"
)
WAMPOLD_1982 = (
    "64616263641414141414141241412141242141242141124214112421411242141124213144511224"
    "13142151122445413142151122431314452541511213142232431525445164641121322331424325"
    "2615335445516461121314152232425334354455"
)
#: Lag-1 frequency matrix of data_Wampold_1984 (``paradom(...)$freqs``).
FREQS_1984 = np.array([
    [17, 12, 6, 16, 7, 2],
    [3, 13, 6, 13, 3, 2],
    [5, 4, 2, 6, 1, 2],
    [21, 6, 3, 10, 8, 2],
    [6, 4, 2, 5, 1, 1],
    [8, 1, 1, 0, 0, 0],
])

#: paradom(data_Wampold_1984) (the man/paradom.Rd example; lag 1, tailed = 1).
PARADOM_1984 = {
    "dom_counts": [
        [0, 9, 1, -5, 1, 10],
        [-9, 0, 2, 19, -1, 1],
        [-1, -2, 0, 9, -1, 1],
        [5, 19, 9, 0, 3, 2],
        [-1, 1, 1, -3, 0, 1],
        [10, -1, -1, -2, -1, 0],
    ],
    "dom_expected": [
        [0.0, 0.0, 0.0, 0.0, 0.0, 6.0],
        [0.0, 0.0, 0.0, 20.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 10.0, 0.0, 0.0],
        [0.0, 20.0, 10.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [6.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ],
    "case": [
        [2, 0, 0, 1, 3, 4],
        [4, 1, 3, 3, 4, 0],
        [4, 0, 0, 3, 4, 3],
        [1, 4, 4, 2, 3, 2],
        [0, 0, 0, 0, 2, 0],
        [3, 4, 0, 2, 4, 2],
    ],
    "kappa": [
        [0.0, 0.0, 0.0, -0.142857142857, 0.0714285714286, -0.571428571429],
        [0.75, 0.0, 0.125, -0.1, 0.25, 0.0],
        [0.166666666667, 0.0, 0.0, -0.2, 0.5, 0.111111111111],
        [0.142857142857, 0.1, 0.2, 0.0, 0.2, -0.8],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.571428571429, 0.5, 0.0, 0.8, 1.0, 0.0],
    ],
    "z": [
        [0.0, 0.0, 0.0, 1.34994234038, 0.370205809784, -1.98264071317],
        [-2.57871139821, 0.0, 0.840043902939, 0.277726093383, -0.42002195147, 0.0],
        [-0.370205809784, 0.0, 0.0, 0.3783721285, -0.555883271182, 0.762804919379],
        [1.34994234038, -0.277726093383, -0.3783721285, 0.0, 1.16926283295, -1.06258082713],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [1.98264071317, -0.573994946559, 0.0, -1.06258082713, -0.762804919379, 0.0],
    ],
    "p": [
        [0.5, 0.00495848001781, 0.35561457403, 0.0885172394394, 0.35561457403, 0.023703788143],
        [0.00495848001781, 0.5, 0.20044188557, 0.390611314326, 0.337234708833, 0.282985610467],
        [0.35561457403, 0.20044188557, 0.5, 0.352577085043, 0.289145327508, 0.22278987343],
        [0.0885172394394, 0.390611314326, 0.352577085043, 0.5, 0.121148876385, 0.143986042787],
        [0.35561457403, 0.337234708833, 0.289145327508, 0.121148876385, 0.5, 0.22278987343],
        [0.023703788143, 0.282985610467, 0.22278987343, 0.143986042787, 0.22278987343, 0.5],
    ],
}

#: paradom(data_Wampold_1982, lag = 2, tailed = 2).
PARADOM_1982_LAG2 = {
    "dom_counts": [
        [0, 24, 0, 30, 7, -3],
        [24, 0, 14, 19, 1, 0],
        [0, 14, 0, 15, 1, 0],
        [30, 19, 15, 0, 15, 0],
        [7, -1, -1, 15, 0, 2],
        [3, 0, 0, 0, -2, 0],
    ],
    "dom_expected": [
        [0.0, 24.1206030151, 0.0, 30.1507537688, 11.4572864322, 0.0],
        [24.1206030151, 0.0, 8.04020100503, 20.1005025126, 0.0, 0.0],
        [0.0, 8.04020100503, 0.0, 10.0502512563, 0.0, 0.0],
        [30.1507537688, 20.1005025126, 10.0502512563, 0.0, 9.54773869347, 0.0],
        [11.4572864322, 0.0, 0.0, 9.54773869347, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ],
    "case": [
        [1, 3, 2, 4, 4, 2],
        [4, 1, 3, 3, 2, 2],
        [2, 4, 2, 3, 1, 2],
        [3, 4, 4, 2, 3, 2],
        [3, 2, 1, 4, 1, 1],
        [2, 2, 2, 2, 1, 1],
    ],
    "kappa": [
        [0.0, -0.01, 0.0, 0.01, 0.778070175439, 0.995],
        [0.01, 0.0, 0.372955974843, -0.1095, -0.261842105263, 0.0],
        [0.0, -0.372955974843, 0.0, 0.330536912752, 0.0585122022934, 0.0],
        [-0.01, 0.1095, -0.330536912752, 0.0, 0.383256799717, 0.0],
        [-0.778070175439, 0.261842105263, -0.0585122022934, -0.383256799717, 0.0, 0.221111111111],
        [-0.995, 0.0, 0.0, 0.0, -0.221111111111, 0.0],
    ],
    "z": [
        [0.0, 0.0312681516701, 0.0, -0.0355413105656, -1.62228847491, -1.50771094965],
        [-0.0312681516701, 0.0, 2.44734132498, 0.305172053038, -0.42877334869, 0.0],
        [0.0, -2.44734132498, 0.0, 1.86985826744, 0.567465416584, 0.0],
        [0.0355413105656, -0.305172053038, -1.86985826744, 0.0, 2.10940161274, 0.0],
        [1.62228847491, -0.42877334869, 0.567465416584, -2.10940161274, 0.0, 1.55739679098],
        [-1.50771094965, 0.0, 0.0, 0.0, 1.55739679098, 0.0],
    ],
    "p": [
        [1.0, 0.975055689268, 1.0, 0.971648106101, 0.104741595242, 0.131628521865],
        [0.975055689268, 1.0, 0.0143914477925, 0.760235116241, 0.668088175864, 1.0],
        [1.0, 0.0143914477925, 1.0, 0.0615035023897, 0.570398016355, 1.0],
        [0.971648106101, 0.760235116241, 0.0615035023897, 1.0, 0.0349099304126, 1.0],
        [0.104741595242, 0.668088175864, 0.570398016355, 0.0349099304126, 1.0, 0.119376307576],
        [0.131628521865, 1.0, 1.0, 1.0, 0.119376307576, 1.0],
    ],
}

#: paradom(FREQS_1984): frequency-matrix input (n = N + 1, n_i = row totals).
PARADOM_MATRIX = {
    "dom_counts": [
        [0, 9, 1, -5, 1, 10],
        [-9, 0, 10, 19, 7, 1],
        [-1, 10, 0, 9, 3, 3],
        [5, 19, 9, 0, 3, 2],
        [-1, 7, 3, -3, 0, 1],
        [10, -1, 3, -2, 1, 0],
    ],
    "dom_expected": [
        [0.0, 0.0, 0.0, 0.0, 0.0, 6.0],
        [0.0, 0.0, 8.0, 20.0, 7.6, 0.0],
        [0.0, 8.0, 0.0, 10.0, 3.8, 2.0],
        [0.0, 20.0, 10.0, 0.0, 0.0, 0.0],
        [0.0, 7.6, 3.8, 0.0, 0.0, 1.9],
        [6.0, 0.0, 2.0, 0.0, 1.9, 0.0],
    ],
    "case": [
        [2, 0, 0, 1, 1, 4],
        [4, 1, 3, 3, 4, 0],
        [4, 0, 0, 3, 4, 3],
        [1, 4, 4, 2, 1, 2],
        [1, 3, 3, 1, 2, 3],
        [3, 4, 0, 2, 4, 2],
    ],
    "kappa": [
        [0.0, 0.0, 0.0, -0.142857142857, 0.0751879699248, -0.571428571429],
        [0.75, 0.0, 0.125, -0.1, 0.157894736842, 0.0],
        [0.166666666667, 0.0, 0.0, -0.2, 0.421052631579, 0.111111111111],
        [0.142857142857, 0.1, 0.2, 0.0, 0.210526315789, -0.8],
        [-0.0751879699248, -0.157894736842, -0.421052631579, -0.210526315789, 0.0, -0.947368421053],
        [0.571428571429, 0.5, 0.0, 0.8, 0.947368421053, 0.0],
    ],
    "z": [
        [0.0, 0.0, 0.0, 1.34994234038, 0.378263291412, -1.98264071317],
        [-2.57871139821, 0.0, 0.822721549675, 0.277726093383, -0.252713134033, 0.0],
        [-0.370205809784, 0.0, 0.0, 0.3783721285, -0.452342900188, 0.762804919379],
        [1.34994234038, -0.277726093383, -0.3783721285, 0.0, 1.19508563085, -1.06258082713],
        [0.378263291412, 0.252713134033, 0.452342900188, 1.19508563085, 0.0, 0.702512908695],
        [1.98264071317, -0.573994946559, 0.0, -1.06258082713, -0.702512908695, 0.0],
    ],
    "p": [
        [0.5, 0.00495848001781, 0.35561457403, 0.0885172394394, 0.352617506125, 0.023703788143],
        [0.00495848001781, 0.5, 0.205333178888, 0.390611314326, 0.400244948883, 0.282985610467],
        [0.35561457403, 0.205333178888, 0.5, 0.352577085043, 0.32551098749, 0.22278987343],
        [0.0885172394394, 0.390611314326, 0.352577085043, 0.5, 0.116026787736, 0.143986042787],
        [0.352617506125, 0.400244948883, 0.32551098749, 0.116026787736, 0.5, 0.241179677147],
        [0.023703788143, 0.282985610467, 0.22278987343, 0.143986042787, 0.241179677147, 0.5],
    ],
}

#: nonparadom(data, i, j, k, L, lag, tailed): data, (i, j), (k, L), lag, tailed, then
#: npdomfreqs, expnpdomfreqs, domtypes, kappa, z, pk. The first row is the
#: man/nonparadom.Rd example; the rest cover every case type with a positive, negative
#: and zero kappa (case 3 with a negative kappa keeps its first denominator in the R code).
NONPARADOM = [
    (84, (6, 1), (3, 4), 1, 1, 4400.0, 0.0, 1, 0.628571428571, 2.4847741475, 0.00648168250741),
    (84, (2, 4), (4, 1), 1, 1, -3000.0, 0.0, 1, -0.0428571428571, 0.342138602805, 0.36612329384),
    (84, (1, 2), (3, 5), 1, 2, 2400.0, 0.0, 0, 0.0, 0.0, 0.452970752343),
    (82, (4, 1), (1, 2), 1, 1, 6000.0, 0.0, 1, 0.0714285714286, 0.62101442393, 0.267295066429),
    (82, (6, 4), (2, 1), 1, 1, 6000.0, 0.0, 3, 0.333333333333, 1.75876782115, 0.0393084762499),
    (82, (1, 4), (5, 1), 2, 2, 33540.0,
      34371.8592965, 4, 0.0484035087719, -0.122623743445, 0.902405051785),
    (84, (1, 1), (1, 2), 1, 1, -2400.0, 0.0, 4, 0.0555555555556, -0.219243318827, 0.413230256344),
    (84, (1, 1), (1, 4), 1, 1, 108600.0,
      108000.0, 4, -0.0047619047619, -0.041241419724, 0.48355171679),
    (84, (1, 1), (1, 6), 1, 1, 3000.0, 0.0, 2, -0.277777777778, -0.566906014204, 0.285389018933),
    (84, (1, 2), (1, 1), 1, 1, 2400.0, 0.0, 0, 0.0, 0.0, 0.413230256344),
    (84, (1, 4), (1, 1), 1, 1, 108600.0,
      108000.0, 3, 0.0047619047619, 0.041241419724, 0.48355171679),
    (84, (1, 4), (1, 5), 1, 1, -1800.0, 0.0, 1, -0.0428571428571, 0.276655853975, 0.391022186295),
    (84, (1, 4), (1, 6), 1, 1, 15600.0,
      18000.0, 3, -0.114285714286, 0.515105167256, 0.303239766041),
    (84, (1, 5), (1, 4), 1, 1, 1800.0, 0.0, 1, 0.0428571428571, 0.276655853975, 0.391022186295),
    (84, (1, 5), (3, 1), 1, 1, 14400.0, 14400.0, 3, 0.0, 0.0, 0.5),
    (84, (1, 6), (1, 1), 1, 1, -3000.0, 0.0, 2, 0.277777777778, -0.566906014204, 0.285389018933),
    (84, (3, 1), (1, 5), 1, 1, 14400.0, 14400.0, 4, 0.0, 0.0, 0.5),
    (84, (3, 5), (5, 5), 1, 1, 0.0, 0.0, 2, 0.0, 0.0, 0.5),
    (82, (1, 2), (1, 3), 1, 1, 0.0, 0.0, 1, 0.0, 0.0, 0.5),
]


def _sequence(codes: str) -> Sequences:
    return Sequences.from_sequences({"act": [[LABELS[int(c) - 1] for c in codes]]},
                                    codes={"act": LABELS})


SEQUENCES = {84: _sequence(WAMPOLD_1984), 82: _sequence(WAMPOLD_1982)}


def _paradom_cells(seqs: Sequences, lag: int, tails: int) -> dict[str, np.ndarray]:
    """Every cell (i, j) of paradom's matrices through the public dominance_test."""
    out = {name: np.zeros((6, 6)) for name in PARADOM_1984}
    for i, a in enumerate(LABELS):
        for j, b in enumerate(LABELS):
            res = dominance_test(seqs, a, b, lag=lag, tails=tails)
            for name in out:
                out[name][i, j] = res.attrs[name]
    return out


@pytest.mark.parametrize(("data", "lag", "tails", "want"), [
    (84, 1, 1, PARADOM_1984),
    (82, 2, 2, PARADOM_1982_LAG2),
])
def test_parallel_dominance_equals_lagsequential_paradom(data, lag, tails, want):
    got = _paradom_cells(SEQUENCES[data], lag, tails)
    for name, values in want.items():
        np.testing.assert_allclose(got[name], np.asarray(values, dtype=float), rtol=0,
                                   atol=1e-6, err_msg=name)


def test_dominance_table_of_a_frequency_matrix_equals_paradom():
    # paradom(freqs) of a matrix: n_i = row totals, n = N + 1 (p_j from the row totals)
    assert (count_table(SEQUENCES[84], "act", "act").values == FREQS_1984).all()
    ds = dominance_table(FREQS_1984)
    for name, values in PARADOM_MATRIX.items():
        np.testing.assert_allclose(ds[name].values, np.asarray(values, dtype=float), rtol=0,
                                   atol=1e-6, err_msg=name)
    assert ds.attrs["n"] == FREQS_1984.sum() + 1


def test_rd_example_printed_values():
    # man/paradom.Rd and man/nonparadom.Rd print (rounded): HNeu -> HPos kappa 0.75,
    # z -2.58, p 0.00; nonparallel WNeg -> HPos vs HNeg -> WPos: Case 1, kappa = 0.63,
    # z = 2.485, p = 0.00648.
    par = dominance_test(SEQUENCES[84], "HNeu", "HPos")
    assert (par.attrs["case"], round(par.attrs["kappa"], 2), round(par.attrs["z"], 2)) == (
        4, 0.75, -2.58)
    non = dominance_test(SEQUENCES[84], ("WNeg", "HPos"), ("HNeg", "WPos"), kind="nonparallel")
    assert non.attrs["case_description"] == "WNeg increases HPos and HNeg increases WPos"
    assert (round(non.attrs["kappa"], 2), round(non.attrs["z"], 3),
            round(non.attrs["p"], 5)) == (0.63, 2.485, 0.00648)
    assert list(non.transition.values) == ["WNeg -> HPos", "HNeg -> WPos"]
    assert list(non["counts"].values) == [8, 6]
    assert list(non["given_freq"].values) == [10, 20]


@pytest.mark.parametrize("row", NONPARADOM, ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in NONPARADOM])
def test_nonparallel_dominance_equals_lagsequential_nonparadom(row):
    data, (i, j), (k, m), lag, tails, obs, ett, case, kappa, z, p = row
    first = (LABELS[i - 1], LABELS[j - 1])
    second = (LABELS[k - 1], LABELS[m - 1])
    res = dominance_test(SEQUENCES[data], first, second, lag=lag, kind="nonparallel",
                         tails=tails)
    assert res.attrs["case"] == case
    got = [res.attrs[name] for name in ("dom_counts", "dom_expected", "kappa", "z", "p")]
    np.testing.assert_allclose(got, [obs, ett, kappa, z, p], rtol=1e-9, atol=1e-9)


def test_arrays_broadcast_over_leading_dims():
    tables = np.stack([FREQS_1984, FREQS_1984.T])
    nr = tables.sum(-1)
    par = dominance_arrays(tables, nr, nr.sum(-1) + 1)
    single = dominance_arrays(FREQS_1984, nr[0], nr[0].sum() + 1)
    for name, value in single.items():
        np.testing.assert_array_equal(par[name][0], value)
    non = nonparallel_dominance_arrays(tables, nr, nr.sum(-1) + 1, (5, 0), (2, 3))
    assert non["kappa"].shape == (2,) and non["expected"].shape == (2, 2)


def test_by_dyad_equals_each_dyad_alone():
    seqs = Sequences.from_sequences(
        {"act": [[LABELS[int(c) - 1] for c in s] for s in (WAMPOLD_1984, WAMPOLD_1982)]},
        dyads=["d84", "d82"], codes={"act": LABELS})
    for kind, a, b in (("parallel", "HPos", "WPos"),
                       ("nonparallel", ("WNeg", "HPos"), ("HNeg", "WPos"))):
        res = dominance_test(seqs, a, b, kind=kind, by="dyad")
        assert res["kappa"].dims == ("unit",)
        for unit, data in (("d84", 84), ("d82", 82)):
            alone = dominance_test(SEQUENCES[data], a, b, kind=kind)
            for name in ("case", "kappa", "z", "p", "dom_counts", "n"):
                assert float(res[name].sel(unit=unit)) == pytest.approx(alone.attrs[name])
            np.testing.assert_array_equal(res["counts"].sel(unit=unit), alone["counts"])


def test_blocks_each_add_their_last_code():
    # two sessions: n_i = row totals + one per session ending in i (n = N + 2)
    seqs = Sequences.from_sequences({"act": [list("abab"), list("bbab")]})
    res = dominance_test(seqs, "a", "b")
    assert res.attrs["n"] == 8
    assert list(res["given_freq"].values) == [3, 5]


def test_undefined_when_a_code_never_occurs():
    seqs = Sequences.from_sequences({"act": [list("abab")]}, codes={"act": ["a", "b", "c"]})
    res = dominance_test(seqs, "a", "c")
    assert res.attrs["case"] == -1 and np.isnan(res.attrs["kappa"])
    assert "undefined" in res.attrs["case_description"]


def test_bad_input_raises():
    seqs = Sequences.from_sequences({"act": [list("abcab")], "other": [list("xyxyx")],
                                     "flag": [[0, 1, 0, 1, 1]]})
    with pytest.raises(LagnestDataError, match="kind must be"):
        dominance_test(seqs, "a", "b", kind="sideways")
    with pytest.raises(LagnestDataError, match="two codes"):
        dominance_test(seqs, ("a", "b"), "c")
    with pytest.raises(LagnestDataError, match="pair of codes"):
        dominance_test(seqs, "a", ("b", "c"), kind="nonparallel")
    with pytest.raises(LagnestDataError, match="one stream"):
        dominance_test(seqs, "a", "x")
    with pytest.raises(LagnestDataError, match="names a stream"):
        dominance_test(seqs, "act", "a")
    with pytest.raises(LagnestDataError, match="indicator"):
        dominance_test(seqs, "flag", "a")
    with pytest.raises(LagnestDataError, match="tails"):
        dominance_test(seqs, "a", "b", tails=3)
    with pytest.raises(LagnestDataError, match="square"):
        dominance_table(np.ones((2, 3)))
    with pytest.raises(LagnestDataError, match="code_freqs"):
        dominance_table(np.ones((2, 2)), code_freqs=[1, 2, 3])

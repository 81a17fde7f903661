import pandas as pd
import pytest

import lagnest.datasets.__main__ as regenerate
from lagnest import datasets
from lagnest.io.table import read_table

KINDS = ("thesis", "turns")


@pytest.fixture(scope="module")
def loaded():
    """Each example read from the shipped files once."""
    return {kind: datasets.load_example(kind) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_load_example_equals_fresh_simulation_and_truth(kind, loaded):
    seqs = loaded[kind]
    fresh, truth = datasets.simulate_example(kind)
    assert seqs == fresh
    pd.testing.assert_frame_equal(seqs.dyads, fresh.dyads)
    assert datasets.load_truth(kind) == truth
    assert truth.seed == datasets.EXAMPLES[kind].seed


@pytest.mark.parametrize("kind", KINDS)
def test_shipped_files_read_back_through_read_table(kind, loaded):
    files = datasets.example_files(kind)
    seqs = read_table(
        files["segments"],
        sessions=files["sessions"],
        dyads=files["dyads"],
        codebook=datasets.CODEBOOK,
    )
    example = loaded[kind]
    assert seqs.fingerprint == example.fingerprint
    # without the dyads file the dyad covariates are missing, and the fingerprint says so
    no_dyads = read_table(files["segments"], sessions=files["sessions"], codebook=datasets.CODEBOOK)
    assert no_dyads.fingerprint != example.fingerprint
    # read_table keeps covariates the codebook does not declare as text
    pd.testing.assert_frame_equal(
        seqs.sessions.drop(columns="dyad").apply(pd.to_numeric),
        example.sessions.drop(columns="dyad"),
        check_dtype=False,
    )


def test_thesis_example_design(loaded):
    seqs = loaded["thesis"]
    assert seqs.n_dyads == 6
    assert seqs.dyads["n_sessions"].between(6, 10).all()
    assert (seqs.sessions["n_segments"] == 10).all()


def test_regenerated_files_are_byte_identical(tmp_path):
    written = datasets.write_example_files(tmp_path)
    shipped = datasets.example_files("thesis") | {
        f"turns_{k}": v for k, v in datasets.example_files("turns").items()
    }
    assert len(written) == len(shipped) == 8
    for path in written:
        assert path.read_bytes() == (shipped["segments"].parent / path.name).read_bytes(), path
    assert regenerate.main(["--check"]) == 0


def test_files_are_small_and_documented():
    files = datasets.example_files("turns")
    assert files["segments"].stat().st_size < 2_000_000
    card = (files["segments"].parent / "README.md").read_text(encoding="utf-8")
    for kind, ex in datasets.EXAMPLES.items():
        assert f"{kind}_segments.csv" in card and str(ex.seed) in card


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown example"):
        datasets.load_example("nope")

"""The classical statistics (GSEQ / O'Connor conventions), as labelled Datasets.

The classical statistics (GSEQ / O'Connor conventions), returned as labelled Datasets:
lag tables and their statistics, homogeneity and stationarity tests, pattern tables,
permutation tests, Wampold's kappas and tests of dominance, observer agreement, and
time-unit tables of timed events (GSEQ's windows) with their permutation test.
Importing it registers the ``ds.lagnest`` accessor (:mod:`lagnest.classical.text`).
"""

from lagnest.classical.agreement import agreement
from lagnest.classical.dominance import dominance_table, dominance_test
from lagnest.classical.lagtable import count_table, homogeneity_test, lag_table, per_unit_indices
from lagnest.classical.multirater import (
    coder_agreement,
    fleiss_kappa,
    icc,
    krippendorff_alpha,
    pairwise_agreement,
)
from lagnest.classical.patterns import PatternTable, pattern_counts
from lagnest.classical.permutation import permutation_test
from lagnest.classical.stationarity import stationarity_test
from lagnest.classical.statistics import table_statistics
from lagnest.classical.text import format_lag_table
from lagnest.classical.timed import TimeWindow, timed_permutation_test, timed_table
from lagnest.classical.wampold import wampold_kappa, wampold_kappa_table

__all__ = [
    "PatternTable",
    "TimeWindow",
    "agreement",
    "coder_agreement",
    "count_table",
    "dominance_table",
    "dominance_test",
    "fleiss_kappa",
    "format_lag_table",
    "homogeneity_test",
    "icc",
    "krippendorff_alpha",
    "lag_table",
    "pairwise_agreement",
    "pattern_counts",
    "per_unit_indices",
    "permutation_test",
    "stationarity_test",
    "table_statistics",
    "timed_permutation_test",
    "timed_table",
    "wampold_kappa",
    "wampold_kappa_table",
]

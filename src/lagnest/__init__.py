"""lagnest: Bayesian lag-sequential analysis of coded sequences (dyad > session > segment)."""

from lagnest import datasets, simulate
from lagnest.codebook import Codebook, available_codebooks, load_codebook
from lagnest.errors import LagnestDataError
from lagnest.io import convert, read_boris, read_sdis, read_table, write_sdis, write_table
from lagnest.sequences import Encoded, Sequences, StreamData

__version__ = "0.1.0"

__all__ = [
    "Codebook",
    "Encoded",
    "LagnestDataError",
    "Sequences",
    "StreamData",
    "__version__",
    "available_codebooks",
    "convert",
    "datasets",
    "load_codebook",
    "read_boris",
    "read_sdis",
    "read_table",
    "simulate",
    "write_sdis",
    "write_table",
]

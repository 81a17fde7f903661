"""Readers and writers: every reader returns a `Sequences`."""

from lagnest.io.boris import read_boris
from lagnest.io.convert import convert
from lagnest.io.sdis import read_sdis
from lagnest.io.sdis_write import write_sdis
from lagnest.io.table import read_table, write_table

__all__ = ["convert", "read_boris", "read_sdis", "read_table", "write_sdis", "write_table"]

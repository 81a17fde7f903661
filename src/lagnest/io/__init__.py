"""Readers and writers: every reader returns a `Sequences`."""

from lagnest.io.table import read_table, write_table

__all__ = ["read_table", "write_table"]

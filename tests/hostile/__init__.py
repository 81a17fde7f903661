"""Hostile inputs for every way into lagnest, each run in a capped subprocess."""

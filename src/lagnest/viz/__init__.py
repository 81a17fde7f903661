"""The top floor: figures and the self-contained HTML report.

The top floor: figures (:mod:`lagnest.viz.plots`) and the self-contained HTML report
(:mod:`lagnest.viz.report`). It consumes results and computes no statistic; nothing below
imports it (lower layers reach the figures through the slots of :mod:`lagnest._hooks`).
"""

from lagnest.viz import plots
from lagnest.viz.report import Report, write_report

__all__ = ["Report", "plots", "write_report"]

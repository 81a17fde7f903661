"""One self-contained HTML report per run: data, lag tables, analyses, checks, provenance.

The report is the top floor of lagnest: it lays out what other modules computed (a
corpus summary, lag tables from :func:`lagnest.lag_table`, fitted results and their
summaries, predictive checks from ``result.ppc()``, sampler diagnostics, the specs and
package versions) and draws figures with :mod:`lagnest.viz.plots`; it computes no statistic
itself. The page is one HTML file with inline CSS and every figure embedded as a base64
PNG: no network, no JavaScript. Each figure is also written as a PNG into a folder beside
the HTML (``figures/`` by default). Every file is written atomically.

Build a report in one call with :func:`write_report`, or piece by piece with
:class:`Report`::

    import lagnest as ln
    from lagnest.viz.report import write_report

    seqs = ln.datasets.load_example()
    result = ln.from_spec("mia_to_rupture", seqs).fit(seed=1)
    write_report("report.html", seqs,
                 results={"mia_to_rupture": result},
                 checks={"mia_to_rupture": result.ppc(seed=1)},
                 tables={"MIA4 -> rupture": ln.lag_table(seqs, "MIA4", "rupture")})
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
import platform
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lagnest._files import atomic_write
from lagnest._lang import (
    check_lang,
    code_label,
    column_name,
    group_word,
    reword,
    translate,
)
from lagnest._summaries import CI_PROB

if TYPE_CHECKING:
    import xarray as xr

    from lagnest.checks.ppc import PredictiveCheck
    from lagnest.data.codebook import Codebook
    from lagnest.data.sequences import Sequences
    from lagnest.models.result import FitResult
    from lagnest.models.spec import ModelSpec

__all__ = ["SECTIONS", "Report", "write_report"]

#: Section ids of the page, in order, with their (English) headings; the Spanish ones are
#: in ``lagnest._lang`` (``section.<id>``).
SECTIONS = {
    "overview": "Key figures",
    "data": "Data",
    "lag-tables": "Lag tables",
    "analyses": "Analyses",
    "checks": "Posterior predictive checks",
    "diagnostics": "Sampler diagnostics",
    "specs": "Specifications",
    "versions": "Versions",
}
#: Figure kinds shown together at the top of the page (the first of each kind).
KEY_FIGURES = ("heatmap", "diagram", "forest")
#: Most PPC panels drawn per analysis.
PPC_PANELS = 12
#: Parameters listed in the diagnostics table of each fit (worst first).
WORST_PARAMETERS = 8

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0 auto; max-width: 1280px; padding: 0 1.5rem 3rem; color: #1f2328;
       line-height: 1.45; }
header { border-bottom: 2px solid #d0d7de; margin-bottom: 0.5rem; }
h1 { margin: 1.2rem 0 0.2rem; font-size: 1.7rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; }
h3 { margin-top: 1.6rem; }
.meta { color: #57606a; margin: 0.2rem 0 0.8rem; font-size: 0.92rem; }
nav ol { display: flex; flex-wrap: wrap; gap: 0.3rem 1.4rem; list-style: none; padding: 0;
         margin: 0.4rem 0; font-size: 0.95rem; }
a { color: #0969da; text-decoration: none; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 0.7rem;
      overflow-x: auto; font-size: 0.82rem; line-height: 1.3; }
table { border-collapse: collapse; font-size: 0.82rem; margin: 0.6rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f6f8fa; }
figure { margin: 0.8rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #57606a; font-size: 0.85rem; margin-top: 0.2rem; }
.row { display: flex; flex-wrap: wrap; gap: 1.2rem; align-items: flex-start; }
.row > figure { flex: 1 1 420px; }
.key { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 0.9fr) minmax(0, 1.5fr);
       gap: 1rem; align-items: start; }
.key figure { margin: 0; }
.key img { width: 100%; max-height: 480px; object-fit: contain; }
pre.wrap { white-space: pre-wrap; }
.note { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px;
        padding: 0.5rem 0.8rem; }
.ok { color: #1a7f37; font-weight: 600; }
.failed { color: #cf222e; font-weight: 600; }
.summary p { margin: 0.2rem 0; }
.pvalue { white-space: nowrap; }
"""


@dataclass(frozen=True)
class ReportFigure:
    """One figure of a report, rendered to PNG.

    Attributes
    ----------
    name : str
        File stem (unique within the report; also the element id ``fig-<name>``).
    caption : str
        What the figure shows.
    png : bytes
        The PNG file's bytes.
    kind : str
        ``"heatmap"``, ``"diagram"``, ``"forest"``, ``"ppc"`` or ``"other"``.
    caption_html : str
        The caption as HTML, when it holds markup (a classical p-value marked with
        :func:`_pvalue`); default the escaped ``caption``.
    """

    name: str
    caption: str
    png: bytes
    kind: str = "other"
    caption_html: str = ""

    def html(self, anchor: bool = True) -> str:
        """The ``<figure>`` element with the PNG embedded as a data URI."""
        data = base64.b64encode(self.png).decode("ascii")
        ident = f' id="fig-{self.name}"' if anchor else ""
        caption = html.escape(self.caption)
        image = (f'<img src="data:image/png;base64,{data}" alt="{caption}" '
                 f'data-figure="{self.name}">')
        if not anchor:
            image = f'<a href="#fig-{self.name}">{image}</a>'
        shown = self.caption_html or caption
        return f"<figure{ident}>{image}<figcaption>{shown}</figcaption></figure>"


def _slug(text: str) -> str:
    """A file- and id-safe name."""
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug or "figure"


def _pre(text: str) -> str:
    return f"<pre>{html.escape(str(text))}</pre>"


def _p(text: str, cls: str | None = None) -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(str(text))}</p>"


#: A classical p-value statement in text: "p = 0.036", "p < 0.05" (escaped or not).
_P_STATEMENT = re.compile(r"(?<![\w(])p (?:=|<|&lt;|>|&gt;) \d*\.?\d+")


def _p_text(p: float) -> str:
    """A classical p-value as a statement: ``p = 0.036``, ``p < 0.001``."""
    return "p < 0.001" if float(p) < 0.001 else f"p = {float(p):.3f}"


def _pvalue(text: str) -> str:
    """``text`` (a classical p-value statement) escaped and marked ``class="pvalue"``.

    The page's vocabulary: a bare "p" is a classical p-value and appears only inside this
    mark; a transitional probability is "prob" or P(target | given), a posterior
    predictive p-value "ppp" (tests/test_vocabulary.py checks the rendered page).
    """
    return f'<span class="pvalue">{html.escape(text)}</span>'


def _classical_pre(text: str) -> str:
    """Text of a classical statistic (a lag table) in ``<pre>``, its p-values marked."""
    escaped = html.escape(str(text))
    return "<pre>" + _P_STATEMENT.sub(
        lambda m: f'<span class="pvalue">{m.group(0)}</span>', escaped) + "</pre>"


def _frame_html(frame: pd.DataFrame, float_format: str = "{:.3f}", index: bool = True) -> str:
    """A DataFrame as an HTML table (values escaped)."""
    return frame.to_html(float_format=float_format.format, index=index, border=0,
                         na_rep="-", escape=True)


class Report:
    """Build a report section by section, then :meth:`write` it.

    Parameters
    ----------
    title : str, optional
        Page title (default "lagnest report"; "Informe de lagnest" in Spanish).
    subtitle : str, optional
        A line under the title (e.g. the corpus or the command run).
    dpi : int, default 110
        Resolution of the PNG figures.
    lang : {"en", "es"}, default "en"
        Language of the page: headings, captions, notes, table column names, the
        summaries (``result.summary(lang=...)``) and the figures. In Spanish, codes show
        their codebook labels and the data section lists the codes with their labels.
    codebook : Codebook, optional
        Where Spanish code labels come from; default the codebook of the corpus given to
        :meth:`add_data`.

    Examples
    --------
    >>> import lagnest as ln
    >>> from lagnest.viz.report import Report
    >>> seqs = ln.datasets.load_example()
    >>> report = Report("Example corpus").add_data(seqs)
    >>> report = report.add_lag_table(ln.lag_table(seqs, "rupture", "resolution"))
    >>> '<h2 id="data">Data</h2>' in report.to_html()
    True
    """

    def __init__(self, title: str | None = None, subtitle: str = "", dpi: int = 110, *,
                 lang: str = "en", codebook: Codebook | None = None):
        self.lang = check_lang(lang)
        self.codebook = codebook
        self.title = translate("report.title", self.lang) if title is None else title
        self.subtitle = subtitle
        self.dpi = int(dpi)
        self._codes: dict[str, None] = {}
        self.figures: list[ReportFigure] = []
        self._sections: dict[str, list[str]] = {key: [] for key in SECTIONS}
        self._versions: dict[str, Mapping[str, Any]] = {}

    # ------------------------------------------------------------------ figures
    def add_figure(self, figure: Any, name: str, caption: str, kind: str = "other",
                   caption_html: str = "") -> ReportFigure:
        """Render a matplotlib figure to PNG, close it and keep it (not placed on the page).

        Parameters
        ----------
        figure : matplotlib.figure.Figure
            The figure (closed after rendering).
        name : str
            File stem; made unique within the report.
        caption : str
            What the figure shows.
        kind : str, default "other"
            ``"heatmap"``, ``"diagram"`` or ``"forest"`` also put the first figure of that
            kind among the key figures at the top of the page.
        caption_html : str, optional
            The caption as HTML (when it marks a classical p-value); default ``caption``
            escaped.

        Returns
        -------
        ReportFigure
            Place it with ``figure.html()``.
        """
        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        try:
            figure.savefig(buffer, format="png", dpi=self.dpi, bbox_inches="tight",
                           facecolor="white")
        finally:
            plt.close(figure)
        stem, taken = _slug(name), {f.name for f in self.figures}
        unique, k = stem, 2
        while unique in taken:
            unique, k = f"{stem}_{k}", k + 1
        item = ReportFigure(unique, caption, buffer.getvalue(), kind, caption_html)
        self.figures.append(item)
        return item

    def _place(self, section: str, *parts: str) -> None:
        self._sections[section].extend(parts)

    def _say(self, key: str, **fields: Any) -> str:
        """The catalogue's text of ``key`` in the page's language."""
        return translate(key, self.lang, **fields)

    def _label(self, code: Any) -> str:
        """How the page shows a code (its codebook label in Spanish); noted for the list."""
        self._codes.setdefault(str(code))
        return code_label(code, self.lang, self.codebook)

    def _note_codes(self, codes: Iterable[Any]) -> None:
        for code in codes:
            self._codes.setdefault(str(code))

    # ------------------------------------------------------------------ sections
    def add_data(self, seqs: Sequences, description: str = "") -> Report:
        """Data section: the corpus summary (``seqs.summary()``).

        Parameters
        ----------
        seqs : Sequences
            The corpus analysed.
        description : str, optional
            Where the data come from.

        Returns
        -------
        Report
            ``self``, for chaining.
        """
        if self.codebook is None:
            self.codebook = seqs.codebook
        if description:
            self._place("data", _p(description))
        text = seqs.summary() if self.lang == "en" else seqs.summary(lang=self.lang)
        self._place("data", _pre(text).replace("<pre>", '<pre class="wrap">', 1),
                    _p(self._say("fingerprint", fingerprint=seqs.fingerprint), "meta"))
        return self

    def add_lag_table(self, table: xr.Dataset, title: str | None = None, *,
                      diagram: bool = True, alpha: float = 0.05) -> Report:
        """Lag-table section: heatmap of adjusted residuals, transition diagram, text table.

        Parameters
        ----------
        table : xarray.Dataset
            A lag table from :func:`lagnest.lag_table`.
        title : str, optional
            Heading (default from the table's attrs: given, target, lag).
        diagram : bool, default True
            Also draw the transition diagram of the table
            (:func:`lagnest.viz.plots.transition_diagram`, arrows by lift).
        alpha : float, default 0.05
            Significance level of the marked cells.

        Returns
        -------
        Report
        """
        from lagnest.classical.text import format_lag_table
        from lagnest.viz.plots import lag_table_heatmap, transition_diagram

        attrs = table.attrs
        lang, book = self.lang, self.codebook
        self._note_codes([*table["given"].values, *table["target"].values])
        if title is None:
            given, target = attrs.get("given", "given"), attrs.get("target", "target")
            title = self._say("table.title", given=self._label(given),
                              target=self._label(target), lag=attrs.get("lag", "?"))
        lead = self._say("table.caption", title=title)
        level = f"p < {alpha:g}"
        two_sided = self._say("two_sided")
        figs = [self.add_figure(
            lag_table_heatmap(table, alpha=alpha, lang=lang, codebook=book).figure,
            f"heatmap {title}", f"{lead}{level}{two_sided}", "heatmap",
            caption_html=f"{html.escape(lead)}{_pvalue(level)}{html.escape(two_sided)}")]
        if diagram:
            figs.append(self.add_figure(
                transition_diagram(table, alpha=alpha, lang=lang, codebook=book).figure,
                f"diagram {title}", self._say("diagram.caption", title=title), "diagram"))
        self._place("lag-tables", f"<h3>{html.escape(title)}</h3>",
                    '<div class="row">' + "".join(f.html() for f in figs) + "</div>",
                    _classical_pre(format_lag_table(table, alpha=alpha) if lang == "en" else
                                   format_lag_table(table, alpha=alpha, lang=lang,
                                                    codebook=book)))
        return self

    def add_table_tests(self, tests: Mapping[str, xr.Dataset]) -> Report:
        """The sequential tests of the last lag table: stationarity and dominance.

        Parameters
        ----------
        tests : mapping
            ``"stationarity"``: a :func:`lagnest.stationarity_test` result (G², df, p of
            equal transitional probabilities across the parts of the sessions);
            ``"dominance"``: a :func:`lagnest.dominance_test` result (case, kappa, z, p).
            Computed by the caller (:func:`lagnest.demo.table_tests`); drawn here as text
            with each classical p-value marked.

        Returns
        -------
        Report
        """
        parts = []
        st = tests.get("stationarity")
        if st is not None:
            a = st.attrs
            head = self._say("test.stationarity", by=self._say(f"by.{a.get('by', 'half')}"),
                             parts=a.get("n_parts", 2), G2=f"{float(a['G2']):.2f}",
                             df=a["df"])
            parts.append(f"<p>{html.escape(head)} {_pvalue(_p_text(a['p']))}.</p>")
        dom = tests.get("dominance")
        if dom is not None:
            a = dom.attrs
            given, target = (str(v) for v in dom["given"].values[:2])
            head = self._say("test.dominance", a=self._label(given), b=self._label(target),
                             case=a["case"], kappa=f"{float(a['kappa']):.3f}",
                             z=f"{float(a['z']):.2f}")
            parts.append(f"<p>{html.escape(head)} {_pvalue(_p_text(a['p']))}"
                         f"{html.escape(self._say('test.dominance_tail'))}</p>")
        if parts:
            self._place("lag-tables", *parts)
        return self

    def add_analysis(
        self,
        name: str,
        result: FitResult | None = None,
        *,
        check: PredictiveCheck | None = None,
        spec: ModelSpec | str | None = None,
        description: str = "",
        skipped: str = "",
    ) -> Report:
        """One analysis: its summary and forest plots, check, diagnostics, spec, versions.

        Parameters
        ----------
        name : str
            Name of the analysis (e.g. the spec's name).
        result : FitResult, optional
            The fit; its ``summary()`` must return a
            :class:`~lagnest.models.ResultSummary` (any model family).
        check : lagnest.checks.ppc.PredictiveCheck, optional
            Its posterior predictive check (``result.ppc()``).
        spec : ModelSpec or str, optional
            The spec (its TOML file is shown) or the TOML text.
        description : str, optional
            What the analysis asks (default the spec's description).
        skipped : str, optional
            Why the analysis was not run (shown instead of results).

        Returns
        -------
        Report
        """
        toml_text, spec_path = _spec_text(spec)
        if not description and spec is not None and not isinstance(spec, str):
            description = (spec.description if self.lang == "en"
                           else spec.describe(self.lang))
        anchor = _slug(name)
        head = [f'<h3 id="analysis-{anchor}">{html.escape(name)}</h3>']
        if description:
            head.append(_p(description))
        if spec_path:
            head.append(_p(self._say("spec.path", path=spec_path), "meta"))
        self._place("analyses", *head)
        if skipped or result is None:
            self._place("analyses", _p(self._say("not_run", why=skipped or self._say(
                "no_result")), "note"))
        else:
            self._place("analyses", *_structure_html(result, self.lang))
            summary = self._summary(result)
            self._place("analyses", f'<div class="summary">{summary._repr_html_()}</div>')
            forests = _forest_figures(self, result, name)
            if forests:
                self._place("analyses", *(f.html() for f in forests))
            self._add_diagnostics(name, result)
            self._versions[name] = dict(result.config.get("versions") or {})
        if check is not None:
            self._add_check(name, check)
        if toml_text:
            self._place("specs", f"<h3>{html.escape(name)}</h3>",
                        _p(self._say("spec.file", path=spec_path), "meta") if spec_path else "",
                        _pre(toml_text))
        if result is not None and result.config.get("sampler"):
            sampler = {k: (", ".join(f"{o}={w}" for o, w in v.items()) or None
                           if isinstance(v, dict) else v)
                       for k, v in result.config["sampler"].items()
                       if not isinstance(v, list)}  # (options as "name=value" text)
            self._place("specs", _p(self._say("sampler.used", name=name), "meta"),
                        _frame_html(pd.DataFrame([sampler]), "{:.2f}", index=False))
        return self

    def _summary(self, result: FitResult) -> Any:
        """The result's summary in the page's language."""
        if self.lang == "en":
            return result.summary()
        self._note_codes(_result_codes(result))
        return result.summary(lang=self.lang, codebook=self.codebook)

    def add_note(self, text: str, section: str = "analyses") -> Report:
        """A highlighted note in a section (e.g. a shortened demo fit).

        Parameters
        ----------
        text : str
        section : str, default "analyses"
            One of :data:`SECTIONS`.

        Returns
        -------
        Report
        """
        if section not in SECTIONS:
            raise ValueError(f"section must be one of {list(SECTIONS)}, got {section!r}")
        self._place(section, _p(text, "note"))
        return self

    def _add_diagnostics(self, name: str, result: FitResult) -> None:
        diag = result.diagnostics
        self._place("diagnostics", f"<h3>{html.escape(name)}</h3>")
        if diag is None:
            self._place("diagnostics", _p(self._say("diag.none")))
            return
        status = (f'<span class="ok">{html.escape(self._say("diag.ok"))}</span>' if diag.ok
                  else f'<span class="failed">{html.escape(self._say("diag.failed"))}</span>')
        self._place("diagnostics", f"<p>{status}</p>", _pre(diag.text(self.lang)))
        table = diag.table
        if len(table):
            worst = table.sort_values("rhat", ascending=False, na_position="last")
            worst = worst.head(WORST_PARAMETERS).set_index("parameter")
            for column in ("ess_bulk", "ess_tail"):  # effective sample sizes: whole numbers
                if column in worst:
                    worst[column] = worst[column].round().astype("Int64")
            worst.index.name = column_name(worst.index.name, self.lang)
            self._place("diagnostics", _p(self._say("diag.worst", n=len(table)), "meta"),
                        _frame_html(worst))

    def _add_check(self, name: str, check: PredictiveCheck) -> None:
        summary = check.summary()
        flagged = summary[summary["flag"]]
        scalar = summary[summary["element"] == ""]
        omitted = dict(getattr(check, "omitted", {}) or {})
        lang = self.lang
        headline = check.headline() if lang == "en" else check.headline(lang=lang)
        parts = [f"<h3>{html.escape(name)}</h3>",
                 _p(self._say("check.lead", Group=check.group.capitalize(),
                              group_es=group_word(check.group, lang), model=check.model,
                              n=check.replicated.sizes.get("draw", 0),
                              replication=check.replication)),
                 _p(headline + ".", "failed" if len(flagged) else "ok")]
        if omitted:  # statistics the corpus cannot give: said, never shown as passing
            parts.append(_p(self._say("check.omitted") + "; ".join(
                f"{stat}: {reword(why, lang)}" for stat, why in omitted.items()) + ".", "note"))
        columns = ["statistic", "element", "observed", "replicated_mean", "replicated_lower",
                   "replicated_upper", "ppp_two_sided"]

        def shown(frame: pd.DataFrame) -> pd.DataFrame:
            frame = frame[columns]
            return frame if lang == "en" else frame.set_axis(
                [column_name(c, lang) for c in columns], axis=1)

        if len(flagged):
            parts += [_p(self._say("check.flagged"), "meta"),
                      _frame_html(shown(flagged), index=False)]
        if len(scalar):
            parts += [_p(self._say("check.scalar"), "meta"),
                      _frame_html(shown(scalar), index=False)]
        parts.append(_p(self._say("check.columns"), "meta"))
        parts += [_p(n, "meta") for n in check.notes
                  if not any(n.startswith(f"{stat} (") for stat in omitted)]
        try:
            panels = (check.plot(max_panels=PPC_PANELS) if lang == "en"
                      else check.plot(max_panels=PPC_PANELS, lang=lang))
        except (ValueError, KeyError) as err:  # nothing drawable: say so, keep the tables
            parts.append(_p(self._say("check.no_panels", error=err), "meta"))
        else:
            parts.append(self.add_figure(
                panels.figure, f"ppc {name}", self._say("check.caption", name=name),
                "ppc").html())
        self._place("checks", *parts)

    # ------------------------------------------------------------------ output
    def _key_figures(self) -> str:
        chosen = []
        for kind in KEY_FIGURES:
            first = next((f for f in self.figures if f.kind == kind), None)
            if first is not None:
                chosen.append(first.html(anchor=False))
        return '<div class="key">' + "".join(chosen) + "</div>" if chosen else ""

    def _versions_html(self) -> str:
        from lagnest.models._fit import package_versions

        now = self._say("versions.now")
        columns = {now: {**package_versions(), "python": platform.python_version()}}
        columns.update(self._versions)
        frame = pd.DataFrame(columns).fillna("-")
        frame.index.name = self._say("versions.package")
        return _frame_html(frame)

    def _codes_html(self) -> str:
        """The codes shown on the page with their codebook labels (Spanish pages)."""
        book = self.codebook
        if book is None or not hasattr(book, "code_to_stream"):
            return ""
        where = book.code_to_stream
        rows = []
        for code in self._codes:
            bare = code.removeprefix("not ")
            if bare in where and bare not in [r[0] for r in rows]:
                stream = where[bare]
                rows.append((bare, book.label(stream, self.lang), book.label(bare, self.lang)))
        if not rows:
            return ""
        frame = pd.DataFrame(rows, columns=[self._say(f"col.{c}")
                                            for c in ("code", "stream", "label")])
        return (f"<h3>{html.escape(self._say('glossary'))}</h3>"
                + _p(self._say("glossary.lead", name=book.name), "meta")
                + _frame_html(frame, index=False))

    def to_html(self) -> str:
        """The page as one HTML string (figures embedded)."""
        from lagnest._version import __version__

        generated = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        body = [
            "<header>", f"<h1>{html.escape(self.title)}</h1>",
            _p(self.subtitle, "meta") if self.subtitle else "",
            _p(self._say("generated", when=generated, version=__version__), "meta"),
            "</header>",
        ]
        headings = {key: self._say(f"section.{key}") for key in SECTIONS}
        body.append("<nav><ol>" + "".join(f'<li><a href="#{key}">{html.escape(text)}</a></li>'
                                          for key, text in headings.items()) + "</ol></nav>")
        content = dict(self._sections)
        content["overview"] = [self._key_figures()] if self.figures else []
        content["versions"] = [self._versions_html()]
        if self.lang != "en":
            content["data"] = [*content["data"], self._codes_html()]
        for key, heading in headings.items():
            empty = self._say(f"empty.{key}") if key != "versions" else ""
            parts = [p for p in content[key] if p] or [_p(empty, "meta")]
            body.append(f'<section><h2 id="{key}">{html.escape(heading)}</h2>'
                        + "\n".join(parts) + "</section>")
        return (
            f"<!DOCTYPE html>\n<html lang=\"{self.lang}\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
            "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
        )

    def write(self, path: str | os.PathLike[str], figures: str | os.PathLike[str] | None
              = "figures") -> Path:
        """Write the HTML file and each figure as PNG, atomically.

        Parameters
        ----------
        path : path-like
            The HTML file.
        figures : path-like or None, default "figures"
            Folder for the PNG files, relative to the HTML file's folder; None writes
            none. The report's folders are created when missing (a report is a run's
            output folder, like ``lagnest demo``'s).

        Returns
        -------
        pathlib.Path
            The HTML file.
        """
        path = Path(path)
        if figures is not None:
            folder = path.parent / figures
            for fig in self.figures:
                atomic_write(folder / f"{fig.name}.png",
                             lambda tmp, data=fig.png: tmp.write_bytes(data), parents=True)
        text = self.to_html()
        atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), parents=True)
        return path


def _spec_text(spec: Any) -> tuple[str, str]:
    """TOML text and path of a spec (a ModelSpec, TOML text or None)."""
    if spec is None:
        return "", ""
    if isinstance(spec, str):
        return spec, ""
    path = getattr(spec, "path", None)
    if path is not None and Path(path).is_file():
        return Path(path).read_text(encoding="utf-8"), str(path)
    return repr(spec), ""


def _panels(n: int, height: float) -> tuple[Any, np.ndarray]:
    """A row of ``n`` axes sharing the y axis."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(3.6 * n + 1.4, height), sharey=True,
                             layout="constrained", squeeze=False)
    return fig, axes[0]


def _two_dim_forest(report: Report, ds: Any, name: str, row: str, panel: str,
                    xlabel: str, caption: str) -> ReportFigure:
    """Forest plots of a 2-D summary: one panel per ``panel`` value, rows over ``row``."""
    from lagnest.viz.plots import forest

    lang = report.lang
    if lang != "en" and row == "feature":  # regression columns: codes by their labels
        from lagnest._summaries import feature_label

        ds = ds.assign_coords(feature=[feature_label(str(v), lang, report.codebook)
                                       for v in ds["feature"].values])
    values = [str(v) for v in ds[panel].values]
    fig, axes = _panels(len(values), 1.4 + 0.32 * ds.sizes[row])
    for ax, value in zip(axes, values, strict=True):
        title = (f"{panel} = {value}" if lang == "en" else
                 translate("panel", lang, dim=column_name(panel, lang),
                           value=report._label(value)))
        forest(ds.sel({panel: value}), ax=ax, label=row, title=title,
               xlabel=xlabel, legend=False, lang=lang)
    return report.add_figure(fig, f"forest {name}", caption, "forest")


def _forest_figures(report: Report, result: Any, name: str) -> list[ReportFigure]:
    """Forest plots of a result's lagged (or session-level) effects, by model family."""
    figures = []
    ci = "{:.0%}"
    lang, book, say = report.lang, report.codebook, report._say
    if hasattr(result, "viterbi"):  # HiddenMarkovModel
        from lagnest.viz.plots import hmm_emissions, hmm_state_sequence

        figures.append(report.add_figure(
            hmm_emissions(result, lang=lang, codebook=book).figure, f"emissions {name}",
            say("figure.hmm_emissions", name=name), "other"))
        session = result._model.data.session_labels[0]
        figures.append(report.add_figure(
            hmm_state_sequence(result, 0, lang=lang, codebook=book).figure, f"states {name}",
            say("figure.hmm_states", name=name, session=session), "other"))
        if "beta" in result.draws:
            lor = result.log_odds_ratios()
            level = ci.format(float(lor.attrs.get("ci_prob", CI_PROB)))
            figures.append(_two_dim_forest(
                report, lor, name, "feature", "move", say("log_odds_ratio"),
                say("forest.hmm", name=name, level=level)))
    elif hasattr(result, "log_odds_ratios"):  # LaggedRegression
        lor = result.log_odds_ratios()
        level = ci.format(float(lor.attrs.get("ci_prob", CI_PROB)))
        ref = _reference(result, report)
        figures.append(_two_dim_forest(
            report, lor, name, "feature", "category", say("log_odds_ratio"),
            say("forest.regression", name=name, ref=ref, level=level)))
        if "beta_dyad" in result.draws:
            dyad = result.dyad_effects()
            for slope in dyad["slope"].values:
                for category in dyad["category"].values:
                    from lagnest.viz.plots import forest

                    cell = {"category": category}
                    shown = report._label(category)
                    drawn = forest(dyad.sel(slope=slope, **cell), lor.sel(feature=slope, **cell),
                                   label="dyad", xlabel=say("log_odds_ratio"), lang=lang,
                                   title=say("forest.dyad_title", slope=slope, category=shown))
                    figures.append(report.add_figure(
                        drawn.figure, f"forest {name} {slope} {category}",
                        say("forest.regression_dyad", name=name, slope=slope, category=shown),
                        "forest"))
    elif hasattr(result, "lift") and hasattr(result, "transition_probs"):  # TransitionModel
        from lagnest.viz.plots import transition_diagram, transition_forest

        given, target = _clearest_cell(result)
        level = "dyad" if "dyad" in result.levels else None
        if level is not None:
            figures.append(report.add_figure(
                transition_forest(result, given, target, lang=lang, codebook=book).figure,
                f"forest {name}", say("forest.transition", name=name,
                                      given=report._label(given),
                                      target=report._label(target)), "forest"))
        pooled = next((lv for lv in ("population", "typical") if lv in result.levels), None)
        if pooled is not None:
            figures.append(report.add_figure(
                transition_diagram(result, level=pooled, lang=lang, codebook=book).figure,
                f"diagram {name}", say("forest.diagram", name=name), "diagram"))
    elif hasattr(result, "effects"):  # session-level models (SessionImpactModel)
        eff = result.effects()
        dims = list(eff["mean"].dims)
        if len(dims) == 2:
            figures.append(_two_dim_forest(
                report, eff, name, dims[0], dims[1], say("standardised_effect"),
                say("forest.impact", name=name, row=column_name(dims[0], lang),
                    panel=column_name(dims[1], lang))))
    return figures


def _result_codes(result: Any) -> list[str]:
    """Codes a result's summary shows (for the Spanish page's list of codes)."""
    import re

    fit_data = getattr(result, "fit_data", None)
    codes: list[str] = []
    for dim in ("given", "target"):
        if fit_data is not None and dim in getattr(fit_data, "coords", {}):
            codes += [str(v) for v in fit_data[dim].values]
    data = getattr(result, "data", None)
    codes += [str(v) for v in getattr(data, "target_labels", None) or ()]
    for feature in getattr(data, "feature_names", None) or ():
        codes += re.findall(r"[A-Za-z_][\w.-]*", str(feature))
    return codes


def _structure_html(result: Any, lang: str = "en") -> list[str]:
    """A highlighted line when the fit merged or dropped a level it was asked for.

    The summary's header below it gives the levels fitted and every note of the structure.
    """
    structure = getattr(result, "structure", None)
    if structure is None or not structure.removed:
        return []
    return [_p(translate("structure.note", lang, levels=structure.levels_text(lang)), "note")]


def _reference(result: Any, report: Report | None = None) -> str:
    """The reference category of a regression result, for captions."""
    labels = getattr(getattr(result, "data", None), "target_labels", None)
    if report is None or report.lang == "en":
        return repr(labels[0]) if labels else "the reference"
    return repr(report._label(labels[0])) if labels else report._say("the_reference")


def _clearest_cell(result: Any) -> tuple[str, str]:
    """The transition whose population log odds lie farthest from 0 in posterior sds."""
    level = next((lv for lv in ("population", "typical") if lv in result.levels),
                 result.levels[0])
    lo = result.log_odds(level=level)
    score = np.abs(lo["mean"] / lo["sd"]).fillna(-1.0).transpose("given", "target")
    i, j = np.unravel_index(int(np.argmax(score.values)), score.shape)
    return str(lo["given"].values[i]), str(lo["target"].values[j])


def write_report(
    path: str | os.PathLike[str],
    seqs: Sequences | None = None,
    results: Mapping[str, FitResult] | None = None,
    checks: Mapping[str, PredictiveCheck] | None = None,
    tables: Mapping[str, xr.Dataset] | Iterable[xr.Dataset] | None = None,
    specs: Mapping[str, ModelSpec | str] | None = None,
    *,
    table_tests: Mapping[str, Mapping[str, xr.Dataset]] | None = None,
    skipped: Mapping[str, str] | None = None,
    notes: Iterable[str] = (),
    title: str | None = None,
    subtitle: str = "",
    figures: str | os.PathLike[str] | None = "figures",
    lang: str = "en",
    codebook: Codebook | None = None,
) -> Path:
    """Write one self-contained HTML report (and its figures as PNG) in one call.

    Parameters
    ----------
    path : path-like
        The HTML file to write.
    seqs : Sequences, optional
        The corpus (data section).
    results : mapping of str to FitResult, optional
        Fitted analyses by name.
    checks : mapping of str to PredictiveCheck, optional
        Their predictive checks, by the same names.
    tables : mapping of str to lag table, or iterable of lag tables, optional
        Lag tables from :func:`lagnest.lag_table` (by heading, or headed by their attrs).
    specs : mapping of str to ModelSpec or TOML text, optional
        The specs of the analyses, by the same names (analyses with a spec but no result
        are listed as not run).
    table_tests : mapping of str to mapping, optional
        By a table's heading, its stationarity and dominance tests
        (:func:`lagnest.demo.table_tests`), shown under the table.
    skipped : mapping of str to str, optional
        Analyses that were not run, with the reason.
    notes : iterable of str
        Notes shown at the top of the analyses (e.g. shortened sampler settings).
    title, subtitle : str
        Page heading (default "lagnest report", "Informe de lagnest" in Spanish) and the
        line under it.
    figures : path-like or None, default "figures"
        Folder for the PNG copies of the figures, relative to the HTML file.
    lang : {"en", "es"}, default "en"
        Language of the page (see :class:`Report`): ``"es"`` writes headings, captions,
        notes, column names, summaries, figures and the analyses' questions (a spec's
        ``description.es``) in Spanish, with codes shown by their codebook labels.
    codebook : Codebook, optional
        Where Spanish code labels come from; default ``seqs.codebook``.

    Returns
    -------
    pathlib.Path
        The HTML file written.
    """
    report = Report(title, subtitle, lang=lang,
                    codebook=codebook if codebook is not None or seqs is None
                    else seqs.codebook)
    if seqs is not None:
        report.add_data(seqs)
    if tables is not None:
        items = tables.items() if isinstance(tables, Mapping) else ((None, t) for t in tables)
        tests = dict(table_tests or {})
        for heading, table in items:
            report.add_lag_table(table, heading)
            if heading in tests:
                report.add_table_tests(tests[heading])
    for note in notes:
        report.add_note(note)
    results, checks, specs = dict(results or {}), dict(checks or {}), dict(specs or {})
    skipped = dict(skipped or {})
    names = list(dict.fromkeys([*specs, *results, *skipped, *checks]))
    for name in names:
        report.add_analysis(name, results.get(name), check=checks.get(name),
                            spec=specs.get(name), skipped=skipped.get(name, ""))
    return report.write(path, figures)

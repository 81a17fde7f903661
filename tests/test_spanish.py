"""Spanish output (issue 22, item 5): summaries, figures, the report and ``lagnest report``.

``lang="es"`` writes headings, captions, column names, the column meanings and the
analyses' questions in Spanish, and shows codes by their codebook labels (named categories
and streams; a manual's identifiers such as ``MIA4`` stay). English stays as it was, and
any other language is refused with a ``ValueError`` that names the two accepted.
"""

from __future__ import annotations

import html
import io
import os
import re
import string

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import matplotlib.text
import pandas as pd
import pytest
from PIL import Image

import lagnest as ln
from lagnest._lang import (
    COLUMNS,
    LANGUAGES,
    WORDS,
    check_lang,
    code_label,
    code_labels,
    translate,
    words,
)
from lagnest._summaries import ResultSummary
from lagnest.classical.text import format_lag_table
from lagnest.viz.plots import forest, lag_table_heatmap, ppc_panels, transition_diagram
from lagnest.viz.report import SECTIONS, Report, write_report
from tests.chromium import Browser, find_chromium
from tests.cli_helpers import run
from tests.test_report import _check_self_contained
from tests.test_vocabulary import P_STATEMENT, _page_text

#: Spanish headings of the page's sections, in order.
HEADINGS_ES = ["Figuras principales", "Datos", "Tablas de retardo", "Análisis",
               "Chequeos predictivos posteriores", "Diagnósticos del muestreador",
               "Especificaciones", "Versiones"]
#: Spanish labels of the rupture codes in the shipped codebook (3rs_2015).
RUPTURE_ES = ["Sin ruptura", "Retirada", "Confrontación", "Retirada y confrontación"]
#: Fixed English texts of the page that the Spanish page must not show.
ENGLISH_ON_PAGE = [
    *SECTIONS.values(), "Generated ", "Data fingerprint", "Lag table ", "Transition diagram",
    "boxed cells are", "Not run:", "Spec:", "Columns:", "Blank cells", "Not printed",
    "Flagged values", "Whole-corpus statistics", "replicated statistics", "checked values",
    "some checks failed", "all checks passed", "Parameters with the largest",
    "sampler settings used", "installed now", ", seed ", "grouping levels",
    "credible interval", "population log odds", "posterior transition diagram",
    "given \\ target", "cells: count", "Sequences:", "averaged over", "bulk ESS", "FAILED",
]


@pytest.fixture(scope="module")
def seqs():
    return ln.datasets.load_example()


@pytest.fixture(scope="module")
def quick():
    """LAGNEST_QUICK=1 for the fits of this module (2 chains x 50 draws)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAGNEST_QUICK", "1")
        yield


@pytest.fixture(scope="module")
def fits(seqs, quick):
    """A quick transition fit and a quick regression fit (a standard spec) with checks."""
    transition = ln.TransitionModel(seqs, "rupture", "rupture").fit(seed=4, warn=False)
    regression = ln.load_spec("mia_to_rupture").build(seqs).fit(seed=3, warn=False)
    checks = {"rupture_transitions": transition.ppc(n_draws=10, seed=1),
              "mia_to_rupture": regression.ppc(n_draws=10, seed=1)}
    return transition, regression, checks


# =========================================================================== catalogue


def test_other_languages_are_refused_naming_the_accepted_ones(seqs):
    table = ln.lag_table(seqs, "rupture", "rupture")
    for call in (lambda: check_lang("fr"), lambda: translate("section.data", "de"),
                 lambda: Report(lang="pt"), lambda: lag_table_heatmap(table, lang="EN"),
                 lambda: transition_diagram(table, lang="español"),
                 lambda: format_lag_table(table, lang="fr"), lambda: seqs.summary(lang="fr"),
                 lambda: ResultSummary("t", table.to_dataframe(), lang="it"),
                 lambda: ln.load_spec("mia_to_rupture").describe("fr")):
        with pytest.raises(ValueError, match="lang must be one of 'en', 'es'"):
            call()
    plt.close("all")


def test_every_entry_has_both_languages_with_the_same_fields():
    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    assert LANGUAGES == ("en", "es")
    for key, (en, es) in WORDS.items():
        assert en and es, key
        # Spanish may name the group as an adjective of its own; no other field differs
        assert fields(es) - {"group_es"} <= fields(en) | {"group_es"}, key
        assert fields(en) - {"Group", "group"} <= fields(es) | {"Group", "group"}, key
    assert words("es")["section.data"] == "Datos" and words("en")["section.data"] == "Data"
    assert all(es for es in COLUMNS.values())


def test_code_labels_come_from_the_codebook(seqs):
    book = seqs.codebook
    codes = ["none", "withdrawal", "confrontation", "both"]
    assert code_labels(codes, "es", book) == RUPTURE_ES
    assert code_labels(codes, "en", book) == codes
    # streams show their label; a manual's identifiers stay; "not X" reads "sin X"
    assert code_label("rupture", "es", book) == "Tipo de ruptura"
    assert code_label("resolution", "es", book) == "Familia de resolución"
    assert code_label("exploratory", "es", book) == "Exploratoria (expresiva)"
    assert code_label("MIA4", "es", book) == "MIA4" and code_label("W1", "es", book) == "W1"
    assert code_label("not MIA4", "es", book) == "sin MIA4"
    assert code_label("not MIA4", "en", book) == "not MIA4"
    # unknown codes, and no codebook: the codes themselves
    assert code_label("silent", "es", book) == "silent"
    assert code_label("withdrawal", "es") == "withdrawal"
    # two codes whose labels would clash keep their codes
    assert code_labels(["none", "NONE"], "es", _Clashing()) == ["none", "NONE"]


class _Clashing:
    def display_label(self, code: str, lang: str) -> str:
        return "igual"


def test_corpus_summary_and_lag_table_text_in_spanish(seqs):
    text = seqs.summary(lang="es")
    assert text.startswith("Secuencias: 6 díadas, 53 sesiones, 530 segmentos")
    assert "Tipo de ruptura (rupture) [categórico] (derivado): Sin ruptura" in text
    assert seqs.summary(lang="en") == seqs.summary()
    table = ln.lag_table(seqs, "MIA4", "rupture")
    es = format_lag_table(table, lang="es", codebook=seqs.codebook)
    assert es.startswith("Tabla de retardo: antecedente MIA4 -> consecuente Tipo de ruptura")
    assert "antecedente \\ consecuente" in es and "sin MIA4" in es
    assert all(label in es for label in RUPTURE_ES) and "(gl 3, p = 0.0360)" in es
    assert "celdas: frecuencia (residuo ajustado); * p < 0.05 (bilateral)" in es
    assert format_lag_table(table, lang="en") == format_lag_table(table)


def test_a_spec_asks_its_question_in_spanish(tmp_path):
    spec = ln.load_spec("mia_to_rupture")
    assert spec.describe("es").startswith("¿Predicen los indicadores de mindfulness")
    assert spec.describe("en") == spec.description and spec.description.startswith("Do the")
    again = ln.models.spec.ModelSpec.from_dict(spec.to_dict())
    assert again.describe("es") == spec.describe("es")
    path = tmp_path / "x.toml"
    path.write_text('[description]\nen = "E"\nfr = "F"\n[model]\ntype = "TransitionModel"\n'
                    'given = "rupture"\ntarget = "rupture"\n')
    with pytest.raises(ln.errors.SpecError, match=r"description\.fr"):
        ln.load_spec(path)


# =========================================================================== summaries


def test_transition_summary_in_spanish(fits, seqs):
    transition = fits[0]
    summary = transition.summary(lang="es", codebook=seqs.codebook)
    text = str(summary)
    assert "Columnas:" in text and "Columns:" not in text
    for column in ("prob_agrupada", "prob_media", "prob_inf", "prob_sup", "Q_media"):
        assert column in summary.table.columns and column in text
    flat = " ".join(text.split())
    assert "su intervalo de credibilidad del 95%" in flat
    assert ("media posterior de P(consecuente | antecedente), promediado sobre nuevas díadas "
            "y sesiones") in flat
    assert "semilla 4" in text and "niveles de agrupación: díada y sesión" in text
    assert "MODO RÁPIDO" in text
    assert list(summary.table.index.names) == ["antecedente", "consecuente"]
    assert set(summary.table.index.get_level_values("consecuente")) == set(RUPTURE_ES)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert not P_STATEMENT.search(text)
    # English is the default and unchanged by the option
    assert str(transition.summary(lang="en")) == str(transition.summary())
    assert "prob_mean" in transition.summary().table.columns


def test_regression_summary_in_spanish(fits, seqs):
    regression = fits[1]
    summary = regression.summary(lang="es", codebook=seqs.codebook)
    text = str(summary)
    assert {"OR_inf", "OR_sup", "EMP", "z_clásico", "Q_clásica"} <= set(summary.table.columns)
    flat = " ".join(text.split())
    assert "razón de odds de la categoría frente a 'Sin ruptura'" in flat
    assert "efecto marginal promedio" in flat and "Celdas en blanco:" in flat
    assert "Tipo de ruptura=Retirada[t-1]" in text and "[primer segmento]" in text
    assert "MIA4[t-1]" in text
    assert set(summary.table.index.get_level_values("categoría")) == set(RUPTURE_ES[1:])
    assert max(len(line) for line in text.splitlines()) <= 100
    assert str(regression.summary(lang="en")) == str(regression.summary())


# =========================================================================== figures


def _texts(fig) -> list[str]:
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]


def test_figures_in_spanish(seqs, fits):
    transition, _, checks = fits
    book = seqs.codebook
    table = ln.lag_table(seqs, "rupture", "rupture")
    heat = _texts(lag_table_heatmap(table, lang="es", codebook=book).figure)
    assert "Tipo de ruptura → Tipo de ruptura, retardo 1" in heat
    assert "antecedente Tipo de ruptura (t)" in heat
    assert "consecuente Tipo de ruptura (t + 1)" in heat
    assert set(RUPTURE_ES) <= set(heat)
    assert any(t.startswith("residuo ajustado z\n(enmarcadas") for t in heat)
    diagram = transition_diagram(table, lang="es", codebook=book)
    assert set(diagram.arrows) and all(g in table["given"].values for g, _ in diagram.arrows)
    texts = _texts(diagram.figure)
    assert set(RUPTURE_ES) <= set(texts) and "otras transiciones" in texts
    assert any("grosor de las flechas: lift" in t for t in texts)
    posterior = _texts(transition_diagram(transition, lang="es", codebook=book).figure)
    assert any("retardo 1, población" in t for t in posterior)
    assert any("el intervalo del 95% del lift excluye el 1" in t for t in posterior)
    lo = transition.log_odds(level="dyad").sel(given="withdrawal", target="withdrawal")
    pooled = transition.log_odds().sel(given="withdrawal", target="withdrawal")
    drawn = _texts(forest(lo, pooled, lang="es").figure)
    assert "agrupado" in drawn and "agrupación parcial (media, intervalo del 95%)" in drawn
    panels = _texts(ppc_panels(checks["rupture_transitions"], max_panels=2, lang="es").figure)
    assert any(t.startswith("Chequeo predictivo posterior: TransitionModel") for t in panels)
    everything = heat + texts + posterior + drawn + panels
    english = ("given", "target", "other transitions", "arrow width", "pooled", "lag ")
    assert not [t for t in everything if any(word in t for word in english)]
    plt.close("all")


# =========================================================================== the report


def _visible_text(page: str) -> str:
    """The page's text outside ``<pre>`` (spec files and sampler diagnostics) and tags."""
    text = re.sub(r"<(style|pre)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", text))


@pytest.fixture(scope="module")
def spanish_report(tmp_path_factory, seqs, fits):
    transition, regression, checks = fits
    path = tmp_path_factory.mktemp("es") / "informe.html"
    write_report(path, seqs, results={"mia_to_rupture": regression,
                                      "rupture_transitions": transition},
                 checks=checks, tables=[ln.lag_table(seqs, "MIA4", "rupture"),
                                        ln.lag_table(seqs, "rupture", "rupture")],
                 specs={"mia_to_rupture": ln.load_spec("mia_to_rupture")},
                 skipped={"state_mindfulness_to_impact": "no corre en esta prueba"},
                 lang="es")
    return path


def test_spanish_report_has_spanish_headings_labels_and_questions(spanish_report):
    page = spanish_report.read_text(encoding="utf-8")
    _check_self_contained(spanish_report)
    assert '<html lang="es">' in page and "<title>Informe de lagnest</title>" in page
    assert re.findall(r'<h2 id="[^"]+">([^<]+)</h2>', page) == [
        html.escape(h) for h in HEADINGS_ES]
    visible = _visible_text(page)
    # code labels from the codebook, the codes list, the question, the summaries
    assert all(label in visible for label in RUPTURE_ES)
    assert "No reactividad / autorregulación bajo presión" in visible  # MIA4, codes list
    assert "Tabla de retardo MIA4 → Tipo de ruptura, retardo 1" in visible
    assert "¿Predicen los indicadores de mindfulness en acción" in visible
    assert "No se corrió: no corre en esta prueba" in visible
    assert "prob_media" in visible and "EMP" in visible and "ppp_bilateral" in visible
    assert "valor p predictivo posterior" in visible
    assert "intervalo de credibilidad del 95%" in visible
    left = [text for text in ENGLISH_ON_PAGE if text in visible]
    assert not left, f"English left on the Spanish page: {left}"
    # one word per meaning in Spanish too: a bare "p" only in marked classical p-values
    unmarked, marked = _page_text(page)
    assert not P_STATEMENT.search(unmarked) and "p < 0.05" in marked


def test_english_report_is_unchanged_by_the_option(tmp_path, seqs):
    tables = [ln.lag_table(seqs, "rupture", "rupture")]

    def page(**kwargs):
        path = write_report(tmp_path / f"{len(kwargs)}" / "r.html", seqs, tables=tables,
                            **kwargs)
        text = path.read_text(encoding="utf-8")
        return re.sub(r"Generated [^<]+ by", "Generated by", text)

    assert page() == page(lang="en")
    assert '<html lang="en">' in page() and "<h2 id=\"lag-tables\">Lag tables</h2>" in page()


def test_spanish_report_renders_in_headless_chromium(spanish_report, tmp_path):
    binary = find_chromium()
    if binary is None:
        message = ("chromium is not installed (Debian: apt-get install chromium; .ci/run "
                   "installs it)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with Browser(binary) as browser:
        page = browser.load(spanish_report, screenshot=True)
    assert page.title == "Informe de lagnest"
    assert page.sections == list(SECTIONS) and page.headings == HEADINGS_ES
    assert page.errors == []
    assert page.images and all(i["complete"] and i["width"] > 100 for i in page.images)
    # accents and code labels as the browser shows them (the page says it is UTF-8)
    assert all(label in page.text for label in RUPTURE_ES)
    assert "Diagnósticos del muestreador" in page.text and "díadas" in page.text
    shown = page.text.replace("\n", " ")
    assert not [t for t in ENGLISH_ON_PAGE if t in shown], "English on the rendered page"
    shot = Image.open(io.BytesIO(page.screenshot))
    assert shot.format == "PNG" and shot.size == (1400, 1000)


# =========================================================================== the command


@pytest.mark.slow
def test_lagnest_report_lang_es(tmp_path, fits, capsys):
    regression = fits[1]
    saved = tmp_path / "mia_to_rupture.nc"
    regression.save(saved)
    out = tmp_path / "informe" / "informe.html"
    assert run(["report", "--result", str(saved), "--table", "rupture:rupture",
                "--ppc-draws", "0", "--lang", "es", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Columnas:" in printed and "OR_inf" in printed and "Retirada" in printed
    page = out.read_text(encoding="utf-8")
    assert '<h2 id="lag-tables">Tablas de retardo</h2>' in page
    assert "Corpus: el corpus de ejemplo incluido" in page
    assert all(html.escape(label) in page for label in RUPTURE_ES)
    assert run(["report", "--result", str(saved), "--lang", "fr", "--out", str(out)]) == 2


def test_sampler_diagnostics_in_spanish():
    """Every fixed phrase of the diagnostics text, including each kind of failed check."""
    from lagnest.models._fit import Diagnostics

    failures = ("R-hat > 1.01: sigma[a] (1.02) and 3 more", "bulk ESS < 400: beta[x] (120)",
                "tail ESS < 400: beta[x] (90)", "7 divergent transitions (of 4000 draws)",
                "2 draws hit the maximum tree depth",
                "E-BFMI 0.20 < 0.3 in at least one chain")
    diag = Diagnostics(table=pd.DataFrame({"parameter": ["beta[x]"], "rhat": [1.02],
                                           "ess_bulk": [120.0], "ess_tail": [90.0]}),
                       rhat_max=1.02, ess_bulk_min=120.0, ess_tail_min=90.0, n_divergent=7,
                       n_max_treedepth=2, bfmi_min=0.2, n_chains=4, n_draws=4000,
                       failures=failures)
    assert str(diag) == diag.text("en") and diag.text("en").count("FAILED:") == 6
    es = diag.text("es")
    for word in ("R-hat máx. 1.020", "ESS central mín. 120", "ESS de colas mín. 90",
                 "4 cadenas, 4000 extracciones", "FALLÓ: R-hat > 1.01: sigma[a] (1.02) y 3 más",
                 "ESS central < 400: beta[x]", "ESS de colas < 400",
                 "7 transiciones divergentes (de 4000 extracciones)",
                 "2 extracciones alcanzaron la profundidad máxima del árbol",
                 "E-BFMI 0.20 < 0.3 en al menos una cadena"):
        assert word in es.replace("\n    ", " "), word
    for word in ("FAILED", "bulk ESS", "tail ESS", "divergent transitions", "draws", "chain"):
        assert word not in es, word
    clean = Diagnostics(table=diag.table, rhat_max=1.0, ess_bulk_min=900.0,
                        ess_tail_min=900.0, n_divergent=0, n_max_treedepth=0, bfmi_min=0.9,
                        n_chains=4, n_draws=4000)
    assert clean.text("es").endswith("todas las comprobaciones pasaron")


def test_why_a_check_omits_a_statistic_in_spanish():
    """Each stored English reason is shown in Spanish with its numbers kept."""
    from lagnest._lang import WORDS, reword, translate

    keys = [key for key in WORDS if key.startswith("omit.")]
    assert len(keys) >= 12
    for key in keys:
        english = translate(key, "en", lag=2, lag2=4)
        assert reword(english, "es") == translate(key, "es", lag=2, lag2=4), key
        assert reword(english, "en") == english
    assert reword("something else", "es") == "something else"


def test_lagnest_demo_lang_es_writes_a_spanish_report(tmp_path):
    out = tmp_path / "demo" / "informe.html"
    assert run(["demo", "--no-fit", "--permutations", "20", "--lang", "es", "--out",
                str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Demo de lagnest: el corpus de ejemplo" in page
    assert 'lang="es"' in page or "Tablas de retardo" in page
    assert "lagnest demo: the example corpus" not in page
    with pytest.raises(ValueError, match="lang must be one of"):
        ln.demo.run_demo(fit=False, lang="fr", out=tmp_path / "x.html")

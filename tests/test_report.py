"""The HTML report: every section, every figure a real PNG, nothing external; in Chromium."""

from __future__ import annotations

import base64
import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest
from PIL import Image

import lagnest as ln
from lagnest.viz.report import SECTIONS, Report, write_report
from tests.chromium import Browser, find_chromium

TINY = {"draws": 20, "tune": 20, "chains": 2, "cores": 1}


class _Page(HTMLParser):
    """Tags, ids, image sources and link targets of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.images: list[dict[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "img":
            self.images.append(attrs)
        for key in ("href", "src", "action", "data"):
            if key in attrs and tag != "img":
                self.links.append(attrs[key])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _png(data_uri: str) -> bytes:
    head, _, data = data_uri.partition(",")
    assert head == "data:image/png;base64", head[:40]
    return base64.b64decode(data, validate=True)


def _check_self_contained(path: Path) -> _Page:
    """Every section, every image an embedded PNG equal to its file, no external reference."""
    text = path.read_text(encoding="utf-8")
    page = _parse(path)
    assert [i for i in page.ids if i in SECTIONS] == list(SECTIONS)
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert not re.search(r"https?://|url\(", text), "external reference in the page"
    assert all(link.startswith("#") for link in page.links), page.links
    assert page.images, "no figures"
    for attrs in page.images:
        png = _png(attrs["src"])
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.width > 100 and image.height > 100
        image.verify()
        assert attrs.get("alt")
        copy = path.parent / "figures" / f"{attrs['data-figure']}.png"
        assert copy.read_bytes() == png
    names = {a["data-figure"] for a in page.images}
    assert {p.stem for p in (path.parent / "figures").glob("*.png")} == names
    assert not [p for p in path.parent.rglob(".*") if p.is_file()], "temporary files left"
    return page


@pytest.fixture(scope="module")
def seqs():
    return ln.datasets.load_example()


@pytest.fixture(scope="module")
def tables(seqs):
    return {"MIA4 → rupture": ln.lag_table(seqs, "MIA4", "rupture"),
            "rupture → rupture": ln.lag_table(seqs, "rupture", "rupture")}


def test_report_of_tables_has_every_section_and_only_embedded_pngs(tmp_path, seqs, tables):
    path = write_report(tmp_path / "out" / "report.html", seqs, tables=tables,
                        skipped={"state_mindfulness_to_impact": "not in this version"})
    assert path == tmp_path / "out" / "report.html"
    page = _check_self_contained(path)
    # two tables: a heatmap and a transition diagram each, and the key figures again
    assert len({a["data-figure"] for a in page.images}) == 4
    assert len(page.images) == 4 + 2
    text = path.read_text(encoding="utf-8")
    assert seqs.summary().splitlines()[0] in text
    assert "Not run: not in this version" in text
    assert "No analyses run." not in text and "No fits, so no sampler diagnostics." in text
    # the lag tables' text beside the pictures (escaped; the arrow survives)
    assert "Lag table: given rupture -&gt; target rupture, lag 1" in text


def test_report_rewrites_atomically_and_keeps_figure_names_unique(tmp_path, seqs, tables):
    path = tmp_path / "report.html"
    report = Report("first").add_lag_table(tables["MIA4 → rupture"], "same")
    report.add_lag_table(tables["MIA4 → rupture"], "same")
    report.write(path)
    names = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert names == ["diagram_same.png", "diagram_same_2.png", "heatmap_same.png",
                     "heatmap_same_2.png"]

    class Broken(Report):
        def to_html(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        Broken("second").write(path, figures=None)
    assert "<title>first</title>" in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["report.html"]


def test_add_note_rejects_an_unknown_section():
    with pytest.raises(ValueError, match="section must be one of"):
        Report().add_note("x", section="appendix")


# --------------------------------------------------------------------------- with fits


@pytest.fixture(scope="module")
def full_report(tmp_path_factory, seqs, tables):
    """A report of a tiny regression fit (a standard spec), a transition fit and checks."""
    spec = ln.load_spec("mia_to_rupture")
    regression = spec.build(seqs).fit(**TINY, seed=3, warn=False)
    transition = ln.TransitionModel(seqs, "rupture", "rupture").fit(**TINY, seed=4, warn=False)
    checks = {"mia_to_rupture": regression.ppc(n_draws=10, seed=1),
              "rupture_transitions": transition.ppc(n_draws=10, seed=1)}
    path = tmp_path_factory.mktemp("full") / "report.html"
    write_report(path, seqs, results={"mia_to_rupture": regression,
                                      "rupture_transitions": transition},
                 checks=checks, tables=tables, specs={"mia_to_rupture": spec},
                 skipped={"state_mindfulness_to_impact": "not in this version"},
                 notes=["Tiny fits for a test."], title="Test report")
    return path, regression, transition


@pytest.mark.slow
def test_report_with_fits_shows_each_analysis(full_report):
    path, regression, transition = full_report
    page = _check_self_contained(path)
    text = path.read_text(encoding="utf-8")
    figures = {a["data-figure"] for a in page.images}
    assert {"forest_mia_to_rupture", "forest_rupture_transitions",
            "diagram_rupture_transitions", "ppc_mia_to_rupture",
            "ppc_rupture_transitions"} <= figures
    # summaries through ResultSummary._repr_html_, whatever the model
    assert regression.summary().title in text and transition.summary().title in text
    assert "OR_lower" in text
    # diagnostics of each fit (tiny fits fail them, and the page says so)
    assert text.count("some checks failed") == 2
    assert str(regression.diagnostics).splitlines()[0] in text
    # the spec file verbatim (escaped), the sampler settings used, the versions recorded
    toml = ln.load_spec("mia_to_rupture").path.read_text(encoding="utf-8")
    assert 'type = &quot;LaggedRegression&quot;' in text and len(toml) > 100
    assert "Tiny fits for a test." in text
    for package, version in regression.config["versions"].items():
        cells = re.search(rf"<th>{re.escape(package)}</th>((?:\s*<td>[^<]*</td>)+)", text)
        assert cells and re.findall(r"<td>([^<]*)</td>", cells.group(1)) == [version] * 3
    # the checks: how many values were flagged, per analysis (posterior predictive p-values
    # are "ppp"; a bare "p" is a classical p-value, tests/test_vocabulary.py)
    assert text.count("checked values flagged at two-sided posterior predictive p (ppp) "
                      "&lt; 0.01") == 2
    assert "ppp_two_sided" in text and "p_two_sided" not in text.replace("ppp_two_sided", "")
    # the worst parameters of each fit: R-hat with decimals, effective sample sizes whole
    worst = re.findall(r"largest R-hat.*?</table>", text, re.S)
    assert len(worst) == 2
    for table in worst:
        rows = re.findall(r"<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", table)
        assert rows and all(re.fullmatch(r"\d+", e) for _, *ess in rows for e in ess), rows


@pytest.mark.slow
def test_report_loads_in_headless_chromium_with_every_figure(full_report, tmp_path):
    binary = find_chromium()
    if binary is None:
        message = ("chromium is not installed (Debian: apt-get install chromium; .ci/run "
                   "installs it)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    path = full_report[0]
    expected = len(_parse(path).images)
    with Browser(binary) as browser:
        page = browser.load(path, screenshot=True)
        broken = tmp_path / "broken.html"
        broken.write_text('<!DOCTYPE html><title>b</title><img src="data:image/png;base64,'
                          'AAAA"><script>console.error("boom")</script>')
        bad = browser.load(broken)
    assert page.title == "Test report"
    assert page.sections == list(SECTIONS)
    assert len(page.images) == expected
    for image in page.images:
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, image
        assert image["scheme"] == "data"
    assert page.errors == []
    assert all(url.split(":")[0] in ("file", "data") for url in page.requests)
    shot = Image.open(io.BytesIO(page.screenshot))
    assert shot.format == "PNG" and shot.size == (1400, 1000)
    # the same checks catch a broken image and a console error
    assert bad.images[0]["width"] == 0 and any("boom" in e for e in bad.errors)

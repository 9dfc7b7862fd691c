"""The text, HTML (templates) and matplotlib views of a profile."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from beam_ml.profiling import Profile
from beam_ml.profiling.view import profile_page

WIDGETS = Path(__file__).resolve().parents[2] / "widgets"


def test_html_and_quote_column_names_are_escaped_everywhere():
    name = "<script>alert('x')</script>\"q"
    df = pd.DataFrame({name: ["<b>bold</b>", "<b>bold</b>", "&"], "n": [1, 2, 3]})
    p = Profile.from_frame(df)
    html_view = p._repr_mimebundle_()["text/html"]
    assert "<script>" not in html_view and "<b>bold" not in html_view
    assert "&lt;script&gt;" in html_view and "&lt;b&gt;bold&lt;/b&gt;" in html_view
    assert name in p.to_dict()["columns"]
    assert Profile.from_json(p.to_json()).columns[name].count == 3


def test_text_and_html_views_show_overview_alerts_and_a_histogram_per_column(penguins, tmp_path):
    _, p = penguins
    bundle = p._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Profile: 344 rows × 8 columns")
    assert repr(p) == str(p) == bundle["text/plain"]
    html_view = bundle["text/html"]
    assert html_view.count("<svg") == len(p.columns)
    assert html_view.count('class="bml-card"') == len(p.columns)
    out = tmp_path / "report.html"
    page = p.to_html(out)
    assert out.read_text(encoding="utf-8") == page
    assert (
        page.startswith("<!DOCTYPE html>")
        and ".bml-hist" in page
        and page.count("<script") == 1
        and "<script" not in p.to_html()
    )
    alerted = Profile.from_frame(pd.DataFrame({"c": [1, 1, 1], "<x>": [1, 2, 3]}))
    view = alerted._repr_mimebundle_()["text/html"]
    assert view.index("bml-alerts") < view.index("bml-columns")


def test_a_standalone_page_carries_title_source_rows_and_time_and_stays_small(penguins, tmp_path):
    _, p = penguins
    page = p.to_html(tmp_path / "p.html")
    title = re.search(r"<title>(.*)</title>", page).group(1)
    assert title == f"beam-ml profile: {p.source}"
    assert f"<code>{p.source}</code>" in page and "344</b> rows" in page
    assert re.search(r"written \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", page)
    assert "written 2024-05-01T12:00:00+00:00" in profile_page(
        p.to_dict(), written="2024-05-01T12:00:00+00:00"
    )
    assert len(page.encode()) < 60_000
    assert p.to_html().count("<style>") == page.count("<style>") == 1
    assert "<!DOCTYPE" not in p.to_html()


def test_histograms_have_axes_and_categories_show_shares(penguins):
    _, p = penguins
    page = p.to_html()
    hist = p.columns["body_mass_g"].histogram
    assert page.count('class="bml-axis"') == 2 * len(p.columns)
    assert f">{max(hist['counts'])}</text>" in page  # the y axis names the peak count
    assert ">2,700</text>" in page and ">6,300</text>" in page  # the x axis: min and max
    # category bars: a tooltip and a share per value
    adelie = dict(p.columns["species"].top)["Adelie"]
    share = f"{100 * adelie / p.columns['species'].count:.3g} %"
    assert f"Adelie: {adelie} ({share})" in page and f"({adelie}, {share})" in page


def test_numbers_in_the_html_have_four_significant_digits():
    p = Profile.from_frame(pd.DataFrame({"x": [1.234567, 2.345678, 3.456789]}))
    page = p.to_html()
    assert "2.346" in page and "2.345678" not in page
    assert "2.345678" in p.to_json()  # JSON keeps full precision


def test_infinities_are_shown_beside_the_histogram_of_the_finite_values():
    p = Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0, np.inf, -np.inf, -np.inf]}))
    page = p.to_html()
    assert '<span class="bml-muted">+inf</span> 1' in page
    assert '<span class="bml-muted">-inf</span> 2' in page
    assert "+inf 1  -inf 2" in str(p)


def test_every_css_class_of_the_profile_templates_exists_in_a_stylesheet():
    css = (WIDGETS / "base.css").read_text() + (WIDGETS / "profile.css").read_text()
    defined = set(re.findall(r"\.(bml-[\w-]+)", css)) | {"bml"}
    used: set[str] = set()
    for template in (WIDGETS / "templates").glob("profile*.html"):
        text = template.read_text()
        for classes in re.findall(r'class="([^"{]*)"', text):
            used |= set(classes.split())
        used |= set(re.findall(r"'(bml-[\w-]+)'", text))  # classes chosen in {{ ... }}
    assert used and used <= defined, used - defined


def test_plot_draws_a_histogram_and_top_values(penguins):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    _, p = penguins
    ax = p.plot("body_mass_g")
    assert len(ax.patches) == 20
    ax = p.plot("species")
    assert len(ax.patches) == 3

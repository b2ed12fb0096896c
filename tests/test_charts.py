"""Server-side SVG charts: geometry, and the accessible markup of _charts.html."""

import re

import pytest
from flask import render_template_string
from lxml import etree

from forms_app import charts

SVG = "{http://www.w3.org/2000/svg}"
RENDER = '{% from "_charts.html" import chart %}{{ chart(c) }}'


def render(app, c) -> str:
    with app.test_request_context("/"):
        return render_template_string(RENDER, c=c)


def svg_of(html: str):
    return etree.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))


@pytest.mark.parametrize(
    ("maximum", "integers", "expected"),
    [
        (0, True, (1.0, 1.0)),
        (3, True, (3.0, 1.0)),
        (7, True, (10.0, 2.0)),
        (45, True, (50.0, 10.0)),
        (180, True, (200.0, 50.0)),
        (2_400_000, True, (2_500_000.0, 500_000.0)),
        (0.8, False, (1.0, 0.2)),
    ],
)
def test_nice_scale_rounds_up_the_axis(maximum, integers, expected):
    assert charts.nice_scale(maximum, integers) == expected


def test_bar_heights_are_proportional_and_stand_on_the_baseline():
    c = charts.bar_chart("Dépôts", [("01/03", 10), ("02/03", 5), ("03/03", 0)])
    assert [b.value for b in c.bars] == [10, 5]  # nothing drawn for zero
    first, second = c.bars
    assert first.height == pytest.approx(2 * second.height)
    for bar in c.bars:
        assert bar.y + bar.height == pytest.approx(c.plot_bottom)
        assert c.plot_left <= bar.x and bar.x + bar.width <= c.plot_right
    assert first.height == pytest.approx(c.plot_bottom - c.plot_top)  # 10 is the axis top
    assert [t.value for t in c.value_ticks] == [0, 2, 4, 6, 8, 10]
    assert [t.text for t in c.categories] == ["01/03", "02/03", "03/03"]


def test_many_categories_thin_the_axis_labels_but_keep_every_row():
    points = [(f"{day:02d}/03", day) for day in range(1, 31)]
    c = charts.bar_chart("Dépôts", points)
    assert len(c.bars) == 30 and len(c.rows) == 30
    assert len(c.categories) <= charts.MAX_AXIS_LABELS
    assert [t.text for t in c.categories][:3] == ["01/03", "04/03", "07/03"]
    positions = [t.position for t in c.categories]
    assert positions == sorted(positions)


def test_highlight_and_bands_follow_the_point_indexes():
    points = [("a", 1), ("b", 0), ("c", 9), ("d", 2)]
    c = charts.bar_chart(
        "5xx",
        points,
        highlight={2, 7},
        bands=[(1, 2, "Panne probable", "Outage!"), (3, 9, "x", "announced")],
    )
    assert c.highlight == frozenset({2})
    alert = [b for b in c.bars if "chart__bar--alert" in b.css]
    assert [(b.index, b.label) for b in alert] == [(2, "c")]
    outage, announced = c.bands
    slot = (c.plot_right - c.plot_left) / 4
    assert (outage.kind, outage.first, outage.last) == ("outage", 1, 2)
    assert outage.x == pytest.approx(c.plot_left + slot) and outage.width == pytest.approx(2 * slot)
    assert (announced.first, announced.last) == (3, 3)  # clamped to the points
    assert c.notes(2) == ["Panne probable"] and c.notes(0) == []
    assert c.highlighted_labels == ["c"]


def test_stacked_bars_pile_up_and_carry_a_legend():
    c = charts.stacked_chart(
        "Stock",
        ["Déposée", "En instruction"],
        [("< 7 j", [3, 1]), ("7–30 j", [1, 0]), ("> 30 j", [0, 4])],
    )
    assert c.totals == [4, 5] and c.total == 9
    first = [b for b in c.bars if b.index == 0]
    assert [b.series for b in first] == ["< 7 j", "7–30 j"]
    assert first[0].y == pytest.approx(first[1].y + first[1].height)  # the second sits on the first
    assert first[0].css.endswith("chart__series--0") and first[1].css.endswith("chart__series--1")
    assert c.legend[2] == ("> 30 j", "chart__series--2")
    assert c.peak == ("En instruction", 5)


def test_horizontal_bars_share_the_scale_with_the_reference_line():
    c = charts.hbar_chart(
        "Montants",
        [("Proposé", 300), ("Accordé", 600)],
        reference=(1000, "Enveloppe"),
        summable=False,
    )
    proposed, approved = c.bars
    assert approved.width == pytest.approx(2 * proposed.width)
    assert c.reference.position == pytest.approx(c.plot_right)  # 1000 is the axis top
    assert proposed.x == approved.x == c.plot_left
    assert c.height == charts.MARGIN_TOP + charts.MARGIN_BOTTOM + 2 * charts.HBAR_ROW
    long = charts.hbar_chart("Agents", [("Marie-Françoise de la Vallée-Poussin", 3)])
    assert (
        long.categories[0].text.endswith("…")
        and len(long.categories[0].text) == charts.MAX_LABEL_CHARS
    )
    assert long.rows[0][0] == "Marie-Françoise de la Vallée-Poussin"


def test_markup_is_an_accessible_figure_without_inline_style(app):
    c = charts.bar_chart(
        "Demandes déposées par jour",
        [("01/03", 4), ("02/03", 12), ("03/03", 2)],
        description="Heure de Nouméa.",
        unit="demandes",
        highlight={1},
        bands=[(1, 2, "Panne probable", "outage")],
        category="Jour",
    )
    html = render(app, c)
    assert html.strip().startswith("<figure") and "<figcaption" in html
    assert "style=" not in html and "<script" not in html
    svg = svg_of(html)
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "Demandes déposées par jour"
    summary = " ".join(desc.text.split())
    assert summary.startswith("Heure de Nouméa. 3 catégories, de « 01/03 » à « 03/03 ».")
    assert "Maximum : 12 demandes (02/03)." in summary and "Total : 18 demandes." in summary
    assert "Zone « Panne probable » : de « 02/03 » à « 03/03 »." in summary
    assert "Valeurs signalées : 02/03." in summary
    bars = svg.findall(f".//{SVG}rect[@class='chart__bar chart__bar--alert']")
    assert len(bars) == 1
    assert len(svg.findall(f".//{SVG}rect[@class='chart__band chart__band--outage']")) == 1
    assert "<details" in html and '<th scope="col">Jour</th>' in html
    assert re.search(
        r"<th scope=\"row\">02/03</th>\s*<td>12</td>\s*<td>valeur anormale ; Panne probable</td>",
        html,
    )


def test_markup_of_every_kind_parses_and_formats_numbers(app):
    kinds = [
        charts.hbar_chart(
            "Montants", [("Payé", 1_500_000)], unit="F CFP", reference=(2_000_000, "Enveloppe")
        ),
        charts.stacked_chart(
            "Stock", ["Déposée"], [("< 7 j", [2]), ("> 30 j", [1])], category="État"
        ),
        charts.bar_chart("Vide", []),
    ]
    for c in kinds:
        html = render(app, c)
        svg_of(html)  # well-formed SVG
        assert "style=" not in html
    hbar, stacked, empty = (render(app, c) for c in kinds)
    assert "1\u202f500\u202f000" in hbar or "1\xa0500\xa0000" in hbar
    assert "Enveloppe" in hbar and "chart__reference" in hbar
    assert (
        'class="chart__swatch chart__series--1"' in stacked
        and '<th scope="col">Total</th>' in stacked
    )
    assert "Aucune donnée." in empty


def test_long_category_labels_wrap_and_make_room_under_the_axis():
    states = [
        "Déposée",
        "En instruction",
        "Acceptée – paiement en préparation",
        "Acceptée – paiement ordonné",
    ]
    c = charts.stacked_chart("Stock", states * 2, [("< 7 j", [1] * 8)])
    assert c.categories[0].lines == ("Déposée",)
    wrapped = c.categories[2].lines
    assert len(wrapped) == charts.MAX_LABEL_LINES and " ".join(wrapped).startswith(
        "Acceptée – paiement"
    )
    assert all(
        len(line) * charts.CHAR_WIDTH <= (c.plot_right - c.plot_left) / 8 for line in wrapped
    )
    assert c.height == charts.HEIGHT + (charts.MAX_LABEL_LINES - 1) * charts.LINE_HEIGHT
    assert charts.bar_chart("Jours", [("01/03", 1)]).height == charts.HEIGHT


def test_long_values_are_written_short_on_the_axis(app):
    money = charts.hbar_chart("Montants", [("Payé", 2_400_000)])
    assert (money.tick_scale, money.tick_suffix) == (1_000_000, "M")
    thousands = charts.bar_chart("Montants", [("a", 45_000)])
    assert (thousands.tick_scale, thousands.tick_suffix) == (1_000, "k")
    assert charts.bar_chart("Demandes", [("a", 4_000)]).tick_scale == 1  # axis top 5 000
    svg = svg_of(render(app, money))
    ticks = [
        t.text for t in svg.iter(f"{SVG}text") if "chart__tick--middle" in (t.get("class") or "")
    ]
    assert ticks == ["0", "0,5\u202fM", "1\u202fM", "1,5\u202fM", "2\u202fM", "2,5\u202fM"]

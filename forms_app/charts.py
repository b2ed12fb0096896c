"""Accessible charts drawn on the server as SVG: the geometry here, the markup in _charts.html.

A chart is plain data (bars, axis labels, shaded bands, a data table) computed once; the
template `{% from "_charts.html" import chart %}{{ chart(c) }}` draws it as a `<figure>`
holding an SVG (`role="img"`, `<title>`, `<desc>`) and the same figures as a table. No
JavaScript and no inline style: every colour comes from classes styled in guichet.css.
"""

import hashlib
import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 24, 40
HBAR_LABEL_WIDTH = 200
HBAR_ROW = 32
# At most this many category labels under a vertical axis: beyond it, every n-th is shown.
MAX_AXIS_LABELS = 10
MAX_LABEL_CHARS = 26
MAX_LABEL_LINES = 3
CHAR_WIDTH = 7  # average width of a character of an axis label, in SVG units
LINE_HEIGHT = 15
BAR_FILL = 0.7  # the share of its slot a bar covers
SERIES_STYLES = 8  # guichet.css defines chart__series--0 … --7
_KIND = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class Bar:
    """One rectangle, with the figure it stands for."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    css: str
    index: int = 0
    series: str = ""


@dataclass(frozen=True)
class Tick:
    """An axis label (a category, or a value with its grid line) at a position on its axis."""

    position: float
    text: str = ""
    value: float = 0.0
    lines: tuple[str, ...] = ()  # a category label wrapped to fit its slot


@dataclass(frozen=True)
class Band:
    """A shaded range of categories behind the bars (an outage, an announcement)."""

    x: float
    width: float
    label: str
    kind: str
    first: int
    last: int


@dataclass(frozen=True)
class Reference:
    """A line across the bars marking a target value (a budget envelope)."""

    position: float
    value: float
    label: str


@dataclass
class Chart:
    """Everything the template needs to draw one chart and its data table."""

    kind: str  # "bar", "hbar" or "stacked"
    id: str
    title: str
    description: str
    unit: str
    category: str  # the heading of the data table's first column
    width: int
    height: int
    plot_left: float
    plot_top: float
    plot_right: float
    plot_bottom: float
    bars: list[Bar] = field(default_factory=list)
    categories: list[Tick] = field(default_factory=list)
    value_ticks: list[Tick] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    reference: Reference | None = None
    columns: list[str] = field(default_factory=list)  # table columns after the category
    rows: list[tuple[str, list[float]]] = field(default_factory=list)
    highlight: frozenset[int] = frozenset()
    summable: bool = True
    # Value-axis labels in thousands ("k") or millions ("M") when the numbers are long.
    tick_scale: int = 1
    tick_suffix: str = ""

    @property
    def totals(self) -> list[float]:
        return [sum(values) for _label, values in self.rows]

    @property
    def total(self) -> float:
        return sum(self.totals)

    @property
    def peak(self) -> tuple[str, float] | None:
        """The category with the largest value (the first one on ties), None when empty."""
        if not self.rows:
            return None
        index = max(range(len(self.rows)), key=lambda i: (self.totals[i], -i))
        return self.rows[index][0], self.totals[index]

    @property
    def highlighted_labels(self) -> list[str]:
        return [self.rows[i][0] for i in sorted(self.highlight)]

    def notes(self, index: int) -> list[str]:
        """The band labels covering a category, for the data table."""
        return [b.label for b in self.bands if b.first <= index <= b.last]


def nice_scale(maximum: float, integers: bool = True) -> tuple[float, float]:
    """A round top for the value axis and the step between its grid lines."""
    if maximum <= 0:
        return 1.0, 1.0 if integers else 0.25
    if integers and maximum <= 5:
        top = float(math.ceil(maximum))
        return top, 1.0
    magnitude = 10 ** math.floor(math.log10(maximum))
    for multiple, steps in ((1, 5), (2, 4), (2.5, 5), (5, 5), (10, 5)):
        if maximum <= multiple * magnitude * (1 + 1e-9):
            top = multiple * magnitude
            return float(top), top / steps
    raise AssertionError("unreachable")  # pragma: no cover


def short(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    """A label cut to fit beside a bar; the table keeps it whole."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _chart_id(kind: str, title: str, rows: Iterable) -> str:
    digest = hashlib.sha256(repr((kind, title, list(rows))).encode()).hexdigest()[:10]
    return f"chart-{digest}"


def _scale_ticks(c: Chart, top: float) -> None:
    """Write long axis values short: 2 500 000 as "2,5 M", 40 000 as "40 k"."""
    for threshold, scale, suffix in ((1_000_000, 1_000_000, "M"), (10_000, 1_000, "k")):
        if top >= threshold:
            c.tick_scale, c.tick_suffix = scale, suffix
            return


def _value_ticks(top: float, step: float, to_position) -> list[Tick]:
    count = round(top / step)
    return [
        Tick(position=to_position(i * step), value=round(i * step, 6)) for i in range(count + 1)
    ]


def _all_integers(values: Iterable[float]) -> bool:
    return all(float(v).is_integer() for v in values)


def _category_ticks(labels: Sequence[str], centre, slot: float) -> list[Tick]:
    """Every n-th label (at most MAX_AXIS_LABELS), each wrapped to the width it may take."""
    step = max(1, math.ceil(len(labels) / MAX_AXIS_LABELS))
    width = max(4, int(slot * step / CHAR_WIDTH))
    ticks = []
    for i in range(0, len(labels), step):
        lines = textwrap.wrap(labels[i], width, break_long_words=False) or [""]
        if len(lines) > MAX_LABEL_LINES:
            lines = [
                *lines[: MAX_LABEL_LINES - 1],
                short(" ".join(lines[MAX_LABEL_LINES - 1 :]), width),
            ]
        ticks.append(Tick(position=centre(i), text=labels[i], lines=tuple(lines)))
    return ticks


def _frame(kind: str, title: str, rows, *, description, unit, category, **geometry) -> Chart:
    """An empty chart: a vertical one by default, `geometry` overrides the plot's box."""
    box = {
        "width": WIDTH,
        "height": HEIGHT,
        "plot_left": MARGIN_LEFT,
        "plot_top": MARGIN_TOP,
        "plot_right": WIDTH - MARGIN_RIGHT,
        "plot_bottom": HEIGHT - MARGIN_BOTTOM,
    }
    return Chart(
        kind=kind,
        id=_chart_id(kind, title, rows),
        title=title,
        description=description,
        unit=unit,
        category=category,
        rows=rows,
        **{**box, **geometry},
    )


def bar_chart(
    title: str,
    points: list[tuple[str, float]],
    *,
    description: str = "",
    unit: str = "",
    highlight: Iterable[int] = frozenset(),
    bands: Iterable[tuple[int, int, str, str]] = (),
    category: str = "",
) -> Chart:
    """Vertical bars, one per point; `highlight` indexes drawn as alerts, `bands` shaded."""
    rows = [(label, [float(value)]) for label, value in points]
    c = _frame("bar", title, rows, description=description, unit=unit, category=category)
    c.highlight = frozenset(i for i in highlight if 0 <= i < len(points))
    c.columns = [unit] if unit else []
    _draw_columns(c, [label for label, _v in points], [values for _l, values in rows], [""])
    slot = (c.plot_right - c.plot_left) / max(1, len(points))
    for first, last, label, kind in bands:
        first, last = max(0, first), min(len(points) - 1, last)
        if first > last:
            continue
        c.bands.append(
            Band(
                x=round(c.plot_left + first * slot, 2),
                width=round((last - first + 1) * slot, 2),
                label=label,
                kind=_KIND.sub("-", kind.lower()).strip("-") or "band",
                first=first,
                last=last,
            )
        )
    return c


def stacked_chart(
    title: str,
    categories: list[str],
    series: list[tuple[str, list[float]]],
    *,
    description: str = "",
    unit: str = "",
    category: str = "",
) -> Chart:
    """Vertical bars, one per category, each stacked from the series' values (a legend)."""
    stacks = [[float(values[i]) for _name, values in series] for i in range(len(categories))]
    rows = list(zip(categories, stacks, strict=True))
    c = _frame("stacked", title, rows, description=description, unit=unit, category=category)
    names = [name for name, _values in series]
    c.columns = names
    c.legend = [(name, f"chart__series--{i % SERIES_STYLES}") for i, name in enumerate(names)]
    _draw_columns(c, categories, stacks, names)
    return c


def _draw_columns(c: Chart, labels: list[str], stacks: list[list[float]], names: list[str]) -> None:
    """Lay out vertical (possibly stacked) bars with their axes."""
    values = [v for stack in stacks for v in stack]
    top, step = nice_scale(max((sum(s) for s in stacks), default=0), _all_integers(values))
    plot_height = c.plot_bottom - c.plot_top
    slot = (c.plot_right - c.plot_left) / max(1, len(labels))
    width = max(1.0, slot * BAR_FILL)

    def y_of(value: float) -> float:
        return c.plot_bottom - value / top * plot_height

    for i, (label, stack) in enumerate(zip(labels, stacks, strict=True)):
        base = 0.0
        for s, value in enumerate(stack):
            if c.kind == "stacked":
                css = f"chart__bar chart__series--{s % SERIES_STYLES}"
            else:
                css = "chart__bar chart__bar--alert" if i in c.highlight else "chart__bar"
            if value > 0:
                c.bars.append(
                    Bar(
                        x=round(c.plot_left + i * slot + (slot - width) / 2, 2),
                        y=round(y_of(base + value), 2),
                        width=round(width, 2),
                        height=round(y_of(base) - y_of(base + value), 2),
                        label=label,
                        value=value,
                        css=css,
                        index=i,
                        series=names[s],
                    )
                )
            base += value
    c.value_ticks = _value_ticks(top, step, lambda v: round(y_of(v), 2))
    _scale_ticks(c, top)
    c.categories = _category_ticks(labels, lambda i: round(c.plot_left + (i + 0.5) * slot, 2), slot)
    lines = max((len(t.lines) for t in c.categories), default=1)
    c.height += (lines - 1) * LINE_HEIGHT  # room under the axis for wrapped labels


def hbar_chart(
    title: str,
    points: list[tuple[str, float]],
    *,
    description: str = "",
    unit: str = "",
    reference: tuple[float, str] | None = None,
    summable: bool = True,
    category: str = "",
) -> Chart:
    """Horizontal bars, one row per point (a funnel, agents); `reference` a target line."""
    rows = [(label, [float(value)]) for label, value in points]
    height = MARGIN_TOP + MARGIN_BOTTOM + HBAR_ROW * max(1, len(points))
    c = _frame(
        "hbar",
        title,
        rows,
        description=description,
        unit=unit,
        category=category,
        height=height,
        plot_left=HBAR_LABEL_WIDTH,
        plot_right=WIDTH - MARGIN_LEFT,  # room for the value written after the bar
        plot_bottom=height - MARGIN_BOTTOM,
        columns=[unit] if unit else [],
        summable=summable,
    )
    values = [float(v) for _label, v in points]
    scale_max = max([*values, reference[0] if reference else 0.0], default=0.0)
    top, step = nice_scale(scale_max, _all_integers(values))
    plot_width = c.plot_right - c.plot_left

    def x_of(value: float) -> float:
        return round(c.plot_left + value / top * plot_width, 2)

    bar_height = HBAR_ROW * BAR_FILL
    for i, (label, value) in enumerate(zip([p[0] for p in points], values, strict=True)):
        y = c.plot_top + i * HBAR_ROW + (HBAR_ROW - bar_height) / 2
        c.bars.append(
            Bar(
                x=c.plot_left,
                y=round(y, 2),
                width=round(x_of(value) - c.plot_left, 2),
                height=round(bar_height, 2),
                label=label,
                value=value,
                css="chart__bar",
                index=i,
            )
        )
        c.categories.append(Tick(position=round(y + bar_height / 2, 2), text=short(label)))
    c.value_ticks = _value_ticks(top, step, x_of)
    _scale_ticks(c, top)
    if reference is not None:
        c.reference = Reference(position=x_of(reference[0]), value=reference[0], label=reference[1])
    return c

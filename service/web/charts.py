"""The geometry of the dashboard's charts, drawn by the templates as inline SVG: horizontal bars for figures per
name (reason, engineer, team) and lines over months for percentages. No script draws anything: the page is the
chart, and the same figures are in a table beside it for screen readers and for copying."""

from __future__ import annotations

from dataclasses import dataclass

#: The drawing's width in SVG units; it scales to the width of the page.
WIDTH = 320
#: Where the bars start (the names are on their left), how long the longest is, and the height of a row.
BAR_LEFT, BAR_SPAN, ROW = 112, 150, 26
#: The plot area of a line chart.
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 34, 310, 10, 150
LINE_HEIGHT = 180


@dataclass(frozen=True)
class Bar:
    """One bar: its name, figure, the figure as shown, and where it is drawn."""

    label: str
    value: float
    text: str
    y: int
    width: float


@dataclass(frozen=True)
class Bars:
    """A horizontal bar chart."""

    bars: list[Bar]
    height: int


def bar_chart(items: list[tuple[str, float, str]], *, maximum: float | None = None) -> Bars:
    """Bars for (name, figure, figure as shown), scaled to `maximum` (the largest figure by default)."""
    top = maximum if maximum is not None else max((value for _label, value, _text in items), default=0)
    bars = [
        Bar(label, value, text, ROW * index, round(BAR_SPAN * value / top, 1) if top > 0 else 0)
        for index, (label, value, text) in enumerate(items)
    ]
    return Bars(bars, max(ROW * len(bars), ROW))


@dataclass(frozen=True)
class Point:
    """A figure of one month, placed."""

    period: str
    x: float
    y: float
    value: float


@dataclass(frozen=True)
class Line:
    """One series: its name, its points and the polyline through them."""

    name: str
    points: list[Point]

    @property
    def path(self) -> str:
        """The SVG `points` attribute of the polyline."""
        return " ".join(f"{point.x},{point.y}" for point in self.points)


@dataclass(frozen=True)
class Lines:
    """A line chart of percentages over the months."""

    periods: list[tuple[str, float]]
    lines: list[Line]
    ticks: list[tuple[int, float]]
    height: int = LINE_HEIGHT


def _x(index: int, count: int) -> float:
    if count == 1:
        return (PLOT_LEFT + PLOT_RIGHT) / 2
    return round(PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * index / (count - 1), 1)


def _y(percent: float) -> float:
    return round(PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * percent / 100, 1)


def percent_lines(periods: list[str], series: dict[str, dict[str, float | None]]) -> Lines:
    """A line per series over `periods` (its percent per period; a month without a figure is skipped)."""
    placed = [(period, _x(index, len(periods))) for index, period in enumerate(periods)]
    lines = []
    for name, figures in series.items():
        points = [
            Point(period, x, _y(value), value) for period, x in placed if (value := figures.get(period)) is not None
        ]
        lines.append(Line(name, points))
    return Lines(placed, lines, [(tick, _y(tick)) for tick in (0, 50, 100)])

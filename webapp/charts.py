"""Monthly counts laid out as SVG bar charts for the dashboard (numbers only, nothing typed by
users, so the template can draw them without a script)."""

from __future__ import annotations

from dataclasses import dataclass

CHART_W, CHART_H, BAR_GAP = 640, 160, 4


@dataclass(frozen=True)
class Bar:
    month: str
    value: int
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Chart:
    """One monthly series laid out as SVG bars (numbers only: nothing user-supplied)."""

    key: str
    title: str
    bars: list[Bar]
    total: int
    width: int = CHART_W
    height: int = CHART_H


def chart(key: str, title: str, counts: dict[str, int], months: list[str]) -> Chart:
    """Bars for `months`, scaled so the largest value fills the chart's height."""
    top = max([counts.get(m, 0) for m in months] + [1])
    width = max(2, CHART_W // max(len(months), 1) - BAR_GAP)
    bars = []
    for i, month in enumerate(months):
        value = counts.get(month, 0)
        height = round(value / top * (CHART_H - 20))
        bars.append(Bar(month, value, i * (width + BAR_GAP), CHART_H - height, width, height))
    return Chart(key, title, bars, sum(counts.get(m, 0) for m in months))


@dataclass(frozen=True)
class Sparkline:
    """A small trend line (numbers only), with the words a screen reader gets instead."""

    points: str
    last_x: float
    last_y: float
    width: int
    height: int
    label: str


def sparkline(series: tuple[tuple[int, float], ...], label: str, width: int = 96,
              height: int = 28) -> Sparkline | None:
    """Year-by-year values as an SVG polyline scaled to the box; None for fewer than 2."""
    if len(series) < 2:
        return None
    low, high = min(v for _, v in series), max(v for _, v in series)
    span = (high - low) or 1.0
    step = (width - 6) / (len(series) - 1)
    coords = [(3 + i * step, 3 + (height - 6) * (1 - (v - low) / span))
              for i, (_, v) in enumerate(series)]
    return Sparkline(" ".join(f"{x:.1f},{y:.1f}" for x, y in coords), round(coords[-1][0], 1),
                     round(coords[-1][1], 1), width, height, label)


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label_y: float  # where its value is written: above the dot, or below it in the lower half
    year: str
    value: float
    since: bool


@dataclass(frozen=True)
class TrendChart:
    """One indicator year by year, split where a pairing began (the words are in `label`)."""

    dots: list[Dot]
    line: str
    divider: float | None  # x where the pairing's start year begins
    width: int
    height: int
    label: str


def trend_chart(points: list[tuple[int, str, float, bool]], label: str, start: int,
                width: int = 320, height: int = 170) -> TrendChart | None:
    """(year number, year label, value, since the pairing began in `start`) as a line with
    labelled dots,
    spaced by year so a missing year shows as a longer step; None when empty. Values sit
    above a dot in the upper half and below it in the lower half, clear of the line and of
    the year labels along the bottom."""
    if not points:
        return None
    pad_x, top, bottom = 30, 28, 46
    low, high = min(p[2] for p in points), max(p[2] for p in points)
    first, last = points[0][0], points[-1][0]
    plot_h = height - top - bottom
    dots = []
    for year, text, value, since in points:
        x = pad_x + (width - 2 * pad_x) * (year - first) / (last - first) if last > first \
            else width / 2
        y = top + plot_h * (1 - (value - low) / ((high - low) or 1.0))
        dots.append(Dot(round(x, 1), round(y, 1),
                        round(y - 10 if y <= top + plot_h / 2 else y + 19, 1), text, value,
                        since))
    # The pairing's start year begins half a year step before that year's dot.
    divider = None
    if any(d.since for d in dots) and not all(d.since for d in dots) and last > first:
        divider = round(pad_x + (width - 2 * pad_x) * (start - 0.5 - first) / (last - first), 1)
    return TrendChart(dots, " ".join(f"{d.x},{d.y}" for d in dots), divider, width, height,
                      label)


@dataclass(frozen=True)
class Row:
    label: str
    value: int
    percent: float  # of the largest value: the bar's width as a share of the chart's
    y: int  # top of the row's words; the bar sits under them


@dataclass(frozen=True)
class GroupChart:
    """Counts per named group as horizontal bars, each under its name and number. Drawn
    without a viewBox, so the words stay at body size at any width and only the bars scale."""

    key: str
    title: str
    rows: list[Row]
    total: int
    height: int


ROW_H = 46


def group_chart(key: str, title: str, counts: list[tuple[str, int]]) -> GroupChart:
    """One row per (group, count), the largest count filling the width."""
    top = max([n for _, n in counts] + [1])
    rows = [Row(label, n, round(100 * n / top, 1), i * ROW_H)
            for i, (label, n) in enumerate(counts)]
    return GroupChart(key, title, rows, sum(n for _, n in counts), len(rows) * ROW_H)

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

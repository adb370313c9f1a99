"""Server-side SVG geometry for the dashboards: pure functions, plain data in, shapes out.

Drawn on the server so the admin needs no JavaScript library, no CDN and works offline; the
templates in templates/admin/analytics/ only place what these return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

BAR_HEIGHT = 22
LABEL_WIDTH = 150
BAR_AREA = 180
# One colour per series, from the admin's palette where it has one.
COLOURS = {
    "click": "#417690",
    "discord_join": "#5865f2",
    "onboarding_start": "#e0a800",
    "conversion": "#28a745",
}
NAMES = {
    "click": "Unique clicks",
    "discord_join": "Joins",
    "onboarding_start": "Onboarding starts",
    "conversion": "Conversions",
}


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # the text after the bar: count and share
    y: int
    width: float
    text_x: float  # where the count goes: just past the bar's end


def hbars(rows: list[tuple[str, str, float]]) -> dict:
    """rows of (label, text, scale 0..1) → bars for templates/admin/analytics/_bars.html."""
    bars = [
        Bar(_clip(label, 24), text, i * BAR_HEIGHT, width, LABEL_WIDTH + width + 6)
        for i, (label, text, scale) in enumerate(rows)
        for width in [round(max(scale, 0.0) * BAR_AREA, 1)]
    ]
    return {
        "bars": bars,
        "height": max(len(bars), 1) * BAR_HEIGHT,
        "width": LABEL_WIDTH + BAR_AREA + 150,
        "label_width": LABEL_WIDTH,
    }


@dataclass(frozen=True)
class Line:
    name: str
    label: str
    colour: str
    points: str  # SVG polyline points
    total: int


def lines(
    series: dict[str, list[int]], days: list[date], width: int = 720, height: int = 220
) -> dict:
    """A multi-series daily line chart: polylines, y-axis ticks and a few day labels."""
    left, right, top, bottom = 44, 12, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((max(values, default=0) for values in series.values()), default=0) or 1
    step = plot_w / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return round(left + i * step, 1)

    def y(v: float) -> float:
        return round(top + plot_h - v / peak * plot_h, 1)

    drawn = [
        Line(
            name,
            NAMES.get(name, name),
            COLOURS.get(name, "#666"),
            " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values)),
            sum(values),
        )
        for name, values in series.items()
    ]
    ticks = [{"y": y(v), "label": f"{v:g}"} for v in _ticks(peak)]
    marks = sorted({0, len(days) // 2, len(days) - 1}) if days else []
    anchors = {0: "start", len(days) - 1: "end"}
    labels = [
        {"x": x(i), "label": days[i].strftime("%b %-d"), "anchor": anchors.get(i, "middle")}
        for i in marks
    ]
    return {
        "lines": drawn,
        "ticks": ticks,
        "labels": labels,
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "baseline": top + plot_h,
        "label_y": height - 6,
    }


def _ticks(peak: int) -> list[float]:
    if peak <= 2:
        return [0, peak]
    half = peak / 2
    return [0, round(half) if half >= 10 else round(half, 1), peak]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

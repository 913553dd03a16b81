"""A sampled series as a small inline SVG chart (no script, no external asset), drawn beside a verdict.

The input is ``cutover.data.health_series.Series.chart()``: ``figure``, ``unit``, ``limit`` (or None) and
``points`` as ``[offset_s, value]`` pairs. The line is the series, the dashed red line the limit, the dot
the peak (red when it breaks the limit); the caption and the tooltip say the same in words.
"""
from __future__ import annotations

import html
from typing import Any

WIDTH, HEIGHT, PAD = 180, 44, 3


def sparkline(series: dict[str, Any]) -> str:
    points = [(float(t), float(v)) for t, v in series.get("points", [])]
    if not points:
        return ""
    limit = series.get("limit")
    top = max([v for _, v in points] + ([float(limit)] if limit is not None else [])) * 1.1 or 1.0
    first, last = points[0][0], points[-1][0]

    def xy(t: float, v: float) -> tuple[float, float]:
        x = PAD + (WIDTH - 2 * PAD) * ((t - first) / (last - first) if last > first else 0.5)
        return round(x, 1), round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top, 1)

    peak = max(points, key=lambda p: p[1])
    broken = limit is not None and peak[1] > float(limit)
    caption = _caption(series, peak[1], limit)
    shapes = [_line([xy(t, v) for t, v in points]), _dot(*xy(*peak), "#cf222e" if broken else "#24292f")]
    if limit is not None:
        shapes.insert(0, _limit(xy(first, float(limit))[1]))
    return (f'<div class="cutover-chart"><svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
            f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{caption}">'
            f'<title>{caption}</title><rect width="{WIDTH}" height="{HEIGHT}" fill="#f6f8fa"/>'
            f'{"".join(shapes)}</svg><br><small>{caption}</small></div>')


def _caption(series: dict[str, Any], peak: float, limit: Any) -> str:
    unit = html.escape(str(series.get("unit", "")))
    text = f"{html.escape(str(series.get('figure', '')))}: max {peak:g} {unit}"
    return text + (f" (limit {float(limit):g} {unit})" if limit is not None else "")


def _line(coords: list[tuple[float, float]]) -> str:
    if len(coords) == 1:
        return ""
    text = " ".join(f"{x},{y}" for x, y in coords)
    return f'<polyline points="{text}" fill="none" stroke="#0969da" stroke-width="1.5"/>'


def _dot(x: float, y: float, colour: str) -> str:
    return f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>'


def _limit(y: float) -> str:
    return (f'<line x1="{PAD}" y1="{y}" x2="{WIDTH - PAD}" y2="{y}" stroke="#cf222e" stroke-width="1" '
            'stroke-dasharray="3,2"/>')

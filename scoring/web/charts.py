"""Charts drawn on the server as inline SVG: the tier distribution, sub-scores against the
sector's peers and a score's history. No script and no library: they print and read the same
in both directions (bars grow from the reading side).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

__all__ = ["history_line", "tier_bars"]

_TIER_COLOURS = {"A": "#1b7f3b", "B": "#6aa84f", "C": "#e0a100", "D": "#c0392b"}


def tier_bars(
    counts: dict[str, int], labels: dict[str, str], fmt: Callable[[float], str], *, rtl: bool
) -> Markup:
    """Horizontal bars, one per tier, with its count; labelled for screen readers."""
    total = max(sum(counts.values()), 1)
    top = max(max(counts.values(), default=0), 1)
    width, row, label_w = 480, 34, 150
    parts = []
    for i, tier in enumerate(("A", "B", "C", "D")):
        n = counts.get(tier, 0)
        length = (width - label_w - 70) * n / top
        y = i * row + 6
        bar_x = width - label_w - length if rtl else label_w
        text_x = width - 4 if rtl else 4
        value_x = bar_x - 6 if rtl else bar_x + length + 6
        anchor, value_anchor = ("end", "end") if rtl else ("start", "start")
        share = 100 * n / total
        percent = "٪" if rtl else "%"
        parts.append(
            f'<text x="{text_x}" y="{y + 17}" text-anchor="{anchor}">'
            f"{escape(tier)} · {escape(labels.get(tier, tier))}</text>"
            f'<rect x="{bar_x:.1f}" y="{y}" width="{max(length, 1):.1f}" height="22" rx="3" '
            f'fill="{_TIER_COLOURS[tier]}"><title>{escape(tier)}: {n}</title></rect>'
            f'<text x="{value_x:.1f}" y="{y + 17}" text-anchor="{value_anchor}" '
            f'class="value">{escape(fmt(n))} ({escape(fmt(round(share)))}{percent})</text>'
        )
    return _svg(width, 4 * row + 8, "".join(parts), "tier-chart")


def history_line(points: Sequence[tuple[str, float]], fmt: Callable[[float], str]) -> Markup:
    """A small line of the score (0-100) across batches, oldest first, in time order."""
    width, height, pad = 480, 150, 28
    if not points:
        return Markup("")
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    # One batch so far: its point in the middle, not at the start of an empty time line.
    start = pad if len(points) > 1 else width / 2
    xy = [
        (start + i * step, height - pad - (height - 2 * pad) * score / 100)
        for i, (_, score) in enumerate(points)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4"><title>{escape(label)}: '
        f"{escape(fmt(score))}</title></circle>"
        f'<text x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" class="value">'
        f"{escape(fmt(score))}</text>"
        for (x, y), (label, score) in zip(xy, points, strict=True)
    )
    axis = (
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'class="axis"/>'
    )
    body = f'{axis}<polyline points="{line}" fill="none" class="line"/>{dots}'
    # Time runs left to right in both languages, as on any calendar chart.
    return _svg(width, height, body, "history-chart")


def _svg(width: int, height: int, body: str, cls: str) -> Markup:
    # Coordinates and anchors are laid out here for either direction, so the drawing itself
    # is always left-to-right (in an RTL page, "end" would otherwise mean the left).
    return Markup(
        f'<svg class="{cls}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" direction="ltr" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )

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
        label = _isolate(f"{tier} · {labels.get(tier, tier)}", rtl)
        value = _isolate(f"{fmt(n)} ({fmt(round(share))}{percent})", rtl)
        parts.append(
            f'<text x="{text_x}" y="{y + 17}" text-anchor="{anchor}">{escape(label)}</text>'
            f'<rect x="{bar_x:.1f}" y="{y}" width="{max(length, 1):.1f}" height="22" rx="3" '
            f'fill="{_TIER_COLOURS[tier]}"><title>{escape(tier)}: {n}</title></rect>'
            f'<text x="{value_x:.1f}" y="{y + 17}" text-anchor="{value_anchor}" '
            f'class="value">{escape(value)}</text>'
        )
    return _svg(width, 4 * row + 8, "".join(parts), "tier-chart")


def history_line(
    points: Sequence[tuple[str, float]],
    fmt: Callable[[float], str],
    *,
    single: str = "",
    rtl: bool = False,
) -> Markup:
    """A small line of the score (0-100) across batches, oldest first, in time order: each
    point with its value above it and its date below the axis (the first, the last and, when
    there is room, those between). One batch draws its point and says ``single``."""
    width, height, pad, foot = 480, 170, 36, 30
    if not points:
        return Markup("")
    low = height - foot
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    # One batch so far: its point in the middle, not at the start of an empty time line.
    start = pad if len(points) > 1 else width / 2
    xy = [
        (start + i * step, low - (low - pad) * score / 100) for i, (_, score) in enumerate(points)
    ]
    every = max(1, -(-len(points) // 6))  # at most about six dates under the axis
    dates = "".join(
        f'<text x="{x:.1f}" y="{low + 18}" text-anchor="middle" class="value">'
        f"{escape(label)}</text>"
        for i, ((x, _), (label, _)) in enumerate(zip(xy, points, strict=True))
        if i % every == 0 or i == len(points) - 1
    )
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5"><title>{escape(label)}: '
        f"{escape(fmt(score))}</title></circle>"
        f'<text x="{x:.1f}" y="{y - 10:.1f}" text-anchor="middle" class="point">'
        f"{escape(fmt(score))}</text>"
        for (x, y), (label, score) in zip(xy, points, strict=True)
    )
    grid = "".join(
        f'<line x1="{pad}" y1="{low - (low - pad) * v / 100:.1f}" x2="{width - pad}" '
        f'y2="{low - (low - pad) * v / 100:.1f}" class="grid"/>'
        f'<text x="{pad - 6}" y="{low - (low - pad) * v / 100 + 4:.1f}" text-anchor="end" '
        f'class="value">{escape(fmt(v).split(".")[0].split("٫")[0])}</text>'
        for v in (0, 50, 100)
    )
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    body = f'{grid}<polyline points="{line}" fill="none" class="line"/>{dots}{dates}'
    if len(points) == 1 and single:
        body += (
            f'<text x="{width / 2:.1f}" y="{pad - 14}" text-anchor="middle" class="value">'
            f"{escape(_isolate(single, rtl))}</text>"
        )
    # Time runs left to right in both languages, as on any calendar chart.
    return _svg(width, height, body, "history-chart")


def _isolate(text: str, rtl: bool) -> str:
    """``text`` isolated in its reading direction: the drawing is left to right, but a Persian
    label and its numbers must still read from the right (``A · آماده``, ``۱۰ (۲۷٪)``)."""
    return f"\u2067{text}\u2069" if rtl else text


def _svg(width: int, height: int, body: str, cls: str) -> Markup:
    # Coordinates and anchors are laid out here for either direction, so the drawing itself
    # is always left-to-right (in an RTL page, "end" would otherwise mean the left).
    return Markup(
        f'<svg class="{cls}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" direction="ltr" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )

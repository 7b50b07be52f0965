"""A contact's interactions per month as an inline SVG bar chart: no script, no CDN, no styles
(colours are presentation attributes, so the strict Content-Security-Policy allows it)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from keepwarm.services.web.views import Month

__all__ = ["month_chart"]

_WIDTH, _HEIGHT, _AXIS = 600, 140, 18
# Stacked from the bottom: what the owner sent, met, talked elsewhere, then what came in.
_SERIES = (
    ("sent", "#2563eb", "sent"),
    ("met", "#16a34a", "meetings"),
    ("elsewhere", "#9333ea", "elsewhere"),
    ("received", "#93c5fd", "received"),
)


def month_chart(months: Sequence[Month]) -> Markup:
    """The SVG for `months` (empty markup when there are none)."""
    if not months:
        return Markup("")
    peak = max(max(m.total for m in months), 1)
    slot = _WIDTH / len(months)
    bar = max(slot * 0.75, 1.0)
    plot = _HEIGHT - _AXIS
    parts: list[str] = []
    for i, month in enumerate(months):
        x = i * slot + (slot - bar) / 2
        y = float(plot)
        tip = (
            f"{month.month}: {month.sent} sent, {month.received} received, "
            f"{month.met} meetings" + (f", {month.elsewhere} elsewhere" if month.elsewhere else "")
        )
        parts.append(f"<g><title>{escape(tip)}</title>")
        for field, colour, _label in _SERIES:
            value = getattr(month, field)
            if not value:
                continue
            height = value / peak * (plot - 4)
            y -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{colour}"/>'
            )
        if month.total == 0:
            parts.append(
                f'<rect x="{x:.1f}" y="{plot - 1}" width="{bar:.1f}" height="1" fill="#e4e4e7"/>'
            )
        parts.append("</g>")
        if i % 6 == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{_HEIGHT - 4}" font-size="11" fill="#71717a">'
                f"{escape(month.month)}</text>"
            )
    total = sum(m.total for m in months)
    label = (
        f"Interactions per month, {months[0].month} to {months[-1].month}: {total} in all, "
        f"at most {peak} in a month"
    )
    legend = " ".join(
        f'<span class="key"><svg width="10" height="10" aria-hidden="true"><rect width="10" '
        f'height="10" fill="{colour}"/></svg> {label_}</span>'
        for _f, colour, label_ in _SERIES
    )
    svg = (
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{escape(label)}">'
        f'<line x1="0" y1="{plot}" x2="{_WIDTH}" y2="{plot}" stroke="#d4d4d8"/>'
        + "".join(parts)
        + "</svg>"
    )
    return Markup(f'<figure class="chart-box">{svg}<figcaption>{legend}</figcaption></figure>')

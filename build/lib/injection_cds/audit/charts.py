"""Inline SVG charts for report.html (no library, no network)."""

from __future__ import annotations

from html import escape

SEVERITY_COLOURS = {"critical": "#c0392b", "warning": "#d68910", "info": "#2e86c1", "": "#5d6d7e"}


def bar_chart(
    name: str,
    title: str,
    rows: list[tuple[str, float, str]],
    unit: str = "",
    label_width: int = 300,
    width: int = 760,
) -> str:
    """A horizontal bar chart: rows are ``(label, value, colour)``, drawn in the given order."""
    bar_height, gap, top = 22, 8, 8
    height = top + len(rows) * (bar_height + gap) + 4
    largest = max((value for _, value, _ in rows), default=0) or 1
    plot = width - label_width - 70
    max_chars = (label_width - 12) // 7  # about 7 px a character at 12 px
    parts = [
        f'<svg class="chart" data-chart="{escape(name)}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for position, (label, value, colour) in enumerate(rows):
        y = top + position * (bar_height + gap)
        length = max(value / largest * plot, 1 if value else 0)
        shown = label if len(label) <= max_chars else label[: max_chars - 1] + "…"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" class="axis">'
            f"{escape(shown)}<title>{escape(label)}</title></text>"
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length:.1f}" '
            f'height="{bar_height}" rx="3" fill="{colour}" data-label="{escape(label)}" '
            f'data-value="{value:g}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 15}" class="value">'
            f"{value:,.0f}{escape(unit)}</text>"
        )
    if not rows:
        parts.append(f'<text x="10" y="20" class="axis">{escape("Nothing to show")}</text>')
    parts.append("</svg>")
    return "".join(parts)


def donut(name: str, fraction: float | None, caption: str, size: int = 150) -> str:
    """A ring showing one rate (e.g. documentation complete), with the percentage inside."""
    radius, stroke = size / 2 - 12, 18
    circumference = 2 * 3.141592653589793 * radius
    filled = (fraction or 0.0) * circumference
    label = f"{fraction:.1%}" if fraction is not None else "n/a"
    centre = size / 2
    return (
        f'<svg class="chart donut" data-chart="{escape(name)}" role="img" '
        f'viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(caption)}</title>'
        f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="none" stroke="#e5e8e8" '
        f'stroke-width="{stroke}"/>'
        f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="none" stroke="#1e8449" '
        f'stroke-width="{stroke}" stroke-dasharray="{filled:.2f} {circumference:.2f}" '
        f'transform="rotate(-90 {centre} {centre})" data-value="{fraction or 0:.4f}"/>'
        f'<text x="{centre}" y="{centre + 7}" text-anchor="middle" class="donut-label">'
        f"{escape(label)}</text></svg>"
    )


def severity_strip(counts: dict[str, int], width: int = 720) -> str:
    """One stacked bar: findings by severity."""
    total = sum(counts.values()) or 1
    x = 0.0
    parts = [
        f'<svg class="chart" data-chart="by-severity" role="img" viewBox="0 0 {width} 28" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>Findings by severity</title>'
    ]
    for severity in ("critical", "warning", "info"):
        share = counts.get(severity, 0) / total * width
        if share:
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="0" width="{share:.1f}" height="28" '
                f'fill="{SEVERITY_COLOURS[severity]}" data-label="{severity}" '
                f'data-value="{counts.get(severity, 0)}"><title>{severity}: '
                f"{counts.get(severity, 0):,}</title></rect>"
            )
            x += share
    parts.append("</svg>")
    return "".join(parts)

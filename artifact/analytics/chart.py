"""A server-rendered SVG bar chart of the counts: no script, readable without colour (each bar
is labelled with its number), with a title and a description for assistive technology; the
table beside it is the full text alternative."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from artifact.analytics.services import Row

BAR, GAP, LABEL_HEIGHT, PLOT_WIDTH, NUMBER_WIDTH = 12, 12, 18, 300, 48
MAX_BARS = 60
_LABEL_CHARS = 48


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "\u2026"


def bar_chart(rows: Sequence[Row], title: str, description: str) -> Markup:
    """Two bars per row (downloads, acceptances) under the row's label, scaled to the largest
    count; narrow enough to stay legible on a phone."""
    shown = list(rows[:MAX_BARS])
    peak = max([1, *(r.downloads for r in shown), *(r.acceptances for r in shown)])
    row_height = LABEL_HEIGHT + 2 * BAR + GAP
    height = 26 + row_height * len(shown)
    width = PLOT_WIDTH + NUMBER_WIDTH
    parts = [
        Markup(
            '<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
            'viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
            'aria-labelledby="chart-title chart-desc">'
        ).format(w=width, h=height),
        Markup('<title id="chart-title">{}</title>').format(title),
        Markup('<desc id="chart-desc">{}</desc>').format(description),
        Markup(
            '<g class="legend" aria-hidden="true">'
            '<rect x="0" y="4" width="12" height="12" class="bar-downloads"/>'
            '<text x="16" y="14">Downloads</text>'
            '<rect x="110" y="4" width="12" height="12" class="bar-acceptances"/>'
            '<text x="126" y="14">Acceptances</text></g>'
        ),
    ]
    for index, row in enumerate(shown):
        top = 26 + index * row_height
        parts.append(Markup('<g class="row" aria-hidden="true">'))
        parts.append(
            Markup('<text x="0" y="{y}" class="label">{label}</text>').format(
                y=top + LABEL_HEIGHT - 5, label=_short(row.label)
            )
        )
        for offset, (value, css) in enumerate(
            ((row.downloads, "bar-downloads"), (row.acceptances, "bar-acceptances"))
        ):
            length = round(PLOT_WIDTH * value / peak)
            y = top + LABEL_HEIGHT + offset * BAR
            parts.append(
                Markup(
                    '<rect x="0" y="{y}" width="{w}" height="{h}" class="{css}"/>'
                    '<text x="{tx}" y="{ty}" class="value">{v}</text>'
                ).format(y=y, w=length, h=BAR - 2, css=css, tx=length + 4, ty=y + BAR - 3, v=value)
            )
        parts.append(Markup("</g>"))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts) if shown else Markup("")

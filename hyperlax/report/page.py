"""The report page: one self-contained HTML file (inline CSS, images as base64 data URIs)."""

from __future__ import annotations

import base64
import html
from typing import Any, Sequence

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } img { max-width: 100%; } .grid { display: flex; flex-wrap: wrap; gap: 0.5em; }
.grid img { width: 370px; } .note { color: #666; font-style: italic; } .wide { overflow-x: auto; }
"""


def fmt(value: Any) -> str:
    """A cell's text: floats to 4 significant digits, everything else as str."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def table(header: Sequence[str] | None, rows: Sequence[Sequence[Any]]) -> str:
    """An HTML table; no header row when `header` is None."""
    head = "" if header is None else "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f'<div class="wide"><table>{head}{body}</table></div>'


def image(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def section(title: str, *parts: str) -> str:
    return f"<h2>{html.escape(title)}</h2>\n" + "\n".join(parts)


def document(title: str, sections: Sequence[str]) -> str:
    """The whole page."""
    body = "\n".join(sections)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head>\n<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )

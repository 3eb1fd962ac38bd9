"""The shell of the project's self-contained HTML pages: one stylesheet, no script, no CDN.

The trace waterfall (``maas traces show --html``) and the evaluation report are single files
a person opens from a disk or an S3 link, so every page inlines its CSS; they share the
base rules here so that they read as one product. Callers escape their own text: ``page``
escapes only the title.

Examples
--------
>>> html = page("a <b> title", "<p>body</p>", style="p { color: red; }")
>>> html.startswith("<!DOCTYPE html>"), "<title>a &lt;b&gt; title</title>" in html
(True, True)
"""

from __future__ import annotations

from html import escape

#: Type, colours and tables common to every page.
BASE_STYLE = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; }
h1 { font-size: 16px; margin: 0 0 4px; }
p.meta { color: #5b6475; margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #e6e8ee; }
td { vertical-align: top; }
th { color: #5b6475; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
"""


def page(title: str, body: str, *, style: str = "") -> str:
    """A whole document: ``title`` (escaped here), :data:`BASE_STYLE` then ``style``, and
    ``body`` (markup, already escaped by the caller)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{BASE_STYLE}{style}</style></head>\n"
        f"<body>{body}</body></html>\n"
    )


__all__ = ["BASE_STYLE", "page"]

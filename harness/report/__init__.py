"""The HTML resilience report: one self-contained page rendered from results.json."""

from .html import render_html, write_html

__all__ = ["render_html", "write_html"]

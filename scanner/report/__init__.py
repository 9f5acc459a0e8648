"""Scan reports: a summary for the terminal, JSON (versioned, see schema.json), JUnit XML, SARIF 2.1.0
and a self-contained HTML file."""

from .html import render_html, write_html
from .json import FORMAT, VERSION, from_dict, read_json, to_dict, write_json
from .junit import to_xml, write_junit
from .sarif import to_sarif, write_sarif
from .text import summary

__all__ = [
    "FORMAT",
    "VERSION",
    "from_dict",
    "read_json",
    "render_html",
    "summary",
    "to_dict",
    "to_sarif",
    "to_xml",
    "write_html",
    "write_json",
    "write_junit",
    "write_sarif",
]

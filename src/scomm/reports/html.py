"""The HTML report: the summary's tables with simple bar charts, no scripts, one file."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


def render_report(title: str, summary: dict[str, Any], context: dict[str, Any]) -> str:
    env = Environment(
        loader=PackageLoader("scomm.reports", "templates"), autoescape=select_autoescape(["html"])
    )
    template = env.get_template("report.html")
    return template.render(title=title, s=summary, ctx=context)

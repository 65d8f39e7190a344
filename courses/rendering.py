"""Lesson bodies: Markdown rendered to sanitised HTML."""

from functools import lru_cache

import markdown
import nh3

_ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "blockquote",
    "code",
    "pre",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
}


@lru_cache(maxsize=512)
def markdown_to_html(text: str) -> str:
    """Render Markdown and strip anything that is not plain formatting (no scripts, no styles).

    Cached per process by text: a lesson is rendered once, not on every read (an edit is new text).
    """
    html = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(html, tags=_ALLOWED_TAGS, attributes={"a": {"href", "title"}})

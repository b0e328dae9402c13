"""One clean text per issue: what both the TF-IDF and the transformer models read.

Issue bodies are markdown written into templates. What we keep and what we drop, and why:
- HTML comments (`<!-- Please describe ... -->`) are template instructions the reporter didn't write: dropped.
- Fenced code blocks are long (stack traces, logs) and would fill a 128-token window on their own: replaced by
  the marker `[code]`, since *having* a trace is itself a strong hint of a bug report.
- URLs become `[url]`; runs of whitespace become one space.
- Template headings (`### Steps to reproduce`) stay: which template was used says a lot about the label.
"""

import re

CODE_BLOCK = re.compile(r"```.*?(```|$)", re.DOTALL)
HTML_COMMENT = re.compile(r"<!--.*?(-->|$)", re.DOTALL)
URL = re.compile(r"https?://\S+")
WHITESPACE = re.compile(r"\s+")


def clean_body(body: str) -> str:
    body = HTML_COMMENT.sub(" ", body)
    body = CODE_BLOCK.sub(" [code] ", body)
    body = URL.sub(" [url] ", body)
    return WHITESPACE.sub(" ", body).strip()


def prepare_text(title: str, body: str, max_chars: int = 4000) -> str:
    """Title, then the cleaned body, cut to max_chars (long logs add cost, not signal)."""
    return f"{title.strip()}\n{clean_body(body)}"[:max_chars]


def prepare_texts(titles, bodies, max_chars: int = 4000) -> list[str]:
    return [prepare_text(str(title), str(body), max_chars) for title, body in zip(titles, bodies, strict=True)]

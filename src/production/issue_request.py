"""What a well-formed request is, and the message a client gets when it isn't (HTTP 422).

One issue is a JSON object {"title": str, "body": str}; either may be missing or null (GitHub allows an empty
body) but not both empty. The batch form is {"issues": [issue, ...]}. Extra keys are ignored. The byte limit
counts title + body in UTF-8, so a client can check it before sending.
"""

from typing import Any


class InvalidRequest(ValueError):
    """The request is well-formed JSON but not a valid issue; the message says what to change."""


def _type_name(value: Any) -> str:
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return "null" if value is None else names.get(type(value), type(value).__name__)


def validate_issue(payload: Any, max_text_bytes: int, where: str = "") -> dict[str, str]:
    """{"title": str, "body": str} from a decoded JSON value, or InvalidRequest. `where` prefixes messages
    (e.g. "issues[3]: ") so a batch client knows which item is wrong."""
    if not isinstance(payload, dict):
        raise InvalidRequest(
            f"{where}an issue must be a JSON object with string fields title and body, got {_type_name(payload)}"
        )
    issue = {}
    for name in ("title", "body"):
        value = payload.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise InvalidRequest(f"{where}{name} must be a string, got {_type_name(value)}")
        issue[name] = value
    if not issue["title"].strip() and not issue["body"].strip():
        raise InvalidRequest(f"{where}title and body are both empty: send the issue's title, its body, or both")
    size = len(issue["title"].encode("utf-8")) + len(issue["body"].encode("utf-8"))
    if size > max_text_bytes:
        raise InvalidRequest(
            f"{where}title + body is {size} bytes, over the limit of {max_text_bytes} bytes: shorten the text "
            "(the model reads only the first few thousand characters anyway)"
        )
    return issue


def validate_batch(issues: Any, max_text_bytes: int, max_items: int) -> list[dict[str, str]]:
    """The list of issues of a batch request ({"issues": [...]}), each validated, or InvalidRequest."""
    if not isinstance(issues, list):
        raise InvalidRequest(
            f'issues must be an array of {{"title": ..., "body": ...}} objects, got {_type_name(issues)}'
        )
    if not issues:
        raise InvalidRequest("issues is empty: send at least one issue")
    if len(issues) > max_items:
        raise InvalidRequest(f"issues has {len(issues)} items, over the limit of {max_items}: split the batch")
    return [validate_issue(issue, max_text_bytes, where=f"issues[{i}]: ") for i, issue in enumerate(issues)]

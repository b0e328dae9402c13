"""Request validation without a server: each bad input gets a message that names what is wrong."""

import re

import pytest

from src.production.issue_request import InvalidRequest, validate_batch, validate_issue

LIMIT = 100


def test_a_good_issue_passes_and_a_missing_or_null_field_is_an_empty_string():
    assert validate_issue({"title": "Crash", "body": "trace", "extra": 1}, LIMIT) == {"title": "Crash", "body": "trace"}
    assert validate_issue({"title": "Crash"}, LIMIT) == {"title": "Crash", "body": ""}
    assert validate_issue({"title": None, "body": "only a body"}, LIMIT) == {"title": "", "body": "only a body"}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"title": "", "body": "  \n"}, "title and body are both empty"),
        ({}, "title and body are both empty"),
        ({"title": 42, "body": "x"}, "title must be a string, got a number"),
        ({"title": "x", "body": ["a"]}, "body must be a string, got an array"),
        ("just text", "an issue must be a JSON object"),
        ({"title": "é" * 51}, "title + body is 102 bytes, over the limit of 100 bytes"),  # bytes, not characters
    ],
)
def test_a_bad_issue_is_refused_with_a_message_naming_the_problem(payload, message):
    with pytest.raises(InvalidRequest, match=re.escape(message)):
        validate_issue(payload, LIMIT)


def test_the_limit_is_inclusive():
    assert validate_issue({"title": "a" * 60, "body": "b" * 40}, LIMIT)


def test_a_batch_names_the_bad_item_and_checks_its_size():
    good = {"title": "a", "body": ""}
    assert validate_batch([good, good], LIMIT, max_items=2) == [good, good]
    with pytest.raises(InvalidRequest, match=r"issues\[1\]: body must be a string"):
        validate_batch([good, {"title": "a", "body": 3}], LIMIT, max_items=5)
    with pytest.raises(InvalidRequest, match="3 items, over the limit of 2"):
        validate_batch([good] * 3, LIMIT, max_items=2)
    with pytest.raises(InvalidRequest, match="issues is empty"):
        validate_batch([], LIMIT, max_items=2)
    with pytest.raises(InvalidRequest, match="issues must be an array"):
        validate_batch(None, LIMIT, max_items=2)

"""Credentials in URLs are masked wherever we print a URL."""

import pytest

from disinto_infra.url_mask import has_credentials, mask_all, mask_credentials


@pytest.mark.parametrize(
    "text, shown",
    [
        ("http://user:pass@host:8081", "http://user:***@host:8081"),
        ("https://u:p%40ss@h/v1", "https://u:***@h/v1"),
        ("http://u:p@ss@h:1/x@y", "http://u:***@h:1/x@y"),  # a raw '@' in the password: urlsplit's reading
        ("http://token@host", "http://***@host"),  # a lone user part is often a token
        ("http://:secret@host", "http://:***@host"),
        ("ANTHROPIC_BASE_URL=http://a:b@c a http://d:e@f", "ANTHROPIC_BASE_URL=http://a:***@c a http://d:***@f"),
        # a key in the query (issue 19)
        ("http://h:1/v1?token=abc", "http://h:1/v1?token=***"),
        ("http://h/v1?x=1&api_key=abc#f", "http://h/v1?x=1&api_key=***#f"),
        ("http://h/?key=k1&x=2", "http://h/?key=***&x=2"),
        ("http://h/?Access_Token=ab", "http://h/?Access_Token=***"),
        ("http://h/?x-api-key=zz", "http://h/?x-api-key=***"),
        ("http://u:p@h/?key=1", "http://u:***@h/?key=***"),
    ],
)
def test_credentials_are_masked(text, shown):
    assert has_credentials(text)
    assert mask_credentials(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "http://10.10.10.1:8081",
        "http://h:8081/a@b",
        "user@example.org",
        "no url",
        "http://h/?monkey=1",
        "http://h/?keyword=2&page=3",
        "http://h/?key=",
    ],
)
def test_text_without_credentials_is_left_alone(text):
    assert not has_credentials(text)
    assert mask_credentials(text) == text


def test_mask_all_walks_json_values():
    value = {"a": ["http://u:p@h", 3, None], "b": {"c": "http://x:y@z"}}
    assert mask_all(value) == {"a": ["http://u:***@h", 3, None], "b": {"c": "http://x:***@z"}}

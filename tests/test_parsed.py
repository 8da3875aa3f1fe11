"""parsed: unchecked values narrowed to the shapes readers trust."""

from disinto_infra import parsed


def test_as_object_takes_only_mappings():
    body = {"a": 1}
    assert parsed.as_object(body) is body
    for other in (None, [], "x", 3, [{"a": 1}]):
        assert parsed.as_object(other) is None


def test_object_or_empty_gives_empty_for_other_shapes():
    assert parsed.object_or_empty({"k": "v"}) == {"k": "v"}
    assert parsed.object_or_empty(["k"]) == {}
    assert parsed.object_or_empty(None) == {}


def test_objects_skips_non_objects_and_non_lists():
    assert parsed.objects([{"a": 1}, "b", 2, None, {"c": 3}]) == [{"a": 1}, {"c": 3}]
    assert parsed.objects({"a": 1}) == []
    assert parsed.objects("[]") == []


def test_text_is_strings_only():
    body = {"s": "x", "n": 1, "none": None, "empty": ""}
    assert parsed.text(body, "s") == "x"
    assert parsed.text(body, "empty") == ""
    assert parsed.text(body, "n") is None
    assert parsed.text(body, "none") is None
    assert parsed.text(body, "absent") is None


def test_whole_takes_integral_numbers_not_booleans():
    body = {"i": 3, "f": 3.0, "frac": 3.5, "b": True, "s": "3", "neg": -2.0}
    assert parsed.whole(body, "i") == 3
    assert parsed.whole(body, "f") == 3
    assert parsed.whole(body, "neg") == -2
    assert parsed.whole(body, "frac") is None
    assert parsed.whole(body, "b") is None
    assert parsed.whole(body, "s") is None
    assert parsed.whole(body, "absent") is None


def test_text_or_keeps_an_empty_string_and_defaults_the_rest():
    body = {"s": "", "n": None}
    assert parsed.text_or(body, "s", "old") == ""
    assert parsed.text_or(body, "n", "old") == "old"
    assert parsed.text_or(body, "absent", "old") == "old"


def test_strings_keeps_only_strings_of_a_list():
    assert parsed.strings(["a", 1, None, "b", ""]) == ["a", "b", ""]
    assert parsed.strings("ab") == []
    assert parsed.strings(None) == []

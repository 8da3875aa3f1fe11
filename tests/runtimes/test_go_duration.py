"""Go's duration strings, as the docker provider reads a healthcheck back."""

import pytest

from disinto_infra.runtimes import go_duration
from tests.support import go_durations


# Each pair: what Go's time.ParseDuration then Duration.String() make of the input.
@pytest.mark.parametrize(
    "written, read",
    [
        ("60s", "1m0s"),
        ("1m0s", "1m0s"),
        ("90s", "1m30s"),
        ("3600s", "1h0m0s"),
        ("10m", "10m0s"),
        ("1h30m", "1h30m0s"),
        ("5s", "5s"),
        ("0s", "0s"),
        ("0", "0s"),
        ("500ms", "500ms"),
        ("1.5s", "1.5s"),
        ("0.5m", "30s"),
        ("1500us", "1.5ms"),
        ("100ns", "100ns"),
        ("2h0m5.25s", "2h0m5.25s"),
    ],
)
def test_read_back_is_gos_string(written, read):
    assert go_durations.read_back(written) == read


@pytest.mark.parametrize("text", ["", "60", "1 m", "5x", "-5s", "s"])
def test_what_go_refuses_is_refused(text):
    with pytest.raises(ValueError):
        go_duration.parse(text)


def test_whole_seconds_are_written_in_the_read_back_form():
    for value in (0, 1, 10, 30, 59, 60, 61, 600, 1140, 3600, 3661):
        written = go_duration.of_seconds(value)
        assert go_durations.read_back(written) == written
        assert go_duration.parse(written) == value * 10**9

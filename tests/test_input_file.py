"""Reading a file we did not write: what a newcomer's editor may leave in it is named (issue 28 item 10)."""

from __future__ import annotations

import pytest

from disinto_infra import input_file
from disinto_infra.input_file import InputFileError


@pytest.mark.parametrize(
    "content, why",
    [
        (b'\xef\xbb\xbfname = "x"\n', "starts with a byte-order mark (bytes EF BB BF): save it as UTF-8 without one"),
        (b'name = "x"\x00\n', "holds a NUL byte at byte 10: not a text file"),
    ],
)
def test_a_bom_or_a_nul_byte_is_named(tmp_path, content, why):
    path = tmp_path / "p.toml"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as caught:
        input_file.read_text(path)
    assert caught.value.why == why
    assert str(path) in str(caught.value)


def test_plain_utf8_is_read(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('name = "é"\n', encoding="utf-8")
    assert input_file.read_text(path) == 'name = "é"\n'

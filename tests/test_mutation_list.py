"""The mutation check's list stays runnable: each snippet occurs exactly once in its file.

The check itself (tests/mutations/run.py) is too slow for the default run, so without this a
refactoring that moves a snippet (as the identity/runtime split moved the Agent's wiring) would
only show when someone next runs it.
"""

import pytest

from tests.support.mutations import MUTATIONS, ROOT


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_snippet_occurs_once(mutation):
    text = (ROOT / mutation.file).read_text(encoding="utf-8")
    assert text.count(mutation.old) == 1, (
        f"{mutation.id}: snippet found {text.count(mutation.old)} times in {mutation.file}"
    )
    assert mutation.old != mutation.new


def test_ids_are_unique():
    ids = [m.id for m in MUTATIONS]
    assert len(ids) == len(set(ids))

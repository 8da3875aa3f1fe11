"""Threads that ask servers in parallel, and that an interrupt does not wait for.

`ThreadPoolExecutor`'s `with` joins every worker on the way out, an interrupted one too: Ctrl-C in
`check` waited for each server's timeout. Here a block left by an exception stops without waiting:
queued work is cancelled, and the command's exit does not wait for the workers (commands/cli.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager


@contextmanager
def workers(count: int) -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=count)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)

"""Mutation check: does the suite still fail when the code is wrong? (Not part of the default run.)

    python tests/mutations/run.py                 # every mutation, 2 workers
    python tests/mutations/run.py --only token-diff-dbr user-no-retain
    python tests/mutations/run.py --markdown      # the table for bench/README.md

The list is in tests/support/mutations.py.

The tree (tracked and untracked, not ignored files) is copied to a scratch folder per worker; each mutation replaces one exact snippet
(it must occur exactly once) in one file of that copy, runs the tests that should notice (a targeted
pytest selection, `-x`), and puts the file back. A mutation whose tests still pass *survived*.
The selections first run on the unmutated copy: they must pass, or the whole run is void.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: `python tests/mutations/run.py`
    sys.path.insert(0, str(ROOT))

from tests.support.mutations import MUTATIONS, Mutation  # noqa: E402 (once ROOT is importable)


@dataclass
class Outcome:
    mutation: Mutation
    verdict: str  # killed | survived | error
    seconds: float
    detail: str = ""


def scratch_copy(dest: Path) -> Path:
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    for name in filter(None, files.decode().split("\0")):
        src = ROOT / name
        if src.is_file():  # the working tree's version: uncommitted edits are tested too
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def pytest(copy: Path, args: tuple[str, ...], timeout: float = 600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=copy, capture_output=True, text=True, timeout=timeout)


def run_one(copy: Path, m: Mutation) -> Outcome:
    path = copy / m.file
    original = path.read_text()
    if original.count(m.old) != 1:
        return Outcome(m, "error", 0.0, f"snippet found {original.count(m.old)} times in {m.file}")
    path.write_text(original.replace(m.old, m.new))
    start = time.monotonic()
    try:
        done = pytest(copy, m.tests)
    finally:
        path.write_text(original)
    seconds = time.monotonic() - start
    if done.returncode == 0:
        return Outcome(m, "survived", seconds)
    if done.returncode == 1:
        failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        return Outcome(m, "killed", seconds, failed[0] if failed else "")
    return Outcome(m, "error", seconds, f"pytest exit {done.returncode}: {done.stdout[-300:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="mutation ids")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if args.only is None or m.id in args.only]
    with tempfile.TemporaryDirectory(prefix="mutations-") as tmp:
        copies = [scratch_copy(Path(tmp) / f"w{i}") for i in range(max(1, args.jobs))]
        files = dict.fromkeys(a for m in chosen for a in m.tests if a.startswith("tests/"))
        base = pytest(copies[0], tuple(files))
        if base.returncode != 0:
            print(base.stdout[-2000:])
            print("baseline failed: the unmutated tree must pass these tests first", file=sys.stderr)
            return 2
        free = list(copies)
        lock = threading.Lock()

        def work(m: Mutation) -> Outcome:
            with lock:
                copy = free.pop()
            try:
                return run_one(copy, m)
            finally:
                with lock:
                    free.append(copy)

        with ThreadPoolExecutor(max_workers=len(copies)) as pool:
            outcomes = list(pool.map(work, chosen))
    report(outcomes, args.markdown)
    must = [o for o in outcomes if o.mutation.issue and o.verdict != "killed"]
    return 1 if must or any(o.verdict == "error" for o in outcomes) else 0


def report(outcomes: list[Outcome], markdown: bool) -> None:
    killed = sum(o.verdict == "killed" for o in outcomes)
    if markdown:
        print(f"Run {datetime.date.today().isoformat()}: {killed} of {len(outcomes)} killed.\n")
        print("| mutation | issue 12 | change | verdict | s | first failing test |")
        print("|---|---|---|---|---|---|")
        for o in outcomes:
            change = o.mutation.why().replace("|", "\\|").replace("\n", " ")
            detail = o.detail.replace("|", "\\|")[:90]
            print(
                f"| {o.mutation.id} | {'yes' if o.mutation.issue else ''} | {change} | {o.verdict} | "
                f"{o.seconds:.0f} | {detail} |"
            )
        return
    for o in outcomes:
        print(f"{o.verdict:9} {o.seconds:5.1f}s  {o.mutation.id:40} {o.detail}")
    print(f"{killed} of {len(outcomes)} killed")


if __name__ == "__main__":
    sys.exit(main())

"""A tiny dynamic provider used only to test the engine harness (tests/support/engine.py).

It lives in an importable module so dill pickles it by reference, and it keeps nothing on `self`.
Behaviour is driven by its inputs:

* ``log``: path of a JSON-lines file where every call is recorded (required);
* ``label``: the name the calls are recorded under;
* ``replace_on``: keys whose change requires replacement; ``dbr``: ask for delete-before-replace;
* ``diff_unknown``: answer "unknown" from diff (the engine then compares all inputs itself);
* ``fail_check`` / ``fail_create`` / ``fail_update`` / ``fail_delete``: make that call fail;
* ``sleep``: seconds create/update spend (to observe parallel calls);
* ``stderr``: a line create prints to the host's stderr.

Outputs are the inputs plus ``seq`` (the numeric id), ``token`` and ``greeting`` (the config value
`disinto:greeting` seen by configure()). `read` reports an object gone when its id is listed in
``<log>.gone``.
"""

import itertools
import json
import sys
import threading
import time
from pathlib import Path

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

CONFIG: dict = {}  # filled by configure(); module level, never on self (self is pickled into state)
OUTPUT_ONLY = {"seq", "token", "greeting", "__provider"}

_ids = itertools.count(1)
_lock = threading.Lock()


def _record(props: dict, method: str, **fields) -> None:
    entry = {"m": method, "label": props.get("label"), **fields}
    line = json.dumps(entry, sort_keys=True, default=str) + "\n"
    with _lock, open(props["log"], "a", encoding="utf-8") as f:
        f.write(line)


def _types(props: dict) -> dict:
    return {k: type(v).__name__ for k, v in props.items() if k != "__provider"}


class ToyProvider(ResourceProvider):
    def configure(self, req: ConfigureRequest) -> None:
        CONFIG["greeting"] = req.config.get("greeting")
        CONFIG["secretThing"] = req.config.get("secretThing")

    def check(self, _olds, news):
        unknown = sorted(k for k, v in news.items() if isinstance(v, Unknown))
        _record(news, "check", olds=sorted(k for k in _olds if k != "__provider"), unknown=unknown)
        failures = [CheckFailure("fail_check", "check failure requested")] if news.get("fail_check") else []
        return CheckResult(news, failures)

    def diff(self, _id, olds, news):
        if news.get("diff_unknown"):
            _record(news, "diff", id=_id, changed=None)
            return DiffResult()
        keys = (set(olds) | set(news)) - OUTPUT_ONLY
        changed = sorted(k for k in keys if olds.get(k) != news.get(k))
        replaces = [k for k in changed if k in (news.get("replace_on") or [])]
        _record(news, "diff", id=_id, changed=changed, replaces=replaces)
        return DiffResult(
            changes=bool(changed), replaces=replaces, delete_before_replace=True if news.get("dbr") else None
        )

    def create(self, props):
        t0 = time.time()
        if props.get("fail_create"):
            _record(props, "create", failed=True, t0=t0, t1=time.time())
            raise RuntimeError("toy: fail_create requested")
        if props.get("stderr"):
            print(props["stderr"], file=sys.stderr, flush=True)
        time.sleep(float(props.get("sleep") or 0))
        with _lock:
            n = next(_ids)
        outs = {k: v for k, v in props.items() if k != "__provider"}
        outs.update(seq=n, token=f"tok-{n}", greeting=CONFIG.get("greeting"))
        _record(
            props,
            "create",
            id=f"toy-{n}",
            keys=sorted(props),
            types=_types(props),
            config=dict(CONFIG),
            t0=t0,
            t1=time.time(),
        )
        return CreateResult(f"toy-{n}", outs)

    def update(self, _id, olds, news):
        t0 = time.time()
        if news.get("fail_update"):
            _record(news, "update", id=_id, failed=True)
            raise RuntimeError("toy: fail_update requested")
        time.sleep(float(news.get("sleep") or 0))
        outs = {k: v for k, v in news.items() if k != "__provider"}
        outs.update(seq=olds.get("seq"), token=olds.get("token"), greeting=CONFIG.get("greeting"))
        _record(news, "update", id=_id, old_seq=olds.get("seq"), types=_types(news), t0=t0, t1=time.time())
        return UpdateResult(outs)

    def read(self, id_, props):
        gone_file = Path(props["log"] + ".gone")
        gone = gone_file.exists() and id_ in gone_file.read_text().split()
        _record(props, "read", id=id_, gone=gone)
        if gone:
            return ReadResult("", {})
        return ReadResult(id_, {k: v for k, v in props.items() if k != "__provider"})

    def delete(self, id_, props):
        if props.get("fail_delete"):
            _record(props, "delete", id=id_, failed=True)
            raise RuntimeError("toy: fail_delete requested")
        _record(props, "delete", id=id_, types=_types(props))


class OtherToyProvider(ToyProvider):
    """Same behaviour, different class: its `__provider` blob differs from ToyProvider's."""

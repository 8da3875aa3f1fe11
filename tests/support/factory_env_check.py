"""The factory's `disinto up` check of `.env`, re-stated for tests (the factory is not in CI).

Source: Disinto/disinto @ 2308c4c, `bin/disinto`, `_validate_env_vars` (called first thing by
`disinto_up`). The rule, in our words:
- `.env` is read line by line with bash's `IFS='=' read -r key value`; lines whose key is empty or
  starts (after blanks) with `#` are skipped; a later line wins. `.env` is read here by bash itself,
  so every quirk of that (an unterminated last line never read, an `export ` prefix or an indent
  being part of the key, quotes kept in the value) is bash's own.
- for every table under `[agents]` of every `projects/*.toml` (each a dict, whatever its keys):
  `U` = `forge_user` (default `<name>-bot`) with `tr 'a-z-' 'A-Z_'`; `FORGE_TOKEN_<U>` and
  `FORGE_PASS_<U>` must be non-empty, and `ANTHROPIC_BASE_URL` when the table has a non-empty
  `base_url`, else `ANTHROPIC_API_KEY`. Anything missing: exit 1.
(The legacy `ENABLE_LLAMA_AGENT=1` check is left out: this program never sets it.)
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

# Emits key NUL value NUL per line bash reads; the read loop is the factory's idiom.
_READ = 'while IFS="=" read -r key value; do printf "%s\\0%s\\0" "$key" "$value"; done < "$1"'


def bash_reads(env_file: Path) -> dict[str, str]:
    out = subprocess.run(["bash", "-c", _READ, "bash", str(env_file)], capture_output=True, check=True).stdout
    fields = out.decode().split("\0")[:-1]
    pairs = zip(fields[0::2], fields[1::2], strict=True)
    return {k: v for k, v in pairs if k and not k.lstrip().startswith("#")}


def _upper(user: str) -> str:
    return user.translate(str.maketrans("abcdefghijklmnopqrstuvwxyz-", "ABCDEFGHIJKLMNOPQRSTUVWXYZ_"))


def missing_keys(factory_root: Path) -> list[str]:
    """What `disinto up` would name as missing (empty: it goes on)."""
    env_file = factory_root / ".env"
    present = bash_reads(env_file) if env_file.is_file() else {}
    missing = []
    for toml in sorted((factory_root / "projects").glob("*.toml")):
        agents = tomllib.loads(toml.read_text()).get("agents", {})
        for name, table in agents.items():
            if not isinstance(table, dict):
                continue
            user = _upper(str(table.get("forge_user", f"{name}-bot")))
            backend = "ANTHROPIC_BASE_URL" if table.get("base_url", "") else "ANTHROPIC_API_KEY"
            missing += [k for k in (f"FORGE_TOKEN_{user}", f"FORGE_PASS_{user}", backend) if not present.get(k)]
    return missing

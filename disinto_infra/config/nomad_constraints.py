"""What Nomad accepts in a placement constraint, checked offline: `plan` refuses what `pulumi up` would.

The rules Nomad applies to a job's and a host volume's constraint: an attribute it can resolve; no
value for `is_set` / `is_not_set` and one for every other operator; a Go (RE2) pattern for `regexp`
(`regexp_problem`); go-version's grammar for `version`, and that grammar without `~>` for `semver`.
An empty `regexp` value is refused although Nomad takes it: it matches every node, which is no
constraint at all. Why: docs/decisions/nomad-constraints.md, docs/decisions/nomad-regexps.md.
"""

from __future__ import annotations

import re

import re2

NO_VALUE = frozenset({"is_set", "is_not_set"})

# The interpolations Nomad resolves in a constraint's attribute.
_EXACT_TARGETS = frozenset(
    {"${node.unique.id}", "${node.datacenter}", "${node.unique.name}", "${node.class}", "${node.pool}"}
)
_PREFIX_TARGETS = ("${attr.", "${device.", "${meta.")

# go-version's version and semver grammars, Go's `\s` spelt out: Python's would also take Unicode
# spaces.
_SPACE = r"[\t\n\f\r ]*"
_SEGMENTS = r"v?([0-9]+(?:\.[0-9]+)*?)"
_BUILD = r"(?:\+[0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*)?"
_VERSION = (
    _SEGMENTS
    + r"(?:-[0-9]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*|-?[A-Za-z\-~]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)?"
    + _BUILD
)
_SEMVER = (
    _SEGMENTS
    + r"(?:-[0-9]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*|-[A-Za-z\-~]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)?"
    + _BUILD
)
_VERSION_CONSTRAINT = re.compile(rf"{_SPACE}(<=|>=|!=|~>|<|>|=|){_SPACE}({_VERSION}){_SPACE}")
_SEMVER_CONSTRAINT = re.compile(rf"{_SPACE}(<=|>=|!=|<|>|=|){_SPACE}({_SEMVER}){_SPACE}")
_INT64_MAX = 2**63 - 1  # go-version reads each segment as a 64-bit integer


def attribute_problem(attribute: str) -> str | None:
    if not attribute:
        return "must name a node attribute, like ${node.unique.name} or ${attr.kernel.name}"
    if not attribute.startswith("$"):
        return None  # a literal: Nomad compares it as it is
    if not attribute.startswith("${") or not attribute.endswith("}"):
        return f"{attribute!r} must be written ${{…}}"
    if attribute in _EXACT_TARGETS or attribute.startswith(_PREFIX_TARGETS):
        return None
    return (
        f"{attribute!r} is not an attribute Nomad can resolve: one of {', '.join(sorted(_EXACT_TARGETS))} "
        "or ${attr.…}, ${meta.…}, ${device.…}"
    )


def value_problem(operator: str, value: str) -> str | None:
    """What Nomad would say of `value` under `operator`, or None when it takes it."""
    if operator in NO_VALUE:
        return f'must be left out (or "") for operator {operator!r}: Nomad refuses a value there' if value else None
    if not value:
        return f"is required for operator {operator!r}"
    if operator == "regexp":
        return regexp_problem(value)
    if operator == "version":
        return _version_problem(value, _VERSION_CONSTRAINT, 'a go-version constraint like ">= 1.2, < 2"')
    if operator == "semver":
        return _version_problem(value, _SEMVER_CONSTRAINT, 'a semver constraint like ">= 1.2.0-beta, < 2" (no ~>)')
    return None


def _version_problem(value: str, grammar: re.Pattern[str], kind: str) -> str | None:
    for single in value.split(","):
        found = grammar.fullmatch(single)
        if not found:
            return f"{single.strip()!r} is not {kind}"
        if any(int(part) > _INT64_MAX for part in found.group(3).split(".")):
            return f"{single.strip()!r}: a version number does not fit 64 bits"
    return None


# ---------------------------------------------------------------- Go regexp (RE2) syntax

# Nomad compiles a `regexp` constraint with Go's regexp package, whose grammar is RE2's: google-re2
# judges it (docs/decisions/nomad-regexps.md). Go refuses three things RE2 takes, checked below.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would log each refused pattern to stderr
_MAX_REPEAT = 1000  # Go: "invalid repeat count" above it, however many digits
_MAX_DEPTH = 1000  # Go: "expression nests too deeply"
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_QUOTED = re.compile(r"\\Q.*?(?:\\E|$)", re.S)  # \Q…\E: literal text
# Perl's constructs a user most often brings, named in RE2's refusal.
_PERL_ONLY = (
    (re.compile(r"escape sequence: \\[1-9]"), "a backreference"),
    (re.compile(r"perl operator: \(\?<?[=!]"), "look-around"),
    (re.compile(r"repetition operator: \S*[*+?}]\+"), "a possessive quantifier"),
)


def regexp_problem(pattern: str) -> str | None:
    """Whether Go's `regexp.Compile`, which Nomad uses, takes `pattern`: RE2's verdict, and Go's."""
    try:
        re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        why: str | None = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    else:
        why = _go_only_problem(pattern)
    if why is None:
        return None
    hint = next((f" ({name}, which Go's regexp does not have)" for found, name in _PERL_ONLY if found.search(why)), "")
    return f"is not a Go (RE2) regular expression: {why}{hint}"


def _go_only_problem(pattern: str) -> str | None:
    """\\C (any byte), a repeat count past 1000 written with more digits than RE2 reads, and
    nesting past 1000 (counted as groups: Go counts its parse tree, near enough here)."""
    text = _QUOTED.sub("x", pattern)
    for repeat in _REPEAT.finditer(text):
        if any(int(n) > _MAX_REPEAT for n in repeat.groups() if n):
            return f"invalid repeat count {repeat.group(0)} (at most {_MAX_REPEAT})"
    depth, deepest, i, in_class = 0, 0, 0, False
    while i < len(text):
        c = text[i]
        if c == "\\":
            if text[i + 1 : i + 2] == "C":
                return "invalid escape sequence: \\C (Go has no any-byte class)"
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":  # a `]` first (after an optional `^`) is a literal
            in_class = True
            i += 1
            i += text.startswith("^", i)
            i += text.startswith("]", i)
            continue
        elif c in "()":
            depth += 1 if c == "(" else -1
            deepest = max(deepest, depth)
        i += 1
    return f"expression nests too deeply (over {_MAX_DEPTH})" if deepest >= _MAX_DEPTH else None

"""What Nomad accepts in a placement constraint, checked offline: `plan` refuses what `pulumi up` would.

Nomad checks a job's and a dynamic host volume's constraints with `structs.Constraint.Validate`
(hashicorp/nomad nomad/structs/structs.go, v1.10.0 e26a2bd; host volumes call it from
nomad/structs/host_volumes.go `HostVolume.Validate`):
- `is_set` / `is_not_set` take no value ("does not support an RTarget"); `=`, `==`, `is`, `!=`,
  `not`, `<`, `<=`, `>`, `>=` and the `set_contains*` operators need one;
- `regexp`: Go's `regexp.Compile` (RE2 syntax, see `regexp_problem`);
- `version`: hashicorp/go-version `NewConstraint` (go-version v1.7.0 fcaa532 / v1.9.0 b80b1e6,
  constraint.go and version.go; Nomad v1.10.0 / main pin them);
- `semver`: Nomad's helper/constraints/semver `NewConstraint`: go-version's grammar without `~>`
  and with a `-` before a pre-release;
- the attribute must be given, and on main (aa026cc, nomad/structs/constraint.go
  `validateConstraintAttribute`) an interpolated one must be one Nomad can resolve.
A value this program requires where Nomad would take an empty one (`regexp`) is stricter than
Nomad on purpose: an empty pattern matches every node, which is no constraint at all.
"""

from __future__ import annotations

import re
import warnings

NO_VALUE = frozenset({"is_set", "is_not_set"})

# main nomad/structs/constraint.go: the interpolations a constraint's attribute may use.
_EXACT_TARGETS = frozenset(
    {"${node.unique.id}", "${node.datacenter}", "${node.unique.name}", "${node.class}", "${node.pool}"}
)
_PREFIX_TARGETS = ("${attr.", "${device.", "${meta.")

# go-version's VersionRegexpRaw / SemverRegexpRaw (version.go), Go's `\s` spelt out: Python's
# would also take Unicode spaces.
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
_INT64_MAX = 2**63 - 1  # go-version parses each segment with strconv.ParseInt(…, 64)


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

# Go's regexp/syntax (golang/go src/regexp/syntax/parse.go: parse, parseEscape, parseClass,
# parsePerlFlags): what may follow a backslash. Letters not listed are errors there, while Python
# takes some (\Z, \g, \u, \N…); \p, \P, \Q and \z are Go's and not Python's.
_GO_ESCAPE_LETTERS = frozenset("afnrtvxAzbBdDsSwWpPQ")  # \C ("any byte") is refused there
_GO_NOT_IN_CLASS = frozenset("AzbBQ")  # in a [class] Go reads only parseEscape's letters and \d, \p…
_GO_FLAGS = frozenset("imsU")
_POSIX_CLASSES = frozenset(
    "alnum alpha ascii blank cntrl digit graph lower print punct space upper word xdigit".split()
)
_MAX_REPEAT = 1000  # Go: "invalid repeat count" above it
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_GROUP_NAME = re.compile(r"[A-Za-z0-9_]+")


def regexp_problem(pattern: str) -> str | None:
    """Whether Go's `regexp.Compile` (RE2 syntax, which Nomad uses) takes `pattern`.

    No RE2 binding is a dependency here, so this reads the pattern as Go's parser does for the
    constructs where RE2 and Python's `re` differ (backreferences, look-around, atomic groups,
    possessive quantifiers, conditionals, comments, flags other than i/m/s/U, repeat counts over
    1000 and escapes Go does not know are refused; Go's \\p{…}, \\Q…\\E, \\z, (?U) and flag groups
    anywhere are taken), translates the rest to Python and lets `re.compile` judge the structure
    (brackets, ranges, repetition of nothing). Not checked: the names inside \\p{…}.
    """
    try:
        python = _to_python(pattern)
    except ValueError as exc:
        return f"is not a Go (RE2) regular expression: {exc}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Python's FutureWarning on "[[", valid in both
            re.compile(python)
    except re.error as exc:
        return f"is not a regular expression: {exc.msg}"
    return None


def _to_python(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            piece, i = _escape(pattern, i, in_class)
            out.append(piece)
            continue
        if in_class:
            if pattern.startswith("[:", i) and pattern.find(":]", i + 2) != -1:
                # Go reads `[:name:]` in a class as a POSIX class (regexp/syntax parse.go maybePosixClass).
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2 : end].removeprefix("^")
                if name not in _POSIX_CLASSES:
                    raise ValueError(f"unknown class [:{name}:]")
                out.append(pattern[i : end + 2])
                i = end + 2
                continue
            in_class = c != "]"
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            # A `]` (after an optional `^`) first in a class is a literal in both.
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):
                out.append("\\]")
                i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            piece, i = _group_open(pattern, i)
            out.append(piece)
            continue
        if c in "*+?}":
            i = _after_quantifier(pattern, i, c)
            out.append(c)
            continue
        if c == "{":
            repeat = _REPEAT.match(pattern, i)
            if repeat:
                low, high = repeat.group(1), repeat.group(2)
                if int(low) > _MAX_REPEAT or (high and int(high) > _MAX_REPEAT):
                    raise ValueError(f"repeat count {repeat.group(0)} is over {_MAX_REPEAT}")
        out.append(c)
        i += 1
    return "".join(out)


def _after_quantifier(pattern: str, i: int, c: str) -> int:
    """Past one quantifier character; a possessive `+` after a quantifier is Perl's, not Go's."""
    closes_repeat = c != "}" or re.search(r"\{\d+(?:,\d*)?\}$", pattern[: i + 1]) is not None
    if pattern[i + 1 : i + 2] == "+" and closes_repeat:
        raise ValueError(f"possessive quantifier {c}+ (nested repetition)")
    return i + 1


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    if i + 1 >= len(pattern):
        raise ValueError("trailing backslash")
    e = pattern[i + 1]
    if e.isdigit():
        return _octal(pattern, i)
    if e.isalpha() and e.isascii():
        if e not in _GO_ESCAPE_LETTERS or (in_class and e in _GO_NOT_IN_CLASS):
            raise ValueError(f"unknown escape \\{e}" + (" in a class" if in_class else ""))
        if e in "pP":
            return _unicode_class(pattern, i)
        if e == "Q":
            end = pattern.find("\\E", i + 2)
            literal = pattern[i + 2 :] if end == -1 else pattern[i + 2 : end]
            return re.escape(literal), len(pattern) if end == -1 else end + 2
        if e == "z":
            return "\\Z", i + 2
        if e == "x" and pattern.startswith("{", i + 2):
            end = pattern.find("}", i + 3)
            digits = pattern[i + 3 : end] if end != -1 else ""
            if not re.fullmatch(r"[0-9A-Fa-f]{1,8}", digits) or int(digits, 16) > 0x10FFFF:
                raise ValueError(f"bad escape \\x{{{digits}}}")
            return f"\\U{int(digits, 16):08x}", end + 1
        return pattern[i : i + 2], i + 2
    if not e.isascii():
        raise ValueError(f"unknown escape \\{e}")
    return pattern[i : i + 2], i + 2


def _octal(pattern: str, i: int) -> tuple[str, int]:
    """Go reads \\0, and \\1-\\7 followed by another octal digit, as an octal character code (up to
    three digits); a lone \\1-\\9 is a backreference, which RE2 does not have."""
    digits = re.match(r"[0-7]{1,3}", pattern[i + 1 :])
    if not digits or (digits.group(0)[0] != "0" and len(digits.group(0)) == 1):
        raise ValueError(f"backreference \\{pattern[i + 1]}")
    return f"\\u{int(digits.group(0), 8):04x}", i + 1 + digits.end()


def _unicode_class(pattern: str, i: int) -> tuple[str, int]:
    """\\pL or \\p{Greek}: a character class Python's re has no syntax for; stands in as \\w."""
    if pattern.startswith("{", i + 2):
        end = pattern.find("}", i + 3)
        if end == -1 or not re.fullmatch(r"\^?[A-Za-z_]+", pattern[i + 3 : end]):
            raise ValueError(f"bad Unicode class {pattern[i : end + 1 if end != -1 else len(pattern)]}")
        return "\\w", end + 1
    if i + 2 >= len(pattern) or not pattern[i + 2].isalpha():
        raise ValueError("bad Unicode class \\p")
    return "\\w", i + 3


def _group_open(pattern: str, i: int) -> tuple[str, int]:
    """`(?…`: Go knows (?:, (?P<name>, (?<name> and flags i, m, s, U (set or cleared)."""
    rest = pattern[i + 2 :]
    for named in ("P<", "<"):
        if rest.startswith(named) and not rest.startswith(("<=", "<!")):
            end = rest.find(">")
            name = rest[len(named) : end] if end != -1 else ""
            if not _GROUP_NAME.fullmatch(name):
                raise ValueError(f"bad group name {name!r}")
            return f"(?P<{name}>", i + 2 + end + 1
    flags = re.match(r"([A-Za-z]*)(?:-([A-Za-z]*))?([:)])", rest)
    if not flags:
        raise ValueError(f"(?{rest[:2]}… (look-around, atomic group, comment or conditional)")
    on, off, closer = flags.group(1), flags.group(2) or "", flags.group(3)
    unknown = set(on + off) - _GO_FLAGS
    if unknown:
        raise ValueError(f"flag {''.join(sorted(unknown))} (Go knows i, m, s and U)")
    if flags.group(2) is not None and not off:
        raise ValueError("(?…-) clears no flag")
    # Flags change what matches, not whether the pattern is valid: Python checks the group alone.
    return ("(?:" if closer == ":" else ""), i + 2 + flags.end()

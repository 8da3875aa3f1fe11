"""Nomad's constraint rules, read offline (nomad_constraints.py): what each operator takes as a
value and which attributes Nomad resolves, each held to the Go source named in the module."""

import pytest

from disinto_infra.config.nomad_constraints import attribute_problem, regexp_problem, value_problem

# Go's regexp/syntax takes these (RE2); several are not Python's syntax and must not be refused.
GO_ACCEPTS = [
    r"^box[0-9]+$",
    r"\d+\.\d+",
    r"a{2,3}?",
    r"[]a]",
    r"[^]a]",
    r"a|b",
    r"(?i:gpu)",
    r"(?i)abc(?U)x",
    r"(?P<n>x)",
    r"(?<n>x)",
    r"\p{Greek}+",
    r"\pL",
    r"[\p{Lu}_]",
    r"\Qa.b\E",
    r"x\z",
    r"\Ax",
    r"(?)x",
    r"[[:alpha:]]+",
    r"[[:^digit:]]",
    r"\x{263a}",
    r"\x41",
    r"\0",
    r"\12",
    r"\177",
    r"a{1000}",
    r"[:]",
    r"[a:]b]",
    r"[]]",
    r"[\d\s.]",
]
# Go refuses these, each for the reason shown (RE2's words, or ours where Go is stricter than RE2).
GO_REFUSES = {
    r"(a)\1": r"invalid escape sequence: \1 (a backreference, which Go's regexp does not have)",
    r"\8": r"invalid escape sequence: \8",
    r"(?=x)": "invalid perl operator: (?= (look-around, which Go's regexp does not have)",
    r"(?!x)": "invalid perl operator: (?!",
    r"(?<=x)a": "invalid perl operator: (?<=",
    r"(?<!x)a": "invalid perl operator: (?<! (look-around, which Go's regexp does not have)",
    r"(?>a)": "invalid perl operator: (?>",  # atomic group
    r"(?#note)": "invalid perl operator: (?#",  # comment
    r"(?(1)a|b)": "invalid perl operator: (?(",  # conditional
    r"a*+": "bad repetition operator: *+ (a possessive quantifier, which Go's regexp does not have)",
    r"a++": "bad repetition operator: ++",
    r"a{2}+": "bad repetition operator: {2}+ (a possessive quantifier",
    r"a{1001}": "invalid repetition size: {1001}",
    r"a{1,2000}": "invalid repetition size: {1,2000}",
    r"\Z": r"invalid escape sequence: \Z",
    r"\g<1>": r"invalid escape sequence: \g",
    r"\N{DASH}": r"invalid escape sequence: \N",
    r"(?x)a b": "invalid perl operator: (?x",  # a flag Go does not have
    r"(?a)x": "invalid perl operator: (?a",
    r"[[:vowel:]]": "invalid character class range: [:vowel:]",
    r"\x{zz}": r"invalid escape sequence: \x{z",
    r"\p{": r"invalid character class range: \p{",
    r"\p{Nope}": r"invalid character class range: \p{Nope}",
    "a\\": "trailing \\",
    r"[\b]": r"invalid escape sequence: \b",
    r"[\z]": r"invalid escape sequence: \z",
    r"[a-": "missing ]: [a-",
    r"(": "missing ): (",
    r"*a": "no argument for repetition operator: *",
    r"a**": "bad repetition operator: **",
    # Go is stricter than RE2 here (regexp_problem checks these itself)
    r"\C": r"invalid escape sequence: \C",
    r"[\C]": r"invalid escape sequence: \C",
    "x{9876543210}": "invalid repeat count {9876543210} (at most 1000)",
    "x{1,9876543210}": "invalid repeat count {1,9876543210} (at most 1000)",
    "(" * 1000 + ")" * 1000: "nests too deeply",
    "(?:" * 1000 + ")*" * 1000: "nests too deeply",
}

# Go's own vectors: `invalidRegexps` in regexp/syntax/parse_test.go (golang/go, the Go that builds
# Nomad 1.10), which Parse must refuse. The invalid-UTF-8 ones cannot occur in a TOML string.
GO_INVALID = [
    *("(", ")", "(a", "a)", "(a))", "(a|b|", "a|b|)", "(a|b|))", "(a|b", "a|b)", "(a|b))"),
    *("[a-z", "([a-z)", "[a-z)", "([a-z]))", "x{1001}", "x{9876543210}", "x{2,1}", "x{1,9876543210}"),
    *("(?P<name>a", "(?P<name>", "(?P<name", "(?P<x y>a)", "(?P<>a)"),
    *("(?<name>a", "(?<name>", "(?<name", "(?<x y>a)", "(?<>a)", "[a-Z]", "(?i)[a-Z]", r"\Q\E*"),
    *("a{100000}", "a{100000,}", "((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}){2})"),
    "(" * 1000 + ")" * 1000,
    "(?:" * 1000 + ")*" * 1000,
    "(" + "(xx?)" * 1000 + "){1000}",
    "(xx?){1000}" * 1000,
    r"\pL" * 27000,
]


@pytest.mark.parametrize("pattern", GO_INVALID, ids=lambda p: p[:30])
def test_go_own_invalid_regexps_are_refused(pattern):
    assert regexp_problem(pattern) is not None


def test_refusing_a_pattern_writes_nothing_to_stderr(capfd):
    """RE2 logs each pattern it refuses unless told not to; validate's output must hold only ours."""
    assert regexp_problem("(?=x)") is not None
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("pattern", GO_ACCEPTS)
def test_go_regexps_are_taken(pattern):
    assert regexp_problem(pattern) is None


@pytest.mark.parametrize("pattern, fragment", GO_REFUSES.items())
def test_what_go_refuses_is_refused_with_the_reason(pattern, fragment):
    problem = regexp_problem(pattern)
    assert problem is not None and fragment in problem, problem


@pytest.mark.parametrize(
    "operator, value",
    [
        ("version", ">= 1.2, < 2"),
        ("version", "~> 1.2"),
        ("version", "1.2beta"),
        ("version", " = v1.2.3-rc.1+build.5 "),
        ("semver", ">= 1.2.0-beta"),
        ("semver", "!= 2.0.0, > 1"),
        ("set_contains", "a,b"),
        ("=", "box1"),
        ("is_set", ""),
        ("is_not_set", ""),
        ("regexp", "^box"),
    ],
)
def test_values_nomad_takes(operator, value):
    assert value_problem(operator, value) is None


@pytest.mark.parametrize(
    "operator, value, fragment",
    [
        # structs.Constraint.Validate (v1.10.0): no RTarget for is_set / is_not_set, one for the others
        ("is_set", "true", "must be left out"),
        ("is_not_set", "x", "must be left out"),
        ("=", "", "is required"),
        ("!=", "", "is required"),
        ("set_contains_any", "", "is required"),
        ("regexp", "", "is required"),
        ("regexp", "(?=x)", "Go (RE2)"),
        # hashicorp/go-version NewConstraint; Nomad's semver: no ~>, a '-' before a pre-release
        ("version", "", "is required"),
        ("version", "1.x", "'1.x' is not a go-version constraint"),
        ("version", ">= 1.2,", "'' is not"),
        ("version", "=> 1.2", "'=> 1.2' is not"),
        ("version", "99999999999999999999", "64 bits"),
        ("semver", "~> 1.2", "no ~>"),
        ("semver", "1.2beta", "'1.2beta' is not a semver constraint"),
    ],
)
def test_values_nomad_refuses(operator, value, fragment):
    problem = value_problem(operator, value)
    assert problem is not None and fragment in problem, problem


@pytest.mark.parametrize(
    "attribute",
    ["${node.unique.name}", "${node.pool}", "${attr.kernel.name}", "${meta.rack}", "${device.model}", "rack-1"],
)
def test_attributes_nomad_resolves(attribute):
    assert attribute_problem(attribute) is None


@pytest.mark.parametrize(
    "attribute, fragment",
    [
        ("", "must name a node attribute"),
        ("${node.name}", "not an attribute Nomad can resolve"),
        ("$node.class", "must be written ${…}"),
        ("${attr.kernel.name", "must be written ${…}"),
    ],
)
def test_attributes_nomad_refuses(attribute, fragment):
    problem = attribute_problem(attribute)
    assert problem is not None and fragment in problem, problem

"""Nomad's constraint rules, read offline (nomad_constraint_rules.py): what each operator takes as a
value and which attributes Nomad resolves, each held to the Go source named in the module."""

import pytest

from disinto_infra.runtimes.nomad.constraint_rules import attribute_problem, regexp_problem, value_problem

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
# Go refuses these; Python's re takes most of them, so a plain re.compile would let them through.
GO_REFUSES = {
    r"(a)\1": "backreference",
    r"\8": "backreference",
    r"(?=x)": "look-around",
    r"(?!x)": "look-around",
    r"(?<=x)a": "look-around",
    r"(?<!x)a": "look-around",
    r"(?>a)": "atomic",
    r"(?#note)": "comment",
    r"(?(1)a|b)": "conditional",
    r"a*+": "possessive",
    r"a++": "possessive",
    r"a{2}+": "possessive",
    r"a{1001}": "over 1000",
    r"a{1,2000}": "over 1000",
    r"\Z": r"unknown escape \Z",
    r"\g<1>": r"unknown escape \g",
    r"\N{DASH}": r"unknown escape \N",
    r"(?x)a b": "flag x",
    r"(?a)x": "flag a",
    r"[[:vowel:]]": "[:vowel:]",
    r"\x{zz}": r"bad escape \x{zz}",
    r"\p{": "bad Unicode class",
    "a\\": "trailing backslash",
    r"\C": r"unknown escape \C",
    r"[\b]": r"unknown escape \b in a class",
    r"[\z]": r"unknown escape \z in a class",
    # structure: Python's parser judges it as Go's would
    r"[a-": "unterminated character set",
    r"(": "missing )",
    r"*a": "nothing to repeat",
    r"a**": "multiple repeat",
}


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

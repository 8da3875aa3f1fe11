"""The leaf layer: the project TOML and the stack settings, parsed and checked offline, and the
grammars they need (token scopes, image names, Nomad constraints, Docker host paths, formula
paths). It imports no Pulumi, no provider and no runtime (tests/config/test_layer.py holds that):
`validate` and every layer above build on it."""

"""Forgejo identities as Pulumi dynamic resources, one module each (user, token, collaborator,
profile_repo), with the client and connection they share.

Nothing is imported here: the validation of the project TOML imports `forgejo.scopes` without the
providers, and the provider host unpickles each provider from its own module.
"""

"""Forgejo identities as Pulumi dynamic resources.

Imported by the dynamic-provider host to unpickle providers: no side effects at import time.
"""

from disinto_infra.factory.formula_file import FormulaNotFoundError, formula_path
from disinto_infra.forgejo.collaborator import ForgejoCollaborator, ForgejoCollaboratorArgs, ForgejoCollaboratorProvider
from disinto_infra.forgejo.profile_repo import ForgejoProfileRepo, ForgejoProfileRepoArgs, ForgejoProfileRepoProvider
from disinto_infra.forgejo.token import ForgejoToken, ForgejoTokenArgs, ForgejoTokenProvider
from disinto_infra.forgejo.user import ForgejoUser, ForgejoUserArgs, ForgejoUserProvider

__all__ = [
    "ForgejoCollaborator",
    "ForgejoCollaboratorArgs",
    "ForgejoCollaboratorProvider",
    "ForgejoProfileRepo",
    "ForgejoProfileRepoArgs",
    "ForgejoProfileRepoProvider",
    "FormulaNotFoundError",
    "formula_path",
    "ForgejoToken",
    "ForgejoTokenArgs",
    "ForgejoTokenProvider",
    "ForgejoUser",
    "ForgejoUserArgs",
    "ForgejoUserProvider",
]

"""Forgejo identities as Pulumi dynamic resources.

Imported by the dynamic-provider host to unpickle providers: no side effects at import time.
"""

from .collaborator import ForgejoCollaborator, ForgejoCollaboratorArgs, ForgejoCollaboratorProvider
from .formula_file import FormulaNotFoundError, formula_path
from .profile_repo import ForgejoProfileRepo, ForgejoProfileRepoArgs, ForgejoProfileRepoProvider
from .token import ForgejoToken, ForgejoTokenArgs, ForgejoTokenProvider
from .user import ForgejoUser, ForgejoUserArgs, ForgejoUserProvider

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

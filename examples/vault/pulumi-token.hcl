# The least a `vault:token` needs for a `disinto:runtime: nomad` stack with the default settings
# (vaultKvMount "kv", vaultKvPrefix "disinto/bots", vaultAuthMount "jwt-nomad"); change those three
# names where your stack sets others. Write it and make a token with it:
#   vault policy write disinto-infra examples/vault/pulumi-token.hcl
#   vault token create -policy=disinto-infra -period=24h
# (`check` asks Vault what the token may do, GET sys/internal/ui/resultant-acl, and names each
# right below that is missing; see docs/nomad.md for where each rule comes from.)

# Each agent's KV v2 secret, and the review token's (`_forge-review`): a new secret is a `create`,
# a new version (a rotation) an `update`; the provider reads each back (vault_kv_secret_v2).
path "kv/data/disinto/bots/*" {
  capabilities = ["create", "update", "read"]
}

# Removing an agent deletes its secret with every version (delete_all_versions: DELETE on
# metadata/); the provider reads the metadata back too.
path "kv/metadata/disinto/bots/*" {
  capabilities = ["read", "delete"]
}

# Each agent's policy bot-<name> (vault_policy: PUT/GET/DELETE sys/policies/acl/<name>).
path "sys/policies/acl/bot-*" {
  capabilities = ["create", "update", "read", "delete"]
}

# Each agent's JWT role bot-<name> on the Nomad auth mount (vault_jwt_auth_backend_role). Its
# parameters are those the provider writes (jwtAuthBackendRoleDataToWrite and updateTokenFields,
# hashicorp/terraform-provider-vault 3144751), any value, but a role may grant bot-* policies only:
# this token cannot hand a role `admin` or any other policy of the cluster.
# What remains: it writes the text of every bot-* policy (below), so a bot-* policy it writes can
# still hold any non-root right, and anyone who may submit a job in the agents' namespace (`nomad
# job run`, `alloc exec`) reads the secrets the bot roles grant. Treat this token as policy-admin
# for bot-*, and give the agents a Nomad namespace of their own (docs/nomad.md).
path "auth/jwt-nomad/role/bot-*" {
  capabilities = ["create", "update", "read", "delete"]
  allowed_parameters = {
    "token_policies"          = ["bot-*"]
    "role_type"               = []
    "bound_audiences"         = []
    "user_claim"              = []
    "user_claim_json_pointer" = []
    "bound_claims"            = []
    "bound_claims_type"       = []
    "bound_subject"           = []
    "claim_mappings"          = []
    "groups_claim"            = []
    "max_age"                 = []
    "allowed_redirect_uris"   = []
    "oidc_scopes"             = []
    "clock_skew_leeway"       = []
    "expiration_leeway"       = []
    "not_before_leeway"       = []
    "verbose_oidc_logging"    = []
    "token_type"              = []
    "token_period"            = []
    "token_ttl"               = []
    "token_max_ttl"           = []
    "token_explicit_max_ttl"  = []
    "token_num_uses"          = []
    "token_bound_cidrs"       = []
    "token_no_default_policy" = []
    "alias_metadata"          = []
  }
}

# The Vault provider makes a short-lived child token per run (unless vault:skipChildToken is set).
path "auth/token/create" {
  capabilities = ["update"]
}

# Only for `check` (it reads; none of these is needed by `pulumi up`): the KV mount's version,
# the auth method's type, the bot policies it warns about, and the token's own rights.
path "sys/mounts/kv" {
  capabilities = ["read"]
}

path "sys/auth" {
  capabilities = ["read"]
}

path "sys/policies/acl" {
  capabilities = ["list"]
}

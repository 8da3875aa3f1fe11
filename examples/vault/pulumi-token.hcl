# The least a `vault:token` needs for a `disinto:runtime: nomad` stack with the default settings
# (vaultKvMount "kv", vaultKvPrefix "disinto/bots", vaultAuthMount "jwt-nomad"); change those three
# names where your stack sets others. Write it and make a token with it:
#   vault policy write disinto-infra examples/vault/pulumi-token.hcl
#   vault token create -policy=disinto-infra -period=24h
# (`check` asks Vault what the token may do, GET sys/internal/ui/resultant-acl, and names each
# right below that is missing; see README "On Nomad and Vault" for where each rule comes from.)

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

# Each agent's JWT role bot-<name> on the Nomad auth mount (vault_jwt_auth_backend_role).
path "auth/jwt-nomad/role/bot-*" {
  capabilities = ["create", "update", "read", "delete"]
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

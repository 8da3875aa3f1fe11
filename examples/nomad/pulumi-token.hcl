# The least a `nomad:secretId` (an ACL token) needs for a `disinto:runtime: nomad` stack, where
# Nomad's ACLs are on, with nomadNamespace "default" and nomadNodePool "agents"; change those two
# names where your stack sets others. Write it and make a token with it:
#   nomad acl policy apply disinto-infra examples/nomad/pulumi-token.hcl
#   nomad acl token create -name=disinto-infra -policy=disinto-infra
# Where each rule comes from: docs/nomad.md (hashicorp/nomad v1.10.0). `check`
# reads the token and its policies (GET /v1/acl/token/self, /v1/acl/policy/<name>) and names each
# right below that is missing.

namespace "default" {
  # submit-job: register the agents' jobs, and stop and purge a removed agent's
  # (nomad/job_endpoint.go Register, Deregister). read-job: the provider reads each job back;
  # `check` reads the forgejo service. host-volume-create (which includes host-volume-read,
  # acl/policy.go expandNamespacePolicy): the agents' dynamic host volumes
  # (nomad/host_volume_endpoint.go Create). No host-volume-delete: the stack never deletes a
  # volume (they are kept when an agent goes, retain_on_delete); freeing a kept one by hand,
  # `nomad volume delete -type host <id>`, needs host-volume-delete, which neither the namespace's
  # `policy = "write"` nor host-volume-create includes: give it to the token that does that.
  capabilities = ["submit-job", "read-job", "host-volume-create"]
}

# Registering a job checks a mount right on every host volume its groups ask for
# (nomad/job_endpoint.go Register): read-write for each agent's own two volumes, read-only (or
# read-write) for the factory's two static ones the job mounts read-only.
host_volume "project-repos-*" {
  capabilities = ["mount-readwrite"]
}

host_volume "agents-*-data" {
  capabilities = ["mount-readwrite"]
}

host_volume "factory-projects" {
  capabilities = ["mount-readonly"]
}

host_volume "ops-repo" {
  capabilities = ["mount-readonly"]
}

# Only for `check`: the node pool and its nodes (whether any is ready and eligible).
node_pool "agents" {
  policy = "read"
}

node {
  policy = "read"
}

# Only for `check`: the asked agent's config, for a client's max_kill_timeout (GET /v1/agent/self).
agent {
  policy = "read"
}

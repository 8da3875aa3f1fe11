"""The nomad runtime: its resources, the agent's job, the job API types and the Vault policy."""

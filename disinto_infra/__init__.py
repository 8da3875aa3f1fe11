"""disinto-infra: the agent fleet of a disinto factory, as a Pulumi program."""

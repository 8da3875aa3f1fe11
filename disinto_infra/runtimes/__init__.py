"""Where an agent runs: what a runtime is (base), the agent's env, docker, and nomad."""

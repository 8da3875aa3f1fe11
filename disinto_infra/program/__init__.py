"""The Pulumi program: the Agent component, the fleet it builds, and the offline plan under mocks."""

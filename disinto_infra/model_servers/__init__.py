"""The agents' model servers: the llama-server / OpenAI-compatible probe and the slots rule."""

"""How long a test lets a server that answers take: long enough that no load on CI's two shared
cores exhausts it. A test of a timeout uses a server that never answers, with a short budget of its own."""

ANSWER_BUDGET = 60

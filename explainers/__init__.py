"""Built-in explainers. Importing this package registers them in :data:`audiox_bench.registry.explainers`."""

from audiox_bench.explainers import audiolime, slime  # noqa: F401

"""Built-in explainers. Importing this package registers them in :data:`audiox_bench.core.registry.explainers`."""

from audiox_bench.explainers import (  # noqa: F401
    audiolime,
    baselines,
    slime,
)

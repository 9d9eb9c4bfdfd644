"""Built-in metrics. Importing this package registers them in :data:`audiox_bench.registry.metrics`."""

from audiox_bench.metrics import (
    stability,  # noqa: F401
    topk,  # noqa: F401
)

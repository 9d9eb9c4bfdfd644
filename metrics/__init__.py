"""Built-in metrics. Importing this package registers them in :data:`audiox_bench.core.registry.metrics`."""

from audiox_bench.metrics import (  # noqa: F401
    faithfulness,
    label_flip,
    randomization,
    stability,
    topk,
)

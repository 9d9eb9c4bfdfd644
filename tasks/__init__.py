"""Built-in tasks. Importing this package registers them in :data:`audiox_bench.core.registry.tasks`."""

from audiox_bench.tasks import (
    adversarial,  # noqa: F401
    confound,  # noqa: F401
    vocals,  # noqa: F401
)

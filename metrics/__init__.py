"""Built-in metrics: every module here is discovered and imported by :data:`audiox_bench.core.registry.metrics`
on first lookup (a new metric is one new file)."""

"""Built-in explainers: every module here is discovered and imported by
:data:`audiox_bench.core.registry.explainers` on first lookup (a new explainer is one new file)."""

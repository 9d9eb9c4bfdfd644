"""Built-in tasks: every module here is discovered and imported by :data:`audiox_bench.core.registry.tasks`
on first lookup (a new task is one new file). ``common/`` holds what the built-in tasks share."""

"""Helpers of the built-in tasks."""

"""Exception types of AudioX-Bench.

Every error a user can cause derives from :class:`AudioxError` and carries a one-line message; the CLI
prints it as ``error: <message>`` and exits with status 2.
"""


class AudioxError(Exception):
    """Base class of every error caused by user input or by a failed check."""


class SpecError(AudioxError, ValueError):
    """A ``name:key=value`` specification string could not be parsed or does not fit its target."""


class UnknownNameError(AudioxError, KeyError):
    """A task, explainer, metric or separator name is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidInputError(AudioxError, ValueError):
    """Audio, arrays or files that cannot be used (NaNs, silence, wrong shape, unreadable)."""


class ValidityError(AudioxError):
    """A task's model failed its validity check, so the task refuses to serve ground truth."""


class ExplainerOutputError(AudioxError):
    """An explainer returned something that is not a valid explanation."""


class NotApplicableError(AudioxError):
    """An explainer or metric does not apply to this model or factorization (shown as N/A, not as a
    failure)."""

"""The one error of data generation: a request the generator or the writer cannot fulfil as given."""

from __future__ import annotations

from tiering.errors import UsageError


class GenerateRefused(UsageError, ValueError):
    """A generation or writing request that cannot be met (unknown district, too many firms, a year the panel does
    not hold, a file type or unit not written); the message says what can be asked instead (exit 2)."""

    id = "generate-refused"

"""One error tree for the whole product.

Every error names the thing that is wrong and says what to do next. The CLI catches `CostwardenError` in one place
and prints `error: <message>` (exit 1); anything else is a bug and shows a traceback only with `--debug`.
"""


class CostwardenError(Exception):
    """Base class: a message a user can act on."""

    exit_code = 1


class ConfigError(CostwardenError):
    """The config file or an environment variable is wrong."""


class UsageError(CostwardenError):
    """The command line is wrong (exit status 2, like argparse)."""

    exit_code = 2


class SourceError(CostwardenError):
    """A source (file, folder, bucket, database) cannot be listed or read."""


class FormatDetectionError(SourceError):
    """We could not tell which format a source holds."""


class BadInputError(CostwardenError):
    """A file's content is not what its format promises (used for whole-file failures)."""


class WarehouseError(CostwardenError):
    """The DuckDB warehouse cannot be opened, is locked, or a query failed."""


class TransientError(CostwardenError):
    """Worth retrying: throttling, a lock held by another process, a network blip."""

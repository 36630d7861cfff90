"""The errors newsdesk raises. A page that is not an article is not an error (see ``Skip``).

::

    NewsdeskError
    ├── ConfigurationError      a setting or option that cannot work (bad URL, bad file)
    ├── StorageUnavailable      the database cannot be reached now; worth retrying
    ├── BrokerUnavailable       the broker (Redis) cannot be reached now
    └── ExtractionTimeout       extraction of one page ran past its time limit
"""


class NewsdeskError(Exception):
    """Base of every error newsdesk raises on purpose."""


class ConfigurationError(NewsdeskError):
    """A setting or command-line option that cannot work; the message says which and why."""


class StorageUnavailable(NewsdeskError):
    """The database cannot be reached or is locked now; a later attempt may succeed."""


class BrokerUnavailable(NewsdeskError):
    """The broker (Redis) cannot be reached now; the message names it and why."""


class ExtractionTimeout(NewsdeskError):
    """Extraction of one page ran past ``EXTRACT_TIME_LIMIT``."""

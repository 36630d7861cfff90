"""What a command checks before it starts: that its database opens and its Redis answers.

Each failure is a ``NewsdeskError`` whose message names the URL (password masked) and what is
wrong with it, so the command line can end in one line that says what to fix.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError

from storage.sql import Database, safe_url
from workers.errors import BrokerUnavailable, ConfigurationError

# What a broker URL may start with: the Redis transports of Celery (kombu) that newsdesk's own
# use of Redis (crawl locks, the shared frontier, delivery counts) understands too.
REDIS_SCHEMES = ("redis", "rediss")


def open_database(url: str, *, migrate: bool = True) -> Database:
    """The database at ``url``, opened; what keeps it from opening is a one-line error."""
    try:
        return Database.open(url, migrate=migrate)
    except OSError as error:  # the folder of a SQLite file cannot be made
        raise ConfigurationError(
            f"cannot use database {safe_url(url)}: {error.strerror}: {error.filename}"
        ) from error
    except DBAPIError as error:  # not a database (a SQLite URL naming another kind of file)
        raise ConfigurationError(f"cannot use database {safe_url(url)}: {error.orig}") from error


def check_broker_url(url: str) -> None:
    """ConfigurationError unless ``url`` is empty (no broker) or a Redis URL."""
    if url and urlsplit(url).scheme not in REDIS_SCHEMES:
        raise ConfigurationError(
            f"the broker {safe_url(url)} is not a Redis URL: give redis://HOST:6379/0"
        )


def reach_redis(url: str, what: str = "the broker") -> None:
    """BrokerUnavailable unless the Redis at ``url`` answers a ping within a few seconds."""
    import redis

    check_broker_url(url)
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        raise BrokerUnavailable(f"cannot reach {what} {safe_url(url)}: {error}") from error
    finally:
        client.close()

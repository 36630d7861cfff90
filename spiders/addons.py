"""newsdesk's Scrapy add-on: settings adjusted once Scrapy has merged them, before a crawl starts.

Scrapy imports every extension listed in ``EXTENSIONS_BASE``, even one that then finds itself
disabled, and even one set to ``None`` in ``EXTENSIONS``. Its remote control (an HTTP server
for Scrapy's MCP server, ``REMOTE_CONTROL_ENABLED``) brings aiohttp's server with it: ~0.1 s of
CPU at the start of every crawl, a tenth of a re-crawl that finds nothing new. While the remote
control is off, it is taken out of the list, and never imported.
"""

from __future__ import annotations

from scrapy.settings import Settings

REMOTE_CONTROL = "scrapy.extensions.remote_control.RemoteControl"


class LeanExtensions:
    """Scrapy add-on that leaves the remote control out of the extensions while it is off."""

    def update_settings(self, settings: Settings) -> None:
        """Drop the remote control from ``EXTENSIONS_BASE`` unless ``REMOTE_CONTROL_ENABLED``."""
        if settings.getbool("REMOTE_CONTROL_ENABLED"):
            return
        extensions = settings.getdict("EXTENSIONS_BASE")
        if extensions.pop(REMOTE_CONTROL, None) is not None:
            settings.set("EXTENSIONS_BASE", extensions, priority="addon")

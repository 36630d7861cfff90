"""What a process that extracts pages loads once, before it starts the processes that do.

Imported by a Celery worker's main process before its pool forks (``workers.celery``) and by
the embedded pool's fork server before it forks the pool's processes (``workers.embedded``):
each pool process then starts with the task code, the extraction libraries, the language
model (py3langid, ~1 s to load) and the MinHash library (datasketch with SciPy, ~1.5 s)
already in its memory, instead of loading them on its first page, and again in every process
that replaces one.
"""

from __future__ import annotations

import gc

import datasketch  # noqa: F401 - loaded for the processes forked from this one

from workers import tasks  # noqa: F401 - the task code and the extraction libraries
from workers.language import identify

identify("")  # loads the model

# All that is loaded now lives as long as the process does. Frozen, the garbage collector's
# full collections no longer walk it (some 130,000 objects, 65 ms a collection: about 0.3 ms
# a page on news-fixtures), in this process and in the ones forked from it, and a collection
# in a forked process no longer writes to the memory it shares with this one.
gc.freeze()

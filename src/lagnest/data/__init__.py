"""The data layer: :class:`Sequences` and everything that builds one.

The data layer: :class:`Sequences`, the one container, and everything that builds one from
validated input (column parsing, code streams, codebooks and their TOML files); and
:class:`TimedEvents`, coded events in time before they are cut into segments.

Nothing here imports another lagnest layer (see ``ARCHITECTURE.md``, "Layers").
"""

from lagnest.data.codebook import Codebook, available_codebooks, load_codebook
from lagnest.data.events import TimedEvents
from lagnest.data.sequences import Encoded, Sequences, StreamData

__all__ = ["Codebook", "Encoded", "Sequences", "StreamData", "TimedEvents",
           "available_codebooks", "load_codebook"]

"""The interrupt (SIGINT, SIGTERM) a command received: the CLI's signal handler notes it here, then raises
``KeyboardInterrupt`` in the flow.

Python drops an exception raised in a callback it runs for C code (it prints "Exception ignored in ..."): a signal
landing in one (an import lock's weakref callback) lost its ``KeyboardInterrupt``, and the run went on to finish
(1 Ctrl-C in 3 in one review). Each stage therefore starts with :func:`raise_if_received`, so a lost interrupt
stops the run at the next stage at the latest. Nothing here imports Prefect.
"""

from __future__ import annotations

__all__ = ["raise_if_received", "received"]

received: list[int] = []
"""The signals received by this process's command, in order (the CLI's handler exits at once on the second)."""


def raise_if_received() -> None:
    """Raise ``KeyboardInterrupt`` if the command has received an interrupt (its own may have been lost)."""
    if received:
        raise KeyboardInterrupt

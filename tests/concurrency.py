"""Calls made at the same moment, each in its own thread with its own database
connection (for races on PostgreSQL)."""

import threading

from django.db import connection


def at_once(*calls, timeout: float = 120) -> list:
    """Start the calls together (a barrier releases them at once) and wait for them;
    each call's result, or the exception it raised, in the order given."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # the caller checks what each call ended with
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes

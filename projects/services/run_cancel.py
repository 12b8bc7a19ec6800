"""Cancelling an engine run within seconds, in every stage.

The engine is a pure library: it reports progress at stage boundaries and per grid solution,
but one stage (validating images, an embedding pass, the AMI permutations) can run for minutes
without a call back, so a cancel checked only there waited 207 s. ``CancelWatch`` polls the
run's row every ``CANCEL_POLL_S`` from a side thread while the engine runs and, when a cancel
was requested or the run was deleted, raises ``RunCancelled`` inside the engine's thread
(CPython's ``PyThreadState_SetAsyncExc``): it surfaces at the next Python instruction, i.e.
within seconds even in long numeric stages, whose single C calls are short.
"""
from __future__ import annotations

import ctypes
import threading

from django.db import connection

from ..models import EngineRun

CANCEL_POLL_S = 2.0


class RunCancelled(Exception):
    """A cancel was requested (or the run deleted) while the engine ran."""


class CancelWatch:
    def __init__(self, run_id: int, poll_s: float = CANCEL_POLL_S):
        self.run_id, self.poll_s = run_id, poll_s
        self.target = threading.get_ident()
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.fired = False
        self.thread = threading.Thread(target=self._watch, daemon=True,
                                       name=f"diptych-cancel-watch-{run_id}")

    def __enter__(self) -> "CancelWatch":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        with self.lock:
            self.done.set()      # from here on nothing is raised into the engine's thread
        self.thread.join()

    def _wanted(self) -> bool:
        return not EngineRun.objects.filter(pk=self.run_id, cancel_requested=False).exists()

    def _watch(self) -> None:
        try:
            while not self.done.wait(self.poll_s):
                if self._wanted():
                    with self.lock:
                        if not self.done.is_set():
                            self.fired = True
                            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                                ctypes.c_ulong(self.target), ctypes.py_object(RunCancelled))
                    return
        finally:
            connection.close()   # this thread's own database connection

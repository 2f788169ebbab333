"""SIGTERM and SIGINT as a request to stop after the current iteration."""
import signal
import threading
from typing import Optional

from mmengine.logging import print_log

from mmbyol.utils.errors import MMBYOLError

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class TrainingInterrupted(MMBYOLError):
    """Training stopped on a signal after saving a resumable checkpoint."""


class StopRequest:
    """While installed, SIGTERM (a cluster's preemption notice) and SIGINT
    (Ctrl-C) do not kill training: they set :attr:`signal`, and the
    checkpoint hook saves and stops after the current iteration. A second
    Ctrl-C stops at once (``KeyboardInterrupt``)."""

    def __init__(self) -> None:
        self.signal: Optional[int] = None
        self._previous = {}

    @property
    def name(self) -> str:
        return signal.Signals(self.signal).name if self.signal else ''

    def install(self) -> None:
        """Take over both signals (only possible in the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def uninstall(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _handle(self, signum, frame) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum
        print_log(f'{signal.Signals(signum).name} received: finishing this '
                  'iteration, then saving a checkpoint and stopping (Ctrl-C '
                  'again stops at once)', logger='current', level=30)

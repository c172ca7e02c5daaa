"""manage.py with every progress stage lasting a second longer: a test's Ctrl-C then always lands
while the work runs, however loaded the machine (the demo's stages take milliseconds)."""

import runpy
import signal
import sys
import time
from pathlib import Path

from dwca_port.terminal import TerminalProgress

announce = TerminalProgress.stage


def slow_stage(self, *args, **kwargs):
    announce(self, *args, **kwargs)
    time.sleep(1)


TerminalProgress.stage = slow_stage
# A process started in the background by a shell without job control (a CI runner, nohup ... &)
# inherits SIGINT ignored, and Python then installs no KeyboardInterrupt: the tests' Ctrl-C must land.
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.argv = [str(Path(__file__).resolve().parents[2] / "manage.py"), *sys.argv[1:]]
runpy.run_path(sys.argv[0], run_name="__main__")

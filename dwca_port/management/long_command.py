"""What the commands that run long work share: their progress listener and how Ctrl-C ends them."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from dwca_port.progress import Progress
from dwca_port.terminal import terminal_progress

INTERRUPTED = 130  # the shell's exit status for a process ended by SIGINT (128 + 2)


class LongCommand(BaseCommand):
    """A command whose work reports progress on stderr (a bar on a TTY, lines elsewhere; nothing
    with -v 0 or --quiet) and which, on Ctrl-C, says so in one line and exits 130. The work itself
    unwinds as on any error: the output file is removed, the transaction rolled back."""

    def add_quiet_argument(self, parser) -> None:
        parser.add_argument("--quiet", action="store_true", help="No progress on stderr (the same as -v 0).")

    def progress(self, options: dict) -> Progress:
        verbosity = 0 if options.get("quiet") else options.get("verbosity", 1)
        return terminal_progress(self.stderr, verbosity)

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except KeyboardInterrupt:
            self.stderr.write("interrupted: nothing was written")
            sys.exit(INTERRUPTED)

"""How long work reports its advance.

Export, import, validation and clone tell one `Progress` what they are doing; who listens decides
what it looks like: a bar on a terminal (the commands), plain lines in a log, or the stages of an
Antenna `Job` (a Celery worker). The work never formats progress itself.
"""


class Progress:
    """Receives the advance of one run. This base listens to nothing: a run told nothing stays quiet."""

    def stage(self, name: str, total: int | None = None, unit: str = "rows") -> None:
        """A stage begins (`total` units of `unit`, when known); the previous stage is finished."""

    def advance(self, amount: int) -> None:
        """`amount` more units of the current stage are done.

        A listener may raise here to stop the run (a cancelled job): the work then unwinds as on
        any error, leaving the database as it was.
        """

    def say(self, message: str) -> None:
        """A line worth showing that is not a count (a decision, a warning)."""

    def finish(self) -> None:
        """The run ended, well or not: close the current stage."""


SILENT = Progress()

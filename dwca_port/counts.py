"""Numbers as every command and message writes them: one way, everywhere."""


def number(value: int | float) -> str:
    """A count with thousands separated by commas (12,345); a fraction with one decimal."""
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def seconds(value: float) -> str:
    """A duration: "12.3 s"."""
    return f"{value:.1f} s"

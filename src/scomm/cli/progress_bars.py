"""Rich progress bars for the command line, and the stage reporter that runs take."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def progress_bars(console: Console) -> Iterator[Progress]:
    """One bar per task: description, bar, done of total, time elapsed."""
    with Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        yield progress


def rich_stage(
    progress: Progress,
) -> Callable[[str, int], AbstractContextManager[Callable[[int], None]]]:
    """A stage reporter (see `scomm.sim.driver.Stage`) that shows each stage as a bar."""

    @contextmanager
    def stage(description: str, total: int) -> Iterator[Callable[[int], None]]:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
        progress.update(task, completed=total)

    return stage

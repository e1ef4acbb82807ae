"""Where a protocol or needles file goes wrong: the lines around it, the reason beside the line."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from pulsehost.ui.setup_form import PlanFailure

FIELD_NAMES = {
    "protocol": "Protocol",
    "protocol_file": "Protocol file",
    "rate": "Rate",
    "needles": "Needles",
}


class FileErrorView(Static):
    """A file error as `path:line field: reason`, then the file's lines with the bad one marked."""

    def show(self, failure: PlanFailure) -> None:
        error = failure.error
        text = Text()
        text.append(f"{FIELD_NAMES.get(failure.field, failure.field)}: ", style="bold")
        if failure.problems:
            text.append("the plan is refused; every reason:\n", style="bold red")
            for problem in failure.problems:
                where = f"train {problem.train}" if problem.train is not None else "plan"
                if problem.pair:
                    where += f", pair {problem.pair[0]}–{problem.pair[1]}"
                style = "red" if problem.blocking else "yellow"
                text.append(f"  {where}: ", style="bold " + style)
                text.append(f"{problem.message}\n", style=style)
            self.update(text)
            return
        where = error.path or "input"
        if error.line is not None:
            where += f":{error.line}"
        text.append(where, style="bold")
        if error.field:
            text.append(f"  {error.field}", style="bold cyan")
        text.append("\n")
        text.append(error.reason, style="red")
        if failure.excerpt:
            text.append("\n\n")
            for number, line in failure.excerpt:
                bad = number == error.line
                text.append(
                    f"{'>' if bad else ' '}{number:5} │ ", style="bold red" if bad else "dim"
                )
                text.append(line, style="bold" if bad else "")
                if bad:
                    text.append(f"   ◀ {error.field or 'here'}: {error.reason}", style="red")
                text.append("\n")
        self.update(text)

"""Voltage and current of one pulse, drawn in the terminal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual_plotext import PlotextPlot

from pulsehost.ui.pulse_rows import Traces


class WaveformPlots(Vertical):
    """Two plots against time in µs, voltage over current, of the pulse named in `title`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown = ""  # the title of what is drawn, e.g. "pulse 3 of 8"
        self.traces: Traces | None = None

    def compose(self) -> ComposeResult:
        yield PlotextPlot(classes="voltage-plot")
        yield PlotextPlot(classes="current-plot")

    def on_mount(self) -> None:
        self.show(None, "no pulse yet")

    def show(self, traces: Traces | None, title: str) -> None:
        self.shown = title
        self.traces = traces
        voltage = self.query_one(".voltage-plot", PlotextPlot)
        current = self.query_one(".current-plot", PlotextPlot)
        for plot, label in ((voltage, "voltage V"), (current, "current A")):
            plt = plot.plt
            plt.clear_data()
            plt.clear_figure()
            plt.title(f"{label} · {title}")
            # No frame: on a 24-line terminal every row of the plot is worth having.
            plt.frame(False)
            plt.xfrequency(3)
        if traces is not None:
            voltage.plt.plot(
                traces.voltage_time_us.tolist(), traces.voltage.tolist(), marker="braille"
            )
            current.plt.plot(
                traces.current_time_us.tolist(), traces.current.tolist(), marker="braille"
            )
        voltage.refresh()
        current.refresh()

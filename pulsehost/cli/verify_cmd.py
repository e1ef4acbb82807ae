"""`pulsehost verify`: can this plan be delivered within a generator's limits?

The limits come from the command line, or from a rig: the site limits in its
file and the limits its generator reports when opened, the lowest of each
winning. `--dry-run` then delivers the whole plan on the built-in SIMULATED
bench, seen through the rig's scope and probes when a rig is given, and
reports the verdict every pulse would get. The dry run's journal goes to a
temporary store that is removed afterwards; the user's store is never touched.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pulsehost.cli import exit_codes
from pulsehost.cli.errors import CliError
from pulsehost.cli.plan_cmd import add_plan_arguments, build_plan, print_refusal

if TYPE_CHECKING:
    from protocols import Plan, Problem
    from pulsehost.engine.session import DrugEntry
    from pulsehost.rig import RigConfig

DEFAULT_V_MAX_V = 3000.0  # variable-geometry device caps (Bertacchini 2007)
DEFAULT_I_MAX_A = 50.0
# A dry run predicts; it need not take the real time of 1 Hz trains. Safety timers stay
# real, and 100 ms between paced pulses leaves the host its full chance to stop before
# the next one, so the predicted counts are those of a real-time session.
DRY_RUN_TIME_SCALE = 10.0


@dataclass(frozen=True)
class GeneratorCeiling:
    """The limits a plan is verified against, and where they came from."""

    v_max_v: float
    i_max_a: float
    source: str  # default | command line | rig
    max_rate_hz: float | None = None
    max_count: int | None = None
    ecg_gate: bool | None = None
    v_source: str | None = None  # which ceiling set v_max_v, when several were compared
    i_source: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "v_max_v": self.v_max_v,
            "i_max_a": self.i_max_a,
            "max_rate_hz": self.max_rate_hz,
            "max_count": self.max_count,
            "ecg_gate": self.ecg_gate,
            "source": self.source,
            "v_max_source": self.v_source or self.source,
            "i_max_source": self.i_source or self.source,
        }


@dataclass(frozen=True)
class RigSeen:
    """What opening the rig showed: who answered, and the limits they report."""

    config: RigConfig
    instruments: tuple[str, ...]
    generator_limits: dict[str, object]

    def to_dict(self) -> dict[str, object]:
        source = self.config.source
        return {
            "name": self.config.name,
            "file": source.path if source else None,
            "simulated": self.config.simulated,
            "instruments": list(self.instruments),
            "site_limits": {
                "v_max_v": self.config.limits.v_max.value,
                "i_max_a": self.config.limits.i_max.value,
                "version": self.config.limits.version,
            },
            "generator_limits": self.generator_limits,
        }


@dataclass(frozen=True)
class DryRun:
    """A whole session delivered on the simulated bench, as a prediction."""

    outcome: str
    stop_reason: str | None
    message: str
    pulses_planned: int
    pulses_delivered: int
    seed: int
    faults: tuple[str, ...]
    time_scale: float
    scope: dict[str, object]
    pulses: tuple[dict[str, Any], ...]
    train_findings: tuple[dict[str, Any], ...]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.outcome == "completed"

    def to_dict(self) -> dict[str, object]:
        return {
            "simulated": True,
            "outcome": self.outcome,
            "stop_reason": self.stop_reason,
            "message": self.message,
            "pulses_planned": self.pulses_planned,
            "pulses_delivered": self.pulses_delivered,
            "seed": self.seed,
            "faults": list(self.faults),
            "time_scale": self.time_scale,
            "scope": self.scope,
            "verdicts": self.counts,
            "pulses": list(self.pulses),
            "train_findings": list(self.train_findings),
        }


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check a plan against generator limits (exit 1 if not deliverable)",
        description=(
            "Build the plan and check it against the generator's limits: voltage per pair, "
            "predicted current, rate, pulses per train, ECG gate. With --rig the limits are "
            "the rig file's site limits and those its generator reports (the rig is opened). "
            "--dry-run also delivers the plan on the built-in SIMULATED bench and predicts "
            "every pulse's verdict, writing nothing to the session store. Exit 0 deliverable, "
            "1 not deliverable or the dry run stopped (with every reason), 2 bad input, "
            "3 the rig could not be opened."
        ),
    )
    add_plan_arguments(parser)
    parser.add_argument(
        "--limits-v",
        type=float,
        metavar="V",
        help=f"generator voltage limit (default {DEFAULT_V_MAX_V:g} V, or the rig's)",
    )
    parser.add_argument(
        "--limits-a",
        type=float,
        metavar="A",
        help=f"generator current limit (default {DEFAULT_I_MAX_A:g} A, or the rig's)",
    )
    parser.add_argument(
        "--rig",
        metavar="FILE",
        help="verify against this rig: its site limits and its generator's own (opens it)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="deliver the plan on the SIMULATED bench and report each pulse's predicted verdict",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="with --dry-run: inject a simulator fault (e.g. overcurrent@5, open)",
    )
    parser.add_argument("--seed", type=int, default=0, help="with --dry-run: simulator seed")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=DRY_RUN_TIME_SCALE,
        metavar="X",
        help=f"with --dry-run: pace slow trains X times faster (default {DRY_RUN_TIME_SCALE:g})",
    )
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.set_defaults(handler=run)


def ceiling_from_args(args: argparse.Namespace) -> GeneratorCeiling:
    """Limits given on the command line (defaults 3000 V / 50 A)."""
    v_max = DEFAULT_V_MAX_V if args.limits_v is None else args.limits_v
    i_max = DEFAULT_I_MAX_A if args.limits_a is None else args.limits_a
    _check_limit_arguments(args)
    given = args.limits_v is not None or args.limits_a is not None
    return GeneratorCeiling(v_max, i_max, "command line" if given else "default")


def _check_limit_arguments(args: argparse.Namespace) -> None:
    for option, value in (("--limits-v", args.limits_v), ("--limits-a", args.limits_a)):
        if value is not None and (not value > 0 or value == float("inf")):
            raise CliError(f"{option} must be a positive number, got {value:g}")


def ceiling_from_rig(
    config: RigConfig, args: argparse.Namespace
) -> tuple[GeneratorCeiling, RigSeen]:
    """The lowest of the rig's site limits, its generator's limits and any given here.

    The rig is opened (and closed again, which is a safe-off) to read what
    its generator reports; nothing is configured or armed.
    """
    from pulsehost.limits import Limit, lowest
    from pulsehost.rig import RigError, open_rig

    _check_limit_arguments(args)
    try:
        with open_rig(config) as rig:
            reported = rig.generator.limits
            serial = rig.generator.identity.serial
            instruments = rig.describe()
    except RigError as exc:
        raise CliError(str(exc), exit_codes.INSTRUMENT_FAULT) from None
    handshake = f"generator {serial} handshake"
    volts = [config.limits.v_max, Limit(reported.v_max_v, "V", handshake)]
    amps = [config.limits.i_max, Limit(reported.i_max_a, "A", handshake)]
    if args.limits_v is not None:
        volts.append(Limit(args.limits_v, "V", "command line"))
    if args.limits_a is not None:
        amps.append(Limit(args.limits_a, "A", "command line"))
    v_max, i_max = lowest(*volts), lowest(*amps)
    ceiling = GeneratorCeiling(
        v_max.value,
        i_max.value,
        "rig",
        max_rate_hz=reported.max_rate_hz,
        max_count=reported.max_count,
        ecg_gate=reported.ecg_gate,
        v_source=v_max.source,
        i_source=i_max.source,
    )
    seen = RigSeen(
        config=config,
        instruments=instruments,
        generator_limits={
            "v_max_v": reported.v_max_v,
            "i_max_a": reported.i_max_a,
            "max_rate_hz": reported.max_rate_hz,
            "max_count": reported.max_count,
            "ecg_gate": reported.ecg_gate,
        },
    )
    return ceiling, seen


def verify(plan: Plan, ceiling: GeneratorCeiling) -> list[Problem]:
    """Every problem delivering `plan` within `ceiling`, plan warnings included."""
    from protocols import check_plan

    problems = check_plan(
        plan,
        ceiling.v_max_v,
        ceiling.i_max_a,
        max_rate_hz=ceiling.max_rate_hz,
        max_count=ceiling.max_count,
        ecg_gate=ceiling.ecg_gate,
    )
    return [*problems, *plan.warnings]


def dry_run(
    plan: Plan,
    rig: RigConfig | None,
    *,
    seed: int = 0,
    faults: tuple[str, ...] = (),
    time_scale: float = DRY_RUN_TIME_SCALE,
) -> DryRun:
    """Deliver `plan` on the built-in simulated bench into a temporary store.

    With a rig, the simulated scope speaks that rig's dialect and samples at
    its rate, its probes have that rig's ratios, and the rig's site limits
    apply; the simulated generator keeps its own limits. A protocol with a
    drug window is run as if the drug had been given well inside it.
    """
    import dataclasses
    import tempfile
    from pathlib import Path

    from pulsehost.engine.confirm import AlwaysConfirm
    from pulsehost.engine.engine import Engine
    from pulsehost.engine.session import SessionRequest
    from pulsehost.journal import Session
    from pulsehost.rig import open_rig
    from pulsehost.simulated_rig import simulated_rig

    scope = rig.scope if rig is not None else None
    dialect = "rigol" if scope is not None and scope.kind == "rigol-ds1000z" else "keysight"
    with (
        tempfile.TemporaryDirectory(prefix="pulsehost-dry-run-") as store,
        simulated_rig(
            plan,
            seed=seed,
            faults=faults,
            time_scale=time_scale,
            scope_dialect=dialect,
            probes=scope,
        ) as sim,
    ):
        config = sim.config
        if rig is not None:
            sim_scope = config.scope
            if scope is not None and sim_scope is not None:
                sim_scope = dataclasses.replace(sim_scope, sample_rate_hz=scope.sample_rate_hz)
            config = dataclasses.replace(config, limits=rig.limits, scope=sim_scope)
        request = SessionRequest(
            plan=plan, operator="dry run", subject="dry-run", drug=_drug_inside_window(plan)
        )
        with open_rig(config) as opened:
            engine = Engine(
                opened,
                Path(store),
                lambda event: None,
                AlwaysConfirm(),
                start_extra={"dry_run": True, "simulation": sim.describe()},
            )
            outcome = engine.run(request)
        session = Session.read(outcome.journal) if outcome.journal else None
        used = config.scope
    pulses = tuple(_pulse_row(plan, p) for p in session.pulses) if session else ()
    train_findings = tuple(
        {k: e.get(k) for k in ("train", "code", "level", "message")}
        for e in (session.events if session else ())
        if e.get("event") == "finding"
    )
    counts: dict[str, int] = {}
    for row in pulses:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    return DryRun(
        outcome=outcome.outcome,
        stop_reason=outcome.stop_reason,
        message=outcome.message,
        pulses_planned=outcome.pulses_planned,
        pulses_delivered=outcome.pulses_delivered,
        seed=seed,
        faults=sim.faults,
        time_scale=time_scale,
        scope={
            "kind": used.kind if used else None,
            "hv_probe_v_per_v": used.hv_probe_v_per_v if used else None,
            "current_probe_v_per_a": used.current_probe_v_per_a if used else None,
            "sample_rate_hz": used.sample_rate_hz if used else None,
            "source": f"rig file {rig.source.path}"
            if rig and rig.source and scope
            else "simulator",
        },
        pulses=pulses,
        train_findings=train_findings,
        counts=counts,
    )


def _drug_inside_window(plan: Plan) -> DrugEntry | None:
    import datetime as dt

    from pulsehost.engine.session import DrugEntry

    drug = plan.drug
    if drug is None:
        return None
    minutes = (drug.window_start_min + drug.warn_after_min) / 2
    given = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    return DrugEntry(given_at=given, entered_by="dry run")


def _pulse_row(plan: Plan, document: dict[str, Any]) -> dict[str, Any]:
    train = plan.trains[document["train"] - 1]
    return {
        "index": document["index"],
        "train": document["train"],
        "pulse": document["pulse"],
        "pair": document["pair"],
        "labels": [train.a_label, train.b_label],
        "target_v": document["target_v"],
        "voltage_v": document["voltage_v"],
        "current_a": document["current_a"],
        "width_us": document["width_us"],
        "resistance_ohm": document["resistance_ohm"],
        "verdict": document["verdict"],
        "source": document.get("source"),
        "findings": document["findings"],
    }


def run(args: argparse.Namespace) -> int:
    import json

    from protocols import PlanRefused

    if not args.dry_run and args.fault:
        raise CliError("--fault works only with --dry-run")
    if args.dry_run:
        _check_dry_run_arguments(args)
    rig = _load_rig(args.rig) if args.rig else None
    plan: Plan | None
    try:
        plan = build_plan(args)
    except PlanRefused as refused:
        plan, problems = None, list(refused.problems)
    seen: RigSeen | None = None
    if rig is not None:
        ceiling, seen = ceiling_from_rig(rig, args)
    else:
        ceiling = ceiling_from_args(args)
    if plan is not None:
        problems = verify(plan, ceiling)
    deliverable = not any(p.blocking for p in problems)
    predicted: DryRun | None = None
    if args.dry_run and plan is not None and deliverable:
        predicted = dry_run(
            plan, rig, seed=args.seed, faults=tuple(args.fault), time_scale=args.time_scale
        )
    ok = deliverable and (predicted is None or predicted.completed)
    code = exit_codes.OK if ok else exit_codes.CHECK_FAILED
    if args.json:
        verdict = {
            "deliverable": deliverable,
            "limits": ceiling.to_dict(),
            "problems": [p.to_dict() for p in problems],
            "plan": plan.to_dict() if plan is not None else None,
            "rig": seen.to_dict() if seen is not None else None,
            "dry_run": predicted.to_dict() if predicted is not None else None,
        }
        print(json.dumps(verdict, indent=2, ensure_ascii=False))
        return code
    if not deliverable:
        print_refusal("verify", problems)
    _print_summary(plan, ceiling, problems, deliverable, seen)
    if predicted is not None:
        _print_dry_run(predicted)
    elif args.dry_run:
        print("dry run: not run, the plan is not deliverable")
    return code


def _load_rig(path: str) -> RigConfig:
    from pathlib import Path

    from pulsehost.rig import RigError, load_rig

    try:
        return load_rig(Path(path))
    except RigError as exc:
        raise CliError(str(exc), exit_codes.BAD_INPUT) from None


def _check_dry_run_arguments(args: argparse.Namespace) -> None:
    from pulsehost.rig import RigError
    from pulsehost.simulated_rig import check_fault_specs

    if not (args.time_scale > 0 and math.isfinite(args.time_scale)):
        raise CliError(f"--time-scale must be a positive number, got {args.time_scale:g}")
    try:
        args.fault = list(check_fault_specs(args.fault))
    except RigError as exc:
        raise CliError(f"--fault: {exc}") from None


def _print_summary(
    plan: Plan | None,
    ceiling: GeneratorCeiling,
    problems: list[Problem],
    deliverable: bool,
    seen: RigSeen | None,
) -> None:
    from protocols.fields import fmt

    if seen is not None:
        where = seen.config.source.path if seen.config.source else seen.config.name
        print(f"rig: {seen.config.name} ({where}){' SIMULATED' if seen.config.simulated else ''}")
        for line in seen.instruments:
            print(f"  {line}")
        print(
            f"limits: {fmt(ceiling.v_max_v)} V ({ceiling.v_source}), "
            f"{fmt(ceiling.i_max_a)} A ({ceiling.i_source})"
        )
    else:
        print(
            f"generator limits: {fmt(ceiling.v_max_v)} V, {fmt(ceiling.i_max_a)} A "
            f"({ceiling.source})"
        )
    if plan is not None:
        p = plan.protocol
        v_top = max(t.voltage_v for t in plan.trains)
        i_top = max(t.predicted_current_a_max for t in plan.trains)
        print(
            f"plan: {p.id} {p.version}, {len(plan.trains)} train(s), {plan.total_pulses} pulses; "
            f"highest voltage {fmt(v_top)} V, highest predicted current {i_top:.1f} A"
        )
    for problem in problems:
        if not problem.blocking:
            print(f"warning: {problem.message}")
    print("DELIVERABLE" if deliverable else "NOT DELIVERABLE")


def _print_dry_run(dry: DryRun) -> None:
    faults = ", ".join(dry.faults) or "none"
    print()
    print(
        f"dry run on the SIMULATED bench (seed {dry.seed}, faults: {faults}; "
        f"scope and probes: {dry.scope['source']}):"
    )
    print(f"{'pulse':>5} {'train':>5} {'#':>3}  {'pair':<12} {'V':>7} {'A':>7} {'us':>7}  verdict")
    for row in dry.pulses:
        codes = ", ".join(f["code"] for f in row["findings"])
        print(
            f"{row['index']:>5} {row['train']:>5} {row['pulse']:>3}  "
            f"{'–'.join(row['labels']):<12} {_num(row['voltage_v'], 1):>7} "
            f"{_num(row['current_a'], 2):>7} {_num(row['width_us'], 1):>7}  {row['verdict']}"
            + (f"  {codes}" if codes else "")
        )
    for finding in dry.train_findings:
        print(
            f"train {finding['train']}: {finding['level']} {finding['code']}: {finding['message']}"
        )
    counts = ", ".join(f"{n} {verdict}" for verdict, n in sorted(dry.counts.items())) or "none"
    print(f"predicted verdicts: {counts}")
    reason = f" ({dry.stop_reason})" if dry.stop_reason else ""
    print(
        f"predicted outcome: {dry.outcome.upper()}{reason}, "
        f"{dry.pulses_delivered}/{dry.pulses_planned} pulses: {dry.message}"
    )


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"

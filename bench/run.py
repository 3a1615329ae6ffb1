"""`python -m bench`: run the benchmarks and write docs/benchmarks.md (+ plots under docs/img/).

python -m bench                      # everything (what `make bench` runs; < 15 min on 2 cores)
python -m bench --quick              # a fast smoke run, written to .smsgw/bench/ (not docs/)
python -m bench --only pacing,overhead --messages 2000 --rate 40
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from bench import report
from bench.mocked import ROOT, use_fake_aws

NAMES = report.ORDER  # pacing, pacing_two, overhead, coldstart, awscalls, memory, scale


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages", type=int, default=1000, help="messages for each pacing run (default 1000)"
    )
    parser.add_argument("--rate", type=int, default=50, help="the carrier's limit R in msg/s (default 50)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {','.join(NAMES)}")
    parser.add_argument(
        "--quick", action="store_true", help="small, fast runs; the report goes to .smsgw/bench/"
    )
    parser.add_argument("--output", type=Path, help="the report (default docs/benchmarks.md)")
    parser.add_argument(
        "--against",
        metavar="REF",
        help="coldstart: also measure each function at this git commit, alternating, and give the ratio",
    )
    args = parser.parse_args(argv)
    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or list(NAMES)
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    if args.messages < 10 or args.rate < 1:
        parser.error("--messages must be at least 10 and --rate at least 1")
    args.chosen = chosen
    out_dir = ROOT / ".smsgw" / "bench" if args.quick else ROOT / "docs"
    args.output = args.output or out_dir / ("benchmarks-quick.md" if args.quick else "benchmarks.md")
    args.img_dir = args.output.parent / "img"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_fake_aws()
    started = time.monotonic()
    sections: list[report.Section] = []
    failed: list[str] = []
    extra: dict[str, object] = {}
    for name in args.chosen:
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        try:
            section = run_one(name, args, extra)
        except Exception as error:  # one broken benchmark must not hide the others' results
            traceback.print_exc()
            failed.append(name)
            section = report.Section(
                name, f"{name} (FAILED)", f"This benchmark failed in this run: `{error!r}`."
            )
        section.seconds = time.monotonic() - t0
        print(f"[bench] {name} done in {section.seconds:.0f} s", file=sys.stderr, flush=True)
        sections.append(section)
    previous = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = report.render(sections, previous)
    total = time.monotonic() - started
    text += (
        f"\n_This run: {', '.join(args.chosen)} in {total:.0f} s ({'quick' if args.quick else 'full'})._\n"
    )
    args.output.write_text(text, encoding="utf-8")
    print(f"[bench] wrote {args.output} in {total:.0f} s", file=sys.stderr)
    for section in sections:
        for goal in section.goals:
            print(
                f"  {'ok ' if goal.met else 'MISS'} {section.name}: {goal.what}: {report.fmt_ratio(goal.ratio)} ({goal.goal})"
            )
    if failed:
        print(f"[bench] FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def run_one(name: str, args: argparse.Namespace, extra: dict[str, object]) -> report.Section:
    from bench import plots

    if name == "pacing":
        from bench import pacing

        return pacing.run(args.messages, args.rate, quick=args.quick, img_dir=args.img_dir)
    if name == "pacing_two":
        from bench import pacing_two

        return pacing_two.run(args.messages, quick=args.quick, img_dir=args.img_dir)
    if name == "overhead":
        from bench import overhead

        return overhead.run(quick=args.quick)
    if name == "coldstart":
        from bench import coldstart

        section = coldstart.run(quick=args.quick, against_ref=args.against)
        labels = [g.what.split(":")[0] for g in section.goals]
        path = plots.bars(
            args.img_dir / "coldstart.png",
            "Cold start: import + init ÷ minimal Powertools handler",
            labels,
            [g.ratio for g in section.goals],
            1.3,
            "ratio",
        )
        section.images.append(("Cold start ratio per function", f"img/{path.name}"))
        return section
    if name == "awscalls":
        from bench import awscalls

        section = awscalls.run(quick=args.quick)
        extra.update(section.extra)
        costs = {k: v for k, v in section.extra["costs"].items() if k != "total"}
        path = plots.bars(
            args.img_dir / "cost.png",
            "USD per million messages under load, by service (logs outside the goal)",
            list(costs),
            list(costs.values()),
            None,
            "USD / million messages",
        )
        section.images.append(("Cost per million messages by service", f"img/{path.name}"))
        return section
    if name == "memory":
        from bench import memory

        return memory.run(quick=args.quick)
    if name == "scale":
        from bench import scale

        durations = extra.get("durations")
        if durations is None:
            from bench import awscalls

            durations = awscalls.run(quick=True).extra["durations"]
        return scale.run(quick=args.quick, durations=durations)  # type: ignore[arg-type]
    raise KeyError(name)


if __name__ == "__main__":
    raise SystemExit(main())

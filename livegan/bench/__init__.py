"""`livegan bench` and its modes, one module each: the show's figures (show.py: the default,
`--res`, `--contended`), `--stops` (stops.py), `--flood` (flood.py, its sender traffic.py), `--audio`,
`--bend`, `--train`, `--quality` (quality.py, its data qualitydata.py), `--web` (web.py, its
clients webclients.py), `--distil` (distil.py). A CPU-bound neighbour for `--contended`: cpuload.py.

MODES maps a mode's flag to what runs it: each takes the parsed arguments and returns the
result (printed as JSON with --json) and the function that formats it for people.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

Formatted = tuple[dict, Callable[[dict], str]]


def _quality(args: argparse.Namespace) -> Formatted:
    from livegan.bench.quality import config_from_args, run_quality_bench
    from livegan.bench.qualityreport import format_quality

    return run_quality_bench(config_from_args(args)), format_quality


def _train(args: argparse.Namespace) -> Formatted:
    from livegan.bench.train import format_train_table, run_train_bench

    return run_train_bench(), format_train_table


def _audio(args: argparse.Namespace) -> Formatted:
    from livegan.bench.audio import format_audio, run_audio_bench

    return run_audio_bench(args.model, args.backend), format_audio


def _web(args: argparse.Namespace) -> Formatted:
    from livegan.bench.web import format_web, run_web_bench

    return run_web_bench(args.model, args.backend), format_web


def _bend(args: argparse.Namespace) -> Formatted:
    from livegan.bench.bend import format_bends, run_bend_bench

    return run_bend_bench(args.model, args.backend, args.frames), format_bends


def _stops(args: argparse.Namespace) -> Formatted:
    from livegan.bench.stops import format_stops, stops_table

    rows = stops_table(args.model, args.backend)
    return {"model": args.model, "stops": rows}, lambda result: format_stops(result["stops"])


def _flood(args: argparse.Namespace) -> Formatted:
    from livegan.bench.flood import format_flood, run_flood_bench

    result = run_flood_bench(args.model, args.backend, args.flood_rate, args.flood_seconds)
    return result, format_flood


def _distil(args: argparse.Namespace) -> Formatted:
    from livegan.bench.distil import from_args

    return from_args(args)


# flag -> runner, in the order a command line naming several is read (the first wins)
MODES: dict[str, Callable[[argparse.Namespace], Formatted]] = {
    "quality": _quality, "train": _train, "audio": _audio, "web": _web, "bend": _bend,
    "stops": _stops, "flood": _flood, "distil": _distil,
}


def chosen_mode(args: argparse.Namespace) -> str | None:
    """The first mode flag given, or None (the show's figures)."""
    return next((name for name in MODES if getattr(args, name, False)), None)

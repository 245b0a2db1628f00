"""One function per subcommand: turn parsed flags into a config and call the library."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from livegan.errors import LiveganError

log = logging.getLogger("livegan")


def perform(args: argparse.Namespace) -> int:
    from livegan.patchfile.load import PatchConfig, load_patch
    from livegan.perform import perform as run_show
    from livegan.performconfig import perform_config

    patch = load_patch(args.patch) if args.patch else PatchConfig()
    shown = run_show(perform_config(patch, vars(args)))
    log.info("showed %d frames", shown)
    return 0


def train(args: argparse.Namespace) -> int:
    from livegan.train.loop import TrainConfig
    from livegan.train.loop import train as run_training
    from livegan.train.recipes import RECIPE_FLAGS, apply, parse_settings

    steps = getattr(args, "steps", None)  # with --resume and none given: the run's own
    cfg = TrainConfig(
        data=args.data, res=args.res, steps=steps or TrainConfig.steps, seed=args.seed,
        labels=args.labels, sample_every=args.sample_every,
        checkpoint_every=args.checkpoint_every, keep=args.keep, log_every=args.log_every,
        quality=not args.no_quality, checkpoint_minutes=args.checkpoint_minutes,
        start_from=getattr(args, "start_from", ""),
    )
    # the recipe, then the flags given (argparse leaves out the others), then --set
    given = {name: getattr(args, name) for name in RECIPE_FLAGS if hasattr(args, name)}
    cfg = apply(cfg, args.recipe, {**given, **parse_settings(args.set)})
    last = run_training(cfg, Path(args.out), resume=args.resume,
                        progress=not args.no_progress, steps=steps)
    if last is not None:
        log.info("last checkpoint %s; export it with `livegan export %s --out "
                 "models/NAME.safetensors`", last, args.out)
    return 0


def export(args: argparse.Namespace) -> int:
    from livegan.train.export import export_run

    path = export_run(Path(args.run), Path(args.out), args.name, args.directions)
    print(path)
    return 0


def data(args: argparse.Namespace) -> int:
    if args.data_cmd == "synth":
        from livegan.train.synth import synthesize

        synthesize(Path(args.out), args.count, args.res, seed=args.seed, style=args.style)
        return 0
    from livegan.train.data import prepare

    report = prepare(Path(args.src), Path(args.out), args.res, mirror=args.mirror,
                     crop=args.crop)
    print(report.summary())
    return 0


def render(args: argparse.Namespace) -> int:
    from livegan.render import RenderConfig
    from livegan.render import render as run_render

    if (args.replay or args.timelapse) and (args.grid or args.canvas):
        raise LiveganError("--grid and --canvas render seeds; they do not apply to a "
                           "--replay or --timelapse")
    if args.replay or args.timelapse:  # a recording says these itself
        given = [flag for flag, value, default in (
            ("--seeds", args.seeds, None), ("--seconds", args.seconds, 8.0),
            ("--truncation", args.truncation, 1.0), ("--label", args.label, 0),
            ("--ease", args.ease, "smooth"), ("--max-res", args.max_res, 0),
            ("--space", args.space, "z")) if value != default]
        if given:
            what = "a --replay renders the recording's own" if args.replay else \
                "a --timelapse renders a run's sample grids"
            raise LiveganError(f"{', '.join(given)} do not apply here: {what} (latents, "
                               "labels, truncation and timing)")
    seeds = args.seeds or (tuple(range(1, 1 + args.grid[0] * args.grid[1])) if args.grid
                           else RenderConfig.seeds)
    cfg = RenderConfig(seconds=args.seconds, fps=args.fps, seeds=seeds, grid=args.grid,
                       canvas=args.canvas, upscale=args.upscale, size=args.size,
                       truncation=args.truncation, label=args.label, ease=args.ease,
                       progress=not args.no_progress, bends=_bends(args.bend),
                       max_res=args.max_res, space=args.space)
    out = run_render(args.model, Path(args.out), cfg, Path(args.replay) if args.replay else None,
                     Path(args.timelapse) if args.timelapse else None)
    print(out)
    return 0


def _bends(given: list[tuple[str, str, list[float]]]) -> dict:
    """--bend LAYER/OP=A[,B] flags -> (layer, op) -> amounts (the other amounts 0)."""
    from livegan.bendops import BY_NAME

    return {(layer, op): tuple(values + [0.0] * (BY_NAME[op].size - len(values)))
            for layer, op, values in given}


def bench(args: argparse.Namespace) -> int:
    from livegan.bench import MODES, chosen_mode
    from livegan.bench.show import format_resolutions, format_table, resolution_table, run_bench

    mode = chosen_mode(args)
    if getattr(args, "contended", False) and mode:
        raise LiveganError(f"--contended times the show's figures; run it without --{mode}")
    if mode:
        result, formatted = MODES[mode](args)
        print(json.dumps(result) if args.json else formatted(result))
        return 0
    result = run_bench(args.model, args.backend, args.frames, getattr(args, "canvas", "off"),
                       getattr(args, "contended", False), getattr(args, "max_res", 0))
    if args.res:
        try:
            sizes = [int(r) for r in args.res.split(",")]
        except ValueError:
            raise LiveganError(f"--res {args.res}: expected sizes like 64,128,256") from None
        result["resolutions"] = resolution_table(args.model, args.backend, sizes,
                                                 max(20, args.frames // 5))
    print(json.dumps(result) if args.json else format_table(result))
    if args.res and not args.json:
        print(format_resolutions(result["resolutions"]))
    return 0


def import_(args: argparse.Namespace) -> int:
    from livegan.foreign import import_file, models_folder, out_path

    out = out_path(args.out, Path(args.file), models_folder())
    import_file(Path(args.file), out, overwrite=args.force)
    print(out)
    return 0


def distil(args: argparse.Namespace) -> int:
    from livegan.distil.flags import config_from_args, paths_from_args
    from livegan.distil.run import Distiller

    out, run = paths_from_args(args)
    distiller = Distiller(args.teacher, out, run, config_from_args(args), resume=args.resume,
                          force=args.force, progress=not args.no_progress)
    print(distiller.run())
    return 0


def models(args: argparse.Namespace) -> int:
    from livegan.modelfile import list_models

    found = list_models()
    if not found:
        print("no models found; train one with `livegan train` and `livegan export`")
    for item in found:
        if isinstance(item, LiveganError):
            print(f"  (unusable) {item}")
            continue
        dirs = f"{item.n_directions} directions" if item.n_directions else "no directions"
        labels = f", labels: {', '.join(item.labels)}" if item.labels else ""
        source = item.source
        origin = f", from {source.get('format')} {source.get('file')}" if source else ""
        if source.get("teacher"):  # a student of `livegan distil`
            origin = f", distilled from {source['teacher']} ({source.get('file')})"
        print(f"  {item.name:<16} {item.resolution}px  {item.arch:<6} {dirs}{labels}{origin}  "
              f"{item.path}")
    return 0


def osc(args: argparse.Namespace) -> int:
    from livegan.bendops import describe_ops
    from livegan.control.inputs import describe_patch, namespace_entries
    from livegan.control.osc.server import DEFAULT_HOST, DEFAULT_PORT
    from livegan.patchfile.load import load_patch

    patch = load_patch(args.patch) if args.patch else None
    print(f"OSC namespace (UDP {DEFAULT_PORT} on {DEFAULT_HOST} unless the patch or "
          "--osc-port/--host say "
          "otherwise):")
    for address, types, what in namespace_entries(patch):
        print(f"  {address:<24} {types:<7} {what}")
    print("\nBend ops (/livegan/bend/{layer}/{op} and patch targets bend[layer/op]; "
          "layers: the model's feature map sizes, e.g. 4 8 16 32 64 128):")
    for line in describe_ops():
        print(f"  {line}")
    if patch is not None:
        print(f"\n{patch.path}: {len(patch.maps)} mappings, {len(patch.scenes)} scenes")
        for line in describe_patch(patch):
            print(line)
    return 0


def midi(args: argparse.Namespace) -> int:
    from livegan.control.midi.learn import Learner, learn, live_messages
    from livegan.control.midi.ports import MidiInputs, input_names, output_names

    if args.action == "list":
        inputs, outputs = input_names(), output_names()
        print("MIDI inputs (use part of a name: livegan perform --midi NAME, or [midi] input):")
        for name in inputs or ["(none)"]:
            print(f"  {name}")
        print("MIDI outputs:")
        for name in outputs or ["(none)"]:
            print(f"  {name}")
        return 0
    inputs = MidiInputs(args.port or input_names(), virtual=True).start()
    if not inputs.ports:
        raise LiveganError("no MIDI input to learn from: plug in a controller, or send to the "
                           "virtual port 'livegan'; `livegan midi` lists the ports")
    print(f"learning from {', '.join(inputs.ports)}: move each knob, fader or pad once "
          f"(Ctrl-C ends){'; writing ' + args.out if args.out else ''}")
    learner = Learner()
    try:
        learn(live_messages(inputs), learner, Path(args.out) if args.out else None)
    except KeyboardInterrupt:
        print(f"\nlearned {len(learner.entries)} controls"
              + (f" into {args.out}" if args.out else ""))
    finally:
        inputs.stop()
    return 0

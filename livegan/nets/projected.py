"""A projected discriminator: small heads judging frozen InceptionV3 features.

After Projected GAN (Sauer et al., 2021): a pretrained network already knows edges,
textures and parts, so the discriminator need not learn them from a few hundred
images. The image goes through the first stages of the quality extra's InceptionV3
(frozen, never trained, never saved); four of its feature maps are projected to fewer
channels by fixed random 1x1 convolutions and mixed coarse-to-fine by fixed random 3x3
ones (so no head can latch on to one feature, and the fine heads see the coarse
context); a small trainable head per map scores every patch of it.

`forward` returns a patch score per head and position, [N, P]; the trainer's hinge loss
averages over them as over a batch. The frozen network adds nothing to checkpoints: it
is read from the extra's wheel (livegan.nets.pretrained) when the discriminator is built.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from livegan.nets import eyes, pretrained
from livegan.nets.layers import check_resolution, sn_conv

# InceptionV3 stages run (of its 19) and the ones whose output the heads judge:
# conv_2 (64 ch, 1/2 size), conv_4 (192 ch, ~1/4), mixed_2 (288 ch, ~1/10), mixed_3 (768 ch,
# ~1/20; InceptionV3's Mixed_6a). The four stages after it cost about 40 % of the forward pass
# and judged no better on the quality bench (docs/training.md, "Ablation: batch statistics, ...").
TAPS = (2, 5, 9, 10)
TAP_CHANNELS = (64, 192, 288, 768)
PROJECTED = (32, 64, 96, 128)  # channels after the random projection, at ndf=16
MIN_INPUT, MAX_INPUT = 128, 160  # the feature network's input size, from the image size


def input_size(resolution: int) -> int:
    """What the feature network sees: 1.5x the image, within 128..160 (its deepest map
    stays 6x6 or more, and a CPU can afford it at 256x256). Larger eyes judge small
    images better: 128 px beat 96 and 80 at 64x64 on the quality bench."""
    return max(MIN_INPUT, min(MAX_INPUT, resolution * 3 // 2))


class FrozenFeatures(nn.Module):
    """InceptionV3's first 11 stages; returns the four tapped maps. No trainable state,
    and nothing in state_dict: the weights live in the extra's wheel. The stages are
    rebuilt as plain modules (livegan.nets.eyes): the same maps, about a third faster."""

    def __init__(self) -> None:
        super().__init__()
        scripted = list(pretrained.load_inception().net.layers.children())[: TAPS[-1] + 1]
        self.__dict__["stages"] = eyes.rebuild(scripted)  # outside _modules: state_dict
        # and DDP skip them

    def _apply(self, fn, recurse: bool = True):
        for stage in self.stages:  # .to(device) and .to(dtype) reach the frozen stages
            stage._apply(fn)
        self.__dict__.pop("_bf16", None)  # made again from the moved stages when wanted
        return super()._apply(fn, recurse)

    def _stages_for(self, x: Tensor) -> list[nn.Module]:
        """The stages, or under bf16 autocast a bf16 copy of them, made once: autocast casts
        the weights of frozen layers anew at every call (its cache keeps only trainable
        ones); the copy gives the same maps bit for bit, a training step about 5 % sooner."""
        kind = x.device.type
        if not (torch.is_autocast_enabled(kind) and
                torch.get_autocast_dtype(kind) == torch.bfloat16):
            return self.stages
        if "_bf16" not in self.__dict__:
            self.__dict__["_bf16"] = [copy.deepcopy(s).to(torch.bfloat16) for s in self.stages]
        return self.__dict__["_bf16"]

    def forward(self, x: Tensor) -> list[Tensor]:
        maps = []
        stages = self._stages_for(x)
        if stages is not self.stages:
            x = x.to(torch.bfloat16)  # what autocast would hand the first convolution
        for i, stage in enumerate(stages):
            x = stage(x)
            if i in TAPS:
                maps.append(x)
        return maps


def _frozen_conv(cin: int, cout: int, kernel: int, generator: torch.Generator) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, kernel, 1, kernel // 2, bias=False)
    with torch.no_grad():  # a fixed random projection, seeded so every run has the same
        bound = (3.0 / (cin * kernel * kernel)) ** 0.5  # unit gain (uniform Kaiming)
        conv.weight.copy_(torch.rand(conv.weight.shape, generator=generator) * 2 * bound - bound)
    return conv.requires_grad_(False)


class PatchHead(nn.Module):
    """Trainable head on one projected map: 3x3 convs and 2x2 averages down to <= 8x8,
    then a score per position [N, P]. Spectral norm throughout, no strided convolution."""

    def __init__(self, cin: int, size: int, width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = cin
        while size > 8:
            layers += [sn_conv(c, width, 3, 1, 1), nn.LeakyReLU(0.2), nn.AvgPool2d(2)]
            c, size = width, size // 2
        layers += [sn_conv(c, width, 3, 1, 1), nn.LeakyReLU(0.2), sn_conv(width, 1, 1, 1, 0)]
        self.main = nn.Sequential(*layers)
        self.positions = size * size  # P: the scores it gives a picture

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x).flatten(1)  # [N, P]


GROUP = 4  # the whole head's minibatch deviation: pictures per group (StyleGAN's)


def _group_size(n: int) -> int:
    return next(g for g in range(min(GROUP, n), 0, -1) if n % g == 0)


def batch_deviation(x: Tensor, parts: int = 1) -> Tensor:
    """StyleGAN's minibatch standard deviation: [N, C, H, W] -> [N, C + 1, H, W], the extra
    channel the features' spread within each group of pictures (GROUP, or fewer where the
    batch does not divide), averaged to one value. `parts` equal batches stacked (reals, then
    fakes) are grouped each on its own, so no group mixes them: the scores are those each
    part would get judged alone."""
    n, c, h, w = x.shape
    g = _group_size(n // parts)
    groups = x.float().reshape(n // g, g, c, h, w)  # contiguous groups within each part
    spread = groups.var(dim=1, unbiased=False).add(1e-8).sqrt().mean(dim=(1, 2, 3))  # [N/g]
    spread = spread.repeat_interleave(g).reshape(n, 1, 1, 1).expand(n, 1, h, w)
    return torch.cat([x, spread.to(x.dtype)], dim=1)


class WholeHead(nn.Module):
    """Trainable head on the whole picture shrunk to `size`: 3x3 convs and 2x2 averages down
    to 4x4, the minibatch deviation, and one score per picture [N, copies], the same score
    counted `copies` times among the patch scores (as much as all the patch heads' together).
    The patch heads each judge part of the picture; this one judges how the parts go
    together (a letter's strokes), and with the deviation whether pictures are too alike."""

    def __init__(self, size: int, width: int, copies: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = 3
        while size > 4:
            layers += [sn_conv(c, width, 3, 1, 1), nn.LeakyReLU(0.2), nn.AvgPool2d(2)]
            c, width, size = width, min(2 * width, 256), size // 2
        self.main = nn.Sequential(*layers)
        self.last = sn_conv(c + 1, 1, size, 1, 0)
        self.copies = copies

    def forward(self, x: Tensor, parts: int = 1) -> Tensor:
        score = self.last(batch_deviation(self.main(x), parts)).flatten(1)  # [N, 1]
        return score.expand(-1, self.copies)  # [N, copies]


class ProjectedDiscriminator(nn.Module):
    """image [N, 3, R, R] -> patch scores [N, P] from frozen InceptionV3 features.

    Needs the quality extra (pip install 'livegan[quality]'). `ndf` scales the projected
    channels and the heads' width; conditional models add a projection term on the
    deepest map's pooled features to every score.
    """

    def __init__(self, resolution: int = 128, ndf: int = 16, cap: int = 256, n_labels: int = 0,
                 colour: int = 0, detail: int = 0, whole: int = 0):
        super().__init__()
        check_resolution(resolution)
        self.size = input_size(resolution)
        self.features = FrozenFeatures()
        seed = torch.Generator().manual_seed(20211114)
        widths = [min(cap, max(8, p * ndf // 16)) for p in PROJECTED]
        self.project = nn.ModuleList(_frozen_conv(c, w, 1, seed)
                                     for c, w in zip(TAP_CHANNELS, widths))
        self.mix = nn.ModuleList(_frozen_conv(widths[i + 1], widths[i], 3, seed)
                                 for i in range(len(widths) - 1))
        sizes = self._map_sizes()
        self.heads = nn.ModuleList(PatchHead(w, s, w) for w, s in zip(widths, sizes))
        # colour: one more head on the picture itself, shrunk to colour x colour: InceptionV3's
        # maps answer little to a shift of palette, so with them alone palettes drift
        self.colour = min(colour, resolution)
        if self.colour:
            self.heads.insert(0, PatchHead(3, self.colour, widths[0]))
        # detail: one more head on the whole picture folded into channels (each fold x fold
        # block of pixels one position), so its finest pixels reach a head: the frozen network
        # sees a picture larger than its input resized with antialiasing, the colour head
        # averaged, and neither would see a one-pixel checkerboard at 256 px
        self.fold = resolution // detail if detail and detail < resolution else 0
        if self.fold:
            self.heads.insert(0, PatchHead(3 * self.fold ** 2, detail, widths[0]))
        # whole: one more head on the picture shrunk to whole x whole, judging it entire
        self.whole = min(whole, resolution)
        self.whole_head = WholeHead(self.whole, widths[0],
                                    sum(head.positions for head in self.heads)) \
            if self.whole else None
        self.embed = nn.utils.parametrizations.spectral_norm(
            nn.Embedding(n_labels, widths[-1])) if n_labels > 0 else None

    def _map_sizes(self) -> list[int]:
        with torch.no_grad():
            return [m.shape[-1] for m in self.features(torch.zeros(1, 3, self.size, self.size))]

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.judge(self.look(x), labels)

    def look(self, x: Tensor) -> list[Tensor]:
        """The frozen part: image -> the projected, mixed maps the heads judge. Nothing here
        trains, so the trainer may judge one fake batch's maps before and after a
        discriminator update (a graph back to the image only when the image wants one)."""
        pixels = [F.interpolate(x.float(), size=(self.colour,) * 2, mode="area")] \
            if self.colour else []  # [N, 3, c, c]: the colour head's map
        if self.fold:  # [N, 3 * fold^2, d, d]: the detail head's map, first
            pixels.insert(0, F.pixel_unshuffle(x.float(), self.fold))
        whole = [F.interpolate(x.float(), size=(self.whole,) * 2, mode="area")] \
            if self.whole_head is not None else []  # [N, 3, w, w], first
        if x.shape[-1] != self.size:  # in fp32: antialiased resizing has no bf16 kernel
            x = F.interpolate(x.float(), size=(self.size, self.size), mode="bilinear",
                              align_corners=False, antialias=x.shape[-1] > self.size)
        # channels-last: the CPU's convolution kernels run the frozen network about a fifth
        # faster on it (a 64 px step without augmentation: 540 against 681 ms)
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.set_grad_enabled(torch.is_grad_enabled() and x.requires_grad):
            # frozen up to here: without a gradient wanted at the image (the D step), no graph
            maps = [proj(m) for proj, m in zip(self.project,
                                               self.features(pretrained.to_input_range(x)))]
            for i in range(len(maps) - 2, -1, -1):  # coarse to fine: each gets the one below
                up = F.interpolate(maps[i + 1], size=maps[i].shape[-2:], mode="bilinear",
                                   align_corners=False)
                maps[i] = maps[i] + self.mix[i](up)
        return whole + pixels + maps  # the deepest map last, as the terms and labels want

    def judge(self, maps: list[Tensor], labels: Tensor | None = None, parts: int = 1
              ) -> Tensor:
        """The trainable heads on look()'s maps -> patch scores [N, P]. `parts`: the maps
        are that many equal batches stacked (reals, then fakes), which the whole head's
        minibatch deviation keeps apart."""
        whole = []
        if self.whole_head is not None:  # its map comes first
            whole, maps = [self.whole_head(maps[0], parts)], maps[1:]
        scores = torch.cat(whole + [head(m) for head, m in zip(self.heads, maps)], dim=1)
        if self.embed is not None and labels is not None:
            pooled = maps[-1].mean(dim=(2, 3))  # [N, C]
            scores = scores + (self.embed(labels) * pooled).sum(dim=1, keepdim=True)
        return scores

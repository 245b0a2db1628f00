"""Tell what a file to import is, from its content, and read its generator.

Kinds livegan opens:
- NVIDIA StyleGAN2-ADA and StyleGAN3 network pickles (`.pkl`), read by the restricted
  unpickler (livegan.foreign.unpickle): no code from the file runs;
- rosinality's stylegan2-pytorch checkpoints (`.pt`);
- lucidrains' lightweight-gan and stylegan2-pytorch checkpoints (`model_N.pt`, with the
  `.config.json` the trainer writes beside them, when it is there).
torch files load with `weights_only=True`. Anything else gets one sentence saying what it
is and what livegan can open.
"""

from __future__ import annotations

import argparse
import json
import logging
import pickletools
from pathlib import Path
from typing import Any

import torch

from livegan.foreign.base import ForeignFileError, ForeignModule, Imported
from livegan.foreign.unpickle import (
    TORCH_LOAD_MAGIC,
    RefusedGlobal,
    TensorFlowPickle,
    UnpicklingError,
    load_pickle,
)

log = logging.getLogger(__name__)

KINDS = ("StyleGAN2-ADA or StyleGAN3 .pkl (NVIDIA's PyTorch code), rosinality's stylegan2-pytorch "
         ".pt, lucidrains' lightweight-gan or stylegan2-pytorch .pt")
MEMORY_FACTOR = 3  # reading a file takes about this many times its size in memory


def _fail(path: Path, problem: str) -> ForeignFileError:
    return ForeignFileError(f"{path}: {problem}")


def _available_memory() -> int | None:
    """Bytes of memory available now (Linux), None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _check_size(path: Path) -> int:
    size = path.stat().st_size
    if size == 0:
        raise _fail(path, f"the file is empty; livegan imports {KINDS}")
    free = _available_memory()
    if free is not None and size * MEMORY_FACTOR > free:
        raise _fail(path, f"too large for this machine's memory ({size / 2**30:.1f} GB file, "
                          f"{free / 2**30:.1f} GB free; reading it needs about "
                          f"{MEMORY_FACTOR}x its size): close other programs or import it "
                          "on a larger machine")
    return size


def sniff(path: Path) -> str:
    """'zip' (torch.save), 'pickle' (a bare pickle: NVIDIA's, or a legacy torch.save),
    'safetensors', or 'unknown', from the first bytes."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"
    return "unknown"


def _torch_load(path: Path) -> Any:
    """torch.load with weights_only=True; argparse.Namespace (rosinality's saved `args`) is
    admitted as plain attributes."""
    try:  # an open file, not its name: torch picks other readers by a name's suffix
        with open(path, "rb") as f, torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(f, map_location="cpu", weights_only=True)
    except UnpicklingError as exc:
        text = str(exc)
        global_name = text.split("GLOBAL ", 1)[1].split(" ", 1)[0] if "GLOBAL " in text else ""
        what = f"'{global_name}'" if global_name else "an object torch will not load safely"
        raise _fail(path, f"the checkpoint holds {what}, which livegan does not load (only "
                          "tensors and plain settings are read; nothing from the file runs)"
                    ) from None
    except Exception as exc:  # noqa: BLE001 - whatever a damaged file makes torch raise
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:80]
        raise _fail(path, f"truncated or corrupt torch file ({first}); "
                          "download or copy it again") from None


def _plain_state(value: Any) -> dict[str, torch.Tensor] | None:
    """A dict of tensors (a state_dict), or None."""
    if isinstance(value, dict) and value and all(isinstance(v, torch.Tensor)
                                                 for v in value.values()):
        return value
    return None


def _read_nvidia(path: Path) -> Imported:
    try:
        data = load_pickle(path)
    except TensorFlowPickle:
        raise _fail(path, "a TensorFlow-era StyleGAN pickle, which livegan cannot read; convert "
                          "it with NVIDIA's stylegan2-ada-pytorch (`python legacy.py "
                          "--source=OLD.pkl --dest=NEW.pkl`) and import NEW.pkl") from None
    except RefusedGlobal as exc:
        raise _fail(path, f"the pickle asks for '{exc}', which is not part of a StyleGAN network "
                          "pickle; livegan refused it and ran nothing from the file") from None
    except ForeignFileError as exc:
        raise _fail(path, f"{exc}; download or copy it again") from None
    if not isinstance(data, dict):
        raise _fail(path, f"a pickle of {type(data).__name__}, not a network pickle; livegan "
                          f"imports {KINDS}")
    for key in ("G_ema", "G"):
        g = data.get(key)
        if isinstance(g, ForeignModule):
            break
    else:
        nets = [k for k, v in data.items() if isinstance(v, ForeignModule)]
        if nets:
            raise _fail(path, f"holds only {', '.join(nets)} (no generator G or G_ema): nothing "
                              "to play; use the snapshot with the generator")
        raise _fail(path, f"a pickle without networks (keys {sorted(map(str, data))[:5]}); "
                          f"livegan imports {KINDS}")
    source = {"format": "nvidia", "file": path.name, "generator": key,
              "ema": key == "G_ema"}
    kwargs = data.get("training_set_kwargs")
    if isinstance(kwargs, dict):
        source["dataset"] = {k: v for k, v in kwargs.items()
                             if isinstance(v, (str, int, float, bool)) and k != "class_name"}
    if any(name.startswith("synthesis.input.") for name in g.tensors):
        from livegan.foreign.nvidia_sg3 import convert_nvidia_sg3

        return convert_nvidia_sg3(g, source)
    from livegan.foreign.nvidia_sg2 import convert_nvidia_sg2

    return convert_nvidia_sg2(g, source)


def _config_json(path: Path) -> dict | None:
    """lucidrains' trainers keep their settings in `<run>.config.json` two folders up
    (models/NAME/model_N.pt beside models/NAME/.config.json in older versions)."""
    for candidate in (path.parent / ".config.json", path.parent / "config.json"):
        try:
            value = json.loads(candidate.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(value, dict):
            return value
    return None


def _read_torch_file(path: Path) -> Imported:
    data = _torch_load(path)
    if not isinstance(data, dict):
        raise _fail(path, f"a torch file holding {type(data).__name__}, not a checkpoint; "
                          f"livegan imports {KINDS}")
    gan = _plain_state(data.get("GAN"))
    if gan is not None:
        from livegan.foreign import lucidrains

        source = {"format": "", "file": path.name, "version": str(data.get("version", ""))}
        config = _config_json(path)
        if lucidrains.is_lightweight_gan(gan):
            source["format"] = "lightweight-gan"
            return lucidrains.convert_lightweight_gan(gan, source, config)
        if lucidrains.is_lucidrains_stylegan2(gan):
            source["format"] = "stylegan2-pytorch"
            return lucidrains.convert_lucidrains_stylegan2(gan, source, config)
        raise _fail(path, "a lucidrains-style checkpoint ('GAN') whose networks livegan does not "
                          f"know; livegan imports {KINDS}")
    if any(_plain_state(data.get(k)) is not None for k in ("g_ema", "g")):
        from livegan.foreign.rosinality import convert_rosinality

        return convert_rosinality(data, {"format": "rosinality", "file": path.name})
    if _plain_state(data.get("d")) is not None or _plain_state(data.get("D")) is not None:
        raise _fail(path, "holds only a discriminator: nothing to play; use the checkpoint "
                          "with the generator (g_ema)")
    if _plain_state(data) is not None:
        raise _fail(path, "a bare state dict of unknown layout; livegan imports "
                          f"{KINDS} (whole checkpoints as their trainers save them)")
    raise _fail(path, f"a torch file with keys {sorted(map(str, data))[:5]}, not a checkpoint "
                      f"livegan knows; livegan imports {KINDS}")


def _is_legacy_torch(path: Path) -> bool:
    """Whether a bare pickle is the legacy (pre-zip) torch.save format: its first object is
    torch's magic number. Read from the first opcodes only (nothing is built: a network
    pickle is read once, by the importer)."""
    with open(path, "rb") as f:
        try:
            ops = pickletools.genops(f)
            next(ops)  # PROTO
            _, value, _ = next(ops)
            return value == TORCH_LOAD_MAGIC
        except Exception:  # noqa: BLE001 - any failure: it is not that format
            return False


def read_foreign(path: Path) -> Imported:
    """The generator in `path` (any kind in KINDS), as livegan's arch, config and tensors.

    Raises ForeignFileError with one sentence for anything else; never runs code from the
    file and never writes anything.
    """
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "no such file")
    _check_size(path)
    kind = sniff(path)
    if kind == "zip" or (kind == "pickle" and _is_legacy_torch(path)):
        return _read_torch_file(path)
    if kind == "pickle":
        return _read_nvidia(path)
    if kind == "safetensors":
        raise _fail(path, "a .safetensors file, which livegan plays as it is when it is a "
                          "livegan model (`livegan perform --model FILE`); nothing to import")
    with open(path, "rb") as f:
        head = f.read(8)
    raise _fail(path, f"not a model file livegan can import (it starts with {head!r}); livegan "
                      f"imports {KINDS}")


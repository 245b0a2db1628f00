"""livegan helpers for TouchDesigner: paste into a Text DAT named td_livegan.

Sending uses an OSC Out DAT named 'oscout1' (Messaging (UDP), 127.0.0.1, port 12000).
Telemetry: call onReceiveOSC(address, args) from an OSC In DAT on port 9000 and read
the Table DAT 'livegan_status' (with --audio, sound level/bands/onset; each beat, beat).
Bends: bend(8, 'rotate', 90) and bends_off(), or CHOP channels named bend_8_rotate,
bend_16_translate_x, bend_16_translate_y... through bend_from_channel() in a CHOP Execute DAT.
TouchDesigner's OSCQuery support can also read livegan's whole namespace, with ranges and
current values, from http://127.0.0.1:12001 (the OSC port + 1): every bend of the playing
model is listed there. Runs inside TouchDesigner only (it uses op()).
"""

OSC_OUT = "oscout1"
STATUS = "livegan_status"
TELEMETRY = ("fps", "frame", "heartbeat", "model", "error", "beat",  # /livegan/<name>
             "level", "bands", "onset")  # /livegan/audio/<name>, with sound in
# Each bend op's amounts, in order (as livegan's `livegan osc` lists them); 0 = no change.
BEND_AMOUNTS = {
    "ablate": ("share", "offset"),        # 0..1, 0..1
    "invert": ("amount",),                # 0..1
    "erode": ("radius",),                 # 0..3
    "dilate": ("radius",),                # 0..3
    "translate": ("x", "y"),              # -1..1, -1..1 (map widths, wraps around)
    "rotate": ("degrees",),               # -180..180
    "scale": ("zoom",),                   # -2..2 (2^zoom)
    "flip": ("horizontal", "vertical"),   # 0..1, 0..1
    "noise": ("amount", "phase"),         # 0..1, -1000..1000
}
_misnamed = set()  # bend_* channel names already reported as not a bend


def _send(address, values=()):
    op(OSC_OUT).sendOSC(address, list(values))  # noqa: F821 - op() is TouchDesigner's


def seed(number, seconds=None):
    """Glide to the latent of seed `number` (optionally over `seconds`)."""
    _send("/livegan/seed", [int(number)] if seconds is None else [int(number), float(seconds)])


def scene(name):
    """Recall a scene of the patch livegan is playing."""
    _send("/livegan/scene", [str(name)])


def dirs(amounts):
    """Amounts along directions 0..n-1, one message (-3..3 is a strong move)."""
    _send("/livegan/dirs", [float(a) for a in amounts])


def direction(index_or_name, amount):
    """One direction by index or by its name in the model."""
    _send(f"/livegan/dir/{index_or_name}", [float(amount)])


def truncation(value):
    _send("/livegan/truncation", [float(value)])


def record(on):
    """Start (True) or stop (False) recording into livegan's output folder."""
    _send("/livegan/record", [1 if on else 0])


def snapshot():
    """Save a PNG of the current frame into livegan's output folder."""
    _send("/livegan/snapshot")


def hud(on):
    _send("/livegan/hud", [1 if on else 0])


def bend(layer, op_name, *amounts):
    """One bend of a layer's feature maps: bend(8, 'rotate', 90), bend(16, 'translate', 0.2, 0).
    Layers are map sizes (4, 8, 16, 32, 64, 128 on the bundled 256x256 models)."""
    _send(f"/livegan/bend/{layer}/{op_name}", [float(a) for a in amounts])


def bends_off():
    """Every bend off."""
    _send("/livegan/bend/off")


def bend_channel(name):
    """'bend_8_rotate' -> ('8', 'rotate', 0); 'bend_16_translate_y' -> ('16', 'translate', 1):
    layer, op and which amount. None for a name that is not a bend channel."""
    parts = name.split("_")
    if len(parts) not in (3, 4) or parts[0] != "bend" or not parts[1].isdigit():
        return None
    amounts = BEND_AMOUNTS.get(parts[2])
    if amounts is None or (len(parts) == 4 and parts[3] not in amounts):
        return None
    return parts[1], parts[2], amounts.index(parts[3]) if len(parts) == 4 else 0


def bend_messages(values):
    """{channel name: value} -> [(address, amounts)], one message per bend with its amounts
    up to the last one named (an earlier one without a channel is sent as 0, a later one
    keeps its value in livegan). Names that are not bend channels are skipped."""
    bends = {}
    for name, value in values.items():
        parsed = bend_channel(name)
        if parsed is not None:
            layer, op_name, index = parsed
            bends.setdefault((layer, op_name), {})[index] = float(value)
    return [(f"/livegan/bend/{layer}/{op_name}",
             [amounts.get(i, 0.0) for i in range(max(amounts) + 1)])
            for (layer, op_name), amounts in bends.items()]


def bend_from_channel(channel):
    """From a CHOP Execute DAT's onValueChange: send the bend this channel belongs to, with
    its other amounts read from the same CHOP (bend_16_translate_x moves, _y goes along)."""
    parsed = bend_channel(channel.name)
    if parsed is None:
        if channel.name.startswith("bend_") and channel.name not in _misnamed:
            _misnamed.add(channel.name)  # said once, not every frame
            print(f"td_livegan: channel {channel.name} is not a bend: name it "
                  f"bend_LAYER_OP or bend_LAYER_OP_AMOUNT (ops: {', '.join(BEND_AMOUNTS)})")
        return
    chans = channel.owner.chans(f"bend_{parsed[0]}_{parsed[1]}*")  # this bend's amounts
    for address, amounts in bend_messages({c.name: c.eval() for c in chans}):
        _send(address, amounts)


def onReceiveOSC(address, args):
    """Keep the latest telemetry value per name in the Table DAT STATUS."""
    name = address.rsplit("/", 1)[-1]
    if not address.startswith("/livegan/") or name not in TELEMETRY or not args:
        return
    table = op(STATUS)  # noqa: F821 - op() is TouchDesigner's
    if table.numRows == 0:
        table.appendRow(["name", "value"])
    if table.row(name) is None:
        table.appendRow([name, ""])
    table[name, "value"] = args[0]

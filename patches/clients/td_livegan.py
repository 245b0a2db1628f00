"""livegan helpers for TouchDesigner: paste into a Text DAT named td_livegan.

Sending uses an OSC Out DAT named 'oscout1' (Messaging (UDP), 127.0.0.1, port 12000).
Telemetry: call onReceiveOSC(address, args) from an OSC In DAT on port 9000 and read
the Table DAT 'livegan_status' (with --audio, sound level/bands/onset; each beat, beat).
TouchDesigner's OSCQuery support can also read livegan's whole namespace, with ranges and
current values, from http://127.0.0.1:12001 (the OSC port + 1). Runs inside TouchDesigner
only (it uses op()).
"""

OSC_OUT = "oscout1"
STATUS = "livegan_status"
TELEMETRY = ("fps", "frame", "heartbeat", "model", "error", "beat",  # /livegan/<name>
             "level", "bands", "onset")  # /livegan/audio/<name>, with sound in


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

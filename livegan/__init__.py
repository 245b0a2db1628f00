"""livegan: a GAN generator as a live instrument, steered by OSC and MIDI."""

__version__ = "0.1.0"

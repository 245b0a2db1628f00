"""MIDI: input ports, MIDI files played as input, the clock, and MIDI learn."""

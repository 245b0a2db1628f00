"""Tempo: the show's beat grid (Ableton Link, MIDI clock or its own count) and changes held
until the next beat or bar."""

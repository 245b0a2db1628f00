"""Sound in: a file or a sound card analysed into level, bands, onsets, tempo and beat."""

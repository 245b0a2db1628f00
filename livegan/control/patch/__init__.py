"""Patches played: what the controls get from a patch (config), its mappings, targets, and the
router that applies them (livegan.patchfile reads and checks the file)."""

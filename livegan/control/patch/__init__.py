"""Patches: loading and checking TOML files, mappings, targets, and the router that applies them."""

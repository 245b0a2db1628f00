"""Patch files: a show's TOML preset read, checked and watched for edits. Above control, engine
and show, whose settings it fills; control/patch plays what it read."""

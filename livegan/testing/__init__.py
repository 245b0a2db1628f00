"""Test traffic for benches, soaks and tests; nothing in a show imports this package."""

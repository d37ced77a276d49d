"""Interop tests: Node (generated TypeScript) against Python, both directions."""

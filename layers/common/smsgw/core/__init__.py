"""The core every other part of smsgw builds on: the message lifecycle, ids, errors, the clock.

It imports nothing of smsgw's (an import-linter contract in `make lint` checks it), so any domain,
adapter or edge may use it without pulling in another.
"""

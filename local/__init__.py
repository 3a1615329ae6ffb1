"""`make run`: the whole gateway on this machine (ministack + the real template + the carrier simulator)."""

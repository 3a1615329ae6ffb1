"""Dispatch: queued messages → carrier, paced at the carrier's rate, retried, never sent twice."""

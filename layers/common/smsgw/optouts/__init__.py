"""Opt-outs (STOP/START) and conversations (replies to a send with `inbound: yes`): what the send path
and the inbound domain share, below both."""

"""`make chaos`: the fault-injection run on the local stack (see docs/reliability.md)."""

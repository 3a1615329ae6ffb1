"""A carrier simulator: a real HTTP server speaking the Vonage SMS API and KPN's OAuth + send wrapper.

`simulator.protocol` holds the wire protocol as pure functions (parameters, authentication,
signatures, part splitting, response bodies); `simulator.server` holds the HTTP server, its state
and the `/_sim/*` control API. Run it with `python -m simulator --port 0`, or in-process with
`simulator.server.start_simulator(...)`. Standard library only, so it runs on any interpreter.
"""

"""A carrier simulator: a real HTTP server speaking the Vonage SMS and Numbers APIs and KPN's wrappers.

`simulator.protocol` holds the wire protocol as pure functions (parameters, authentication,
signatures, part splitting, response bodies, receipt and inbound fields, the number pool);
`simulator.server` starts the server and wires its parts (config, state, routes: see its docstring);
`simulator.receipts` sends the webhooks (delivery receipts, inbound messages) in the background. Run it with `python -m simulator --port 0`, or in-process with
`simulator.server.start_simulator(...)`. Standard library only, so it runs on any interpreter.
"""

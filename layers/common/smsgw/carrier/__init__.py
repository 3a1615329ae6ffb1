"""Carrier clients: the only code in the gateway that calls a carrier. Built by `carrier.factory.make_carrier`,
injected into the dispatcher; handlers never import this package.

Nothing is imported here: the send path needs only `carrier.signing` (Vonage's signed requests), and a
package that re-exported `carrier.base` made every SendFunction cold start build its dataclasses.
"""

"""The simulator's modules keep the names callers import: `simulator.server` and `simulator.protocol`
re-export their parts, so moving code between modules breaks no import."""

from __future__ import annotations

import ast
import importlib
import inspect
from types import ModuleType

import pytest

from simulator import protocol, server

PROTOCOL_MODULES = ("sms", "kpn", "webhooks", "numbers")


def defined_names(module: ModuleType) -> set[str]:
    """The public names a module's own top-level statements define (classes, functions, constants)."""
    names = set()
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("module", PROTOCOL_MODULES)
def test_protocol_re_exports_every_public_name_of_its_modules(module):
    part = importlib.import_module(f"simulator.protocol.{module}")
    names = defined_names(part)
    assert names
    assert names <= set(protocol.__all__)
    for name in names:
        assert getattr(protocol, name) is getattr(part, name)


def test_protocol_exports_each_name_once_and_nothing_else():
    parts = [defined_names(importlib.import_module(f"simulator.protocol.{m}")) for m in PROTOCOL_MODULES]
    assert sum(len(names) for names in parts) == len(set().union(*parts))  # no name defined twice
    assert sorted(protocol.__all__) == sorted(set().union(*parts))


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("SimulatorConfig", "simulator.config"),
        ("RUNTIME_SETTINGS", "simulator.config"),
        ("MAX_POOL_SIZE", "simulator.checks"),
        ("SimulatorState", "simulator.state"),
        ("STAT_NAMES", "simulator.state"),
        ("InboundRequest", "simulator.inbound"),
        ("OPEN_ACCOUNT_API_KEY", "simulator.inbound"),
        ("MAX_DUPLICATES", "simulator.inbound"),
        ("ROUTES", "simulator.routes"),
        ("NUMBERS_OPERATIONS", "simulator.routes"),
        ("KPN_NUMBERS", "simulator.routes"),
        ("SimulatorServer", "simulator.routes"),
    ],
)
def test_the_server_module_re_exports_its_parts(name, module):
    assert name in server.__all__
    assert getattr(server, name) is getattr(importlib.import_module(module), name)


def test_the_server_module_keeps_its_entry_and_the_older_names():
    assert {"start_simulator", "SimulatorHandle"} <= set(server.__all__)
    assert server._InboundRequest is server.InboundRequest  # the name tests import

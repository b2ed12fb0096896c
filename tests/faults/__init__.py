"""Fault-injection tests: real processes, real faults, nothing lost, nothing twice."""

"""Figures the stages log: one module per topic, each function returns a matplotlib Figure."""

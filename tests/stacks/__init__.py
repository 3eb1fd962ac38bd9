"""Tests: stacks."""

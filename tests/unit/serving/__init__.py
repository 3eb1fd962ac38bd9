"""Tests: the serving container."""

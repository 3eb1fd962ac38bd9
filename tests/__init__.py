"""Tests of the maas control plane."""

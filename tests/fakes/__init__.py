"""Fakes of cloud APIs, built from their documented contracts, served for real on loopback."""

"""Helpers for property-testing ops against finite differences (needs ``hypothesis``)."""

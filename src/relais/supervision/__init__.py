"""Supervision: the wallboard, its figures and reports."""

"""Callbacks: a visitor asks to be called back, now or in a slot; an agent calls."""

"""Telling people how the background jobs they started ended."""

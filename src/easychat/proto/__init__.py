"""Provides the sans-IO IRC protocol core shared by the server and the client."""

"""Provides the Textual client: the app, its screens and widgets."""

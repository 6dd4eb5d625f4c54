"""Provides the client's IRC session: the state machine and the parts it is mixed from."""

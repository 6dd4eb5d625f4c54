"""Provides who a user is: accounts and SASL, password hashes, Unix logins."""

"""Accounts, credentials, OAuth tokens and per-account request rate limits."""

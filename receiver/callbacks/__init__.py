"""Inbound provider callbacks: verified, stored durably, processed once."""

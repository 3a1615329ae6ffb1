"""Delivery receipts: carrier DLRs → part and message status (only forward) → status callbacks."""

"""The bank simulator's routers, one per face of the bank (included by simulators/bank/app.py)."""

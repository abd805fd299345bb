"""Stand-ins for the outside systems, each run as its own process with its own SQLite file.

They exist so that every test above the unit level crosses a real HTTP boundary, and so that
pointing the adapters at the real registry or bank is a configuration change only.
"""

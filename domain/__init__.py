"""The pure domain of household BHYT renewal: models, validation, fees, validity dates, words.

Nothing in this package does I/O or reads a clock: "today" is always a parameter. That keeps
the rules that decide money and health cover testable on their own and usable inside Temporal
workflows, which must be deterministic.
"""

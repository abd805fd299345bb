"""Use cases: what the HTTP API (`api/`) and the shell (`starter.py`) both do, written once.

Each module is one use case (cancel, resolve a review, decide a refund, the payments view, the
figures…). It takes the adapters it talks to (the database `Database`, the Temporal `Client`,
the bank's `BankGatewayClient`) as arguments, applies the domain's rules, and answers with a
domain value or raises one of `services.errors`. It knows nothing of HTTP or of the command
line: an entry point parses its input, calls one use case, and formats the answer (an HTTP
status, or an exit code and a line of text).
"""

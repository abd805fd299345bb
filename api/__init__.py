"""The HTTP API (DESIGN §5): portal routes, the bank's IPN route, and the receipt page."""

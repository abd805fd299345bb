"""Bank gateway simulator: takes the household's money and calls back, VNPay-style (DESIGN §3).

Start it with (defaults from config.Settings: port 8102, BHYT_IPN_SECRET, BHYT_TMN_CODE, db var/bank.db):

    python -m simulators.bank

Endpoints:

    GET  /health
    POST /api/v1/orders                   {tmn_code, txn_ref, amount (đồng), order_info, ipn_url, expires_at?}
                                          201 created / 200 same order again / 409 other amount / 403 other merchant
    GET  /api/v1/orders/{txn_ref}         the order, its payments and every IPN attempt
    POST /api/v1/orders/{txn_ref}/pay     {amount?, succeed?, response_code?, pay_date?}: 202 at once; the
                                          signed IPN (GET ipn_url?vnp_...) follows, retried with exponential
                                          backoff until the merchant answers RspCode 00 or 02
    GET  /api/v1/statement?date=YYYY-MM-DD  that day's settled transactions (GMT+7), for reconciliation
    POST /merchant_webapi/api/transaction VNPay's merchant API: querydr and refund, VNPay's code tables
    GET|PUT /admin/knobs                  duplicate_callbacks, duplicate_concurrent, callback_delay_ms,
                                          retry_base_ms, retry_max_ms, max_attempts, callback_timeout_ms,
                                          refund_settle_ms, refund_outcome (success | rejected)
    GET  /pay/{txn_ref}                   a small payment page with Pay / Cancel buttons (the pay_url)

The bank keeps no citizen data, so it loads nothing from the DESIGN §6 file.
"""

from simulators.bank.app import create_app
from simulators.bank.knobs import Knobs

__all__ = ["Knobs", "create_app"]

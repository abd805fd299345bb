"""The bank simulator's own storage: orders, the payments made against them, every IPN attempt.

Kept in SQLite (stdlib sqlite3, a connection per call) so that a restarted simulator still
knows its orders, can answer the statement of a past day, and resumes callbacks it had not
finished delivering, as a real gateway would.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from simulators.sqlite_store import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    txn_ref     TEXT PRIMARY KEY,
    tmn_code    TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    order_info  TEXT NOT NULL,
    ipn_url     TEXT NOT NULL,
    status      TEXT NOT NULL,              -- pending | paid | failed | voided
    created_at  TEXT NOT NULL,
    expires_at  TEXT
);
CREATE TABLE IF NOT EXISTS transactions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_no      TEXT UNIQUE,
    txn_ref             TEXT NOT NULL REFERENCES orders (txn_ref),
    amount              INTEGER NOT NULL,
    bank_code           TEXT NOT NULL,
    bank_tran_no        TEXT NOT NULL,
    card_type           TEXT NOT NULL,
    pay_date            TEXT NOT NULL,      -- ISO 8601 with +07:00
    pay_day             TEXT NOT NULL,      -- its date in GMT+7, for the statement
    response_code       TEXT NOT NULL,
    transaction_status  TEXT NOT NULL,
    ipn_state           TEXT NOT NULL DEFAULT 'pending'   -- pending | delivered | gave_up
);
CREATE INDEX IF NOT EXISTS transactions_day ON transactions (pay_day);
CREATE INDEX IF NOT EXISTS transactions_day_key ON transactions (pay_day, bank_tran_no, transaction_no);
CREATE TABLE IF NOT EXISTS ipn_attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    txn_ref         TEXT NOT NULL,
    transaction_no  TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    kind            TEXT NOT NULL,          -- delivery | duplicate
    at              TEXT NOT NULL,
    http_status     INTEGER,
    rsp_code        TEXT,
    message         TEXT,
    error           TEXT
);
CREATE INDEX IF NOT EXISTS ipn_attempts_txn ON ipn_attempts (txn_ref);
-- issue 20: refunds in process before they are final, request ids unique per merchant per day
CREATE TABLE IF NOT EXISTS merchant_requests (
    tmn_code    TEXT NOT NULL,
    day         TEXT NOT NULL,              -- GMT+7
    request_id  TEXT NOT NULL,
    command     TEXT NOT NULL,
    PRIMARY KEY (tmn_code, day, request_id)
);
CREATE TABLE IF NOT EXISTS refund_requests (
    request_id          TEXT PRIMARY KEY,
    transaction_no      TEXT NOT NULL,
    txn_ref             TEXT NOT NULL,
    amount              INTEGER NOT NULL,
    response_code       TEXT NOT NULL,      -- the answer to the request (00: taken)
    message             TEXT NOT NULL,
    refund_no           TEXT,
    created_at          TEXT NOT NULL,      -- UTC ISO 8601
    refund_day          TEXT NOT NULL,      -- GMT+7
    outcome             TEXT,               -- success | rejected, once taken
    settle_at           TEXT                -- UTC ISO 8601: in process (05, then 06) until then
);
CREATE INDEX IF NOT EXISTS refund_requests_transaction ON refund_requests (transaction_no);
"""

REFUND_PROCESSING, REFUND_SENT_TO_BANK, REFUND_DONE, REFUND_REJECTED = "05", "06", "00", "09"


def _ts(moment: datetime) -> str:
    """UTC, fixed width: stored times compare as text in SQL."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def refund_status(row: dict[str, Any] | sqlite3.Row, now: datetime) -> str:
    """VNPay's vnp_TransactionStatus of a refund taken at `created_at`: 05 for the first half of
    its settling time, 06 (sent to the bank) for the second, then 00 (refunded) or 09 (rejected)."""
    created, settle = datetime.fromisoformat(row["created_at"]), datetime.fromisoformat(row["settle_at"])
    if now < settle:
        return REFUND_PROCESSING if now < created + (settle - created) / 2 else REFUND_SENT_TO_BANK
    return REFUND_DONE if row["outcome"] == "success" else REFUND_REJECTED


GMT7 = timezone(timedelta(hours=7))
TRANSACTION_NO_BASE = 14_000_000
"""vnp_TransactionNo looks like VNPay's 8-digit numbers."""


class BankStore(SqliteStore):
    SCHEMA = SCHEMA

    # -- orders ---------------------------------------------------------------------------------

    def get_order(self, txn_ref: str) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM orders WHERE txn_ref = ?", (txn_ref,)).fetchone()
        return dict(row) if row else None

    def insert_order(
        self,
        *,
        txn_ref: str,
        tmn_code: str,
        amount: int,
        order_info: str,
        ipn_url: str,
        created_at: datetime,
        expires_at: datetime | None,
    ) -> tuple[dict[str, Any], bool]:
        """Returns the stored order and whether this call created it (idempotent on txn_ref)."""
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO orders (txn_ref, tmn_code, amount, order_info, ipn_url, status, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (txn_ref) DO NOTHING",
                (
                    txn_ref,
                    tmn_code,
                    amount,
                    order_info,
                    ipn_url,
                    created_at.isoformat(),
                    expires_at.isoformat() if expires_at else None,
                ),
            )
            created = cur.rowcount == 1
            row = db.execute("SELECT * FROM orders WHERE txn_ref = ?", (txn_ref,)).fetchone()
        return dict(row), created

    def void_order(self, txn_ref: str) -> str | None:
        """An order not paid becomes `voided` (no payment is taken any more); returns its status."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT status FROM orders WHERE txn_ref = ?", (txn_ref,)).fetchone()
            if row is None:
                return None
            if row["status"] in ("pending", "failed"):
                db.execute("UPDATE orders SET status = 'voided' WHERE txn_ref = ?", (txn_ref,))
                return "voided"
            return str(row["status"])

    # -- merchant API requests ------------------------------------------------------------------

    def take_request_id(self, *, tmn_code: str, day: date, request_id: str, command: str) -> bool:
        """False when this merchant already used this vnp_RequestId today (VNPay refuses it)."""
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO merchant_requests (tmn_code, day, request_id, command) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (tmn_code, day.isoformat(), request_id, command),
            )
            return cur.rowcount == 1

    # -- refunds --------------------------------------------------------------------------------

    def refund(
        self,
        *,
        request_id: str,
        transaction_no: str,
        txn_ref: str,
        amount: int,
        at: datetime,
        settle_ms: int,
        outcome: str,
    ) -> dict[str, Any]:
        """Full refund of one successful transaction, atomically: taken (00) and in process for
        `settle_ms`, then final per `outcome`; refused 91/95/93, or 94 while another refund of
        the transaction is in process or done. Returns the request with its `status` now."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            tx = db.execute(
                "SELECT * FROM transactions WHERE transaction_no = ? AND txn_ref = ?",
                (transaction_no, txn_ref),
            ).fetchone()
            taken = db.execute(
                "SELECT * FROM refund_requests WHERE transaction_no = ? AND response_code = '00'",
                (transaction_no,),
            ).fetchall()
            if tx is None:
                code, message = "91", "Transaction not found for request refund"
            elif (tx["response_code"], tx["transaction_status"]) != ("00", "00"):
                code, message = "95", "Transaction not successful at VNPAY: refund refused"
            elif amount != tx["amount"]:
                code, message = "93", "Invalid refund amount (full refunds only)"
            elif any(refund_status(r, at) != REFUND_REJECTED for r in taken):
                code, message = (
                    "94",
                    "A refund was already requested for this transaction: VNPAY is processing it",
                )
            else:
                code, message = "00", "Refund request received"
            refund_no = settle_at = None
            if code == "00":
                count = db.execute("SELECT count(*) FROM refund_requests").fetchone()[0]
                refund_no = str(TRANSACTION_NO_BASE + 500_000 + int(count) + 1)
                settle_at = _ts(at + timedelta(milliseconds=settle_ms))
            db.execute(
                "INSERT INTO refund_requests (request_id, transaction_no, txn_ref, amount, response_code, message, "
                "refund_no, created_at, refund_day, outcome, settle_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    request_id, transaction_no, txn_ref, amount, code, message, refund_no,
                    _ts(at), at.astimezone(GMT7).date().isoformat(),
                    outcome if code == "00" else None, settle_at,
                ),
            )  # fmt: skip
            row = dict(
                db.execute("SELECT * FROM refund_requests WHERE request_id = ?", (request_id,)).fetchone()
            )
        row["status"] = refund_status(row, at) if code == "00" else ""
        return row

    def latest_refund(self, transaction_no: str, now: datetime) -> dict[str, Any] | None:
        """The transaction's last refund taken (code 00), with its `status` now; None if none."""
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM refund_requests WHERE transaction_no = ? AND response_code = '00' "
                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (transaction_no,),
            ).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["status"] = refund_status(row, now)
        return out

    def _done_refunds(
        self, db: sqlite3.Connection, where: str, params: tuple[Any, ...], now: datetime
    ) -> list[sqlite3.Row]:
        return db.execute(
            "SELECT transaction_no, txn_ref, amount, refund_no, created_at, refund_day FROM refund_requests "
            f"WHERE response_code = '00' AND outcome = 'success' AND settle_at <= ? AND {where} ORDER BY created_at",
            (_ts(now), *params),
        ).fetchall()

    def refunds_on(self, day: date, now: datetime) -> list[dict[str, Any]]:
        """The refunds made (settled successfully) among those requested that day."""
        with self._connect() as db:
            rows = self._done_refunds(db, "refund_day = ?", (day.isoformat(),), now)
        return [
            {k: r[k] for k in ("transaction_no", "txn_ref", "amount", "refund_no", "created_at")}
            for r in rows
        ]

    def refunded_among(self, transaction_nos: list[str], now: datetime) -> set[str]:
        """Which of these transactions were refunded: one query for a statement page."""
        if not transaction_nos:
            return set()
        marks = ",".join("?" * len(transaction_nos))
        with self._connect() as db:
            rows = self._done_refunds(db, f"transaction_no IN ({marks})", tuple(transaction_nos), now)
        return {r[0] for r in rows}

    def refunded(self, transaction_no: str, now: datetime) -> bool:
        return bool(self.refunded_among([transaction_no], now))

    # -- payments -------------------------------------------------------------------------------

    def record_payment(
        self,
        *,
        txn_ref: str,
        amount: int,
        bank_code: str,
        card_type: str,
        pay_date: datetime,
        response_code: str,
        transaction_status: str,
        order_status: str,
    ) -> dict[str, Any] | None:
        """Atomically: refuse if already paid, else add the transaction and move the order on."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            status = db.execute("SELECT status FROM orders WHERE txn_ref = ?", (txn_ref,)).fetchone()
            if status is None or status["status"] in ("paid", "voided"):
                return None
            cur = db.execute(
                "INSERT INTO transactions (txn_ref, amount, bank_code, bank_tran_no, card_type, pay_date, pay_day, "
                "response_code, transaction_status) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?)",
                (
                    txn_ref,
                    amount,
                    bank_code,
                    card_type,
                    pay_date.isoformat(),
                    pay_date.date().isoformat(),
                    response_code,
                    transaction_status,
                ),
            )
            number = TRANSACTION_NO_BASE + int(cur.lastrowid or 0)
            db.execute(
                "UPDATE transactions SET transaction_no = ?, bank_tran_no = ? WHERE id = ?",
                (str(number), f"VNP{number}", cur.lastrowid),
            )
            db.execute("UPDATE orders SET status = ? WHERE txn_ref = ?", (order_status, txn_ref))
            row = db.execute("SELECT * FROM transactions WHERE id = ?", (cur.lastrowid,)).fetchone()
        return _transaction(row)

    def transactions(self, txn_ref: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM transactions WHERE txn_ref = ? ORDER BY id", (txn_ref,)
            ).fetchall()
        return [_transaction(r) for r in rows]

    def undelivered(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM transactions WHERE ipn_state = 'pending' ORDER BY id").fetchall()
        return [_transaction(r) for r in rows]

    def set_ipn_state(self, transaction_no: str, state: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE transactions SET ipn_state = ? WHERE transaction_no = ?", (state, transaction_no)
            )

    def settled(self, day: date, tmn_code: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT t.*, o.order_info, o.tmn_code FROM transactions t JOIN orders o USING (txn_ref) "
                "WHERE t.pay_day = ? AND o.tmn_code = ? AND t.response_code = '00' "
                "AND t.transaction_status = '00' ORDER BY t.id",
                (day.isoformat(), tmn_code),
            ).fetchall()
        return [_transaction(r) for r in rows]

    def settled_page(
        self, day: date, tmn_code: str, *, after: tuple[str, str] | None, limit: int
    ) -> list[dict[str, Any]]:
        """One page of `settled`, in (bank_tran_no, transaction_no) order, after the cursor `after`:
        a statement of any size is read in pages through the index, never all at once."""
        key_after = "AND (t.bank_tran_no, t.transaction_no) > (?, ?) " if after else ""
        with self._connect() as db:
            rows = db.execute(
                "SELECT t.*, o.order_info, o.tmn_code FROM transactions t JOIN orders o USING (txn_ref) "
                "WHERE t.pay_day = ? AND o.tmn_code = ? AND t.response_code = '00' "
                f"AND t.transaction_status = '00' {key_after}"
                "ORDER BY t.bank_tran_no, t.transaction_no LIMIT ?",
                (day.isoformat(), tmn_code, *(after or ()), limit),
            ).fetchall()
        return [_transaction(r) for r in rows]

    # -- IPN attempts ---------------------------------------------------------------------------

    def record_attempt(
        self,
        *,
        txn_ref: str,
        transaction_no: str,
        kind: str,
        at: datetime,
        http_status: int | None,
        rsp_code: str | None,
        message: str | None,
        error: str | None,
    ) -> int:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            attempt = (
                1
                + db.execute(
                    "SELECT count(*) FROM ipn_attempts WHERE transaction_no = ?", (transaction_no,)
                ).fetchone()[0]
            )
            db.execute(
                "INSERT INTO ipn_attempts (txn_ref, transaction_no, attempt, kind, at, http_status, rsp_code, "
                "message, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    txn_ref,
                    transaction_no,
                    attempt,
                    kind,
                    at.isoformat(),
                    http_status,
                    rsp_code,
                    message,
                    error,
                ),
            )
        return int(attempt)

    def delivery_attempts(self, transaction_no: str) -> int:
        with self._connect() as db:
            return int(
                db.execute(
                    "SELECT count(*) FROM ipn_attempts WHERE transaction_no = ? AND kind = 'delivery'",
                    (transaction_no,),
                ).fetchone()[0]
            )

    def attempts(self, txn_ref: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT attempt, kind, transaction_no, at, http_status, rsp_code, message, error "
                "FROM ipn_attempts WHERE txn_ref = ? ORDER BY id",
                (txn_ref,),
            ).fetchall()
        return [dict(r) for r in rows]


def _transaction(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out.pop("id", None)
    out.pop("pay_day", None)
    return out

"""Temporal activities, one module per step of the procedure (QĐ 1187/QĐ-BHXH).

step1_declaration  — record the declaration
step2_verification — residence (registry), participation (BHXH database), quote (fee engine)
step3_payment      — open the payment order at the bank, tell the declarant what to pay
step4_allocation   — reconcile the bank's record, allocate and extend in one transaction
step5_result       — receipt and per-participant success notices
review             — payment review: the status and the declarant's notice (steps 3-4)
closing            — close the application at the end of any path (rejected, expired, cancelled)
notify             — notices to the declarant (used by several steps)

Each module holds a class whose methods are the activities; the worker builds the adapters
once and hands them in. Activities stay thin: the rules live in `domain`, the I/O in `adapters`.
"""

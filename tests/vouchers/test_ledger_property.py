"""Property: whatever sequence of claims, redemptions, retries, reversals and expiries happens,
money never appears or vanishes — every balance is the sum of its ledger, stays within 0..face,
and each batch's money is all accounted for (issued = outstanding + redeemed − reversed + expired)."""
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.core.db import utcnow
from backend.core.errors import DomainError
from backend.extensions import db
from backend.vouchers import batches, claims, expiry, ledger, redemption
from tests.factories import make_batch, make_device, make_entrepreneur, make_staff, pay_code

OPS = st.lists(st.one_of(
    st.tuples(st.just("claim"), st.integers(0, 2)),
    st.tuples(st.just("redeem"), st.integers(0, 2), st.integers(1, 250_000), st.sampled_from(["rent", "ip"]),
              st.integers(0, 5)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
    st.tuples(st.just("expire"), st.integers(0, 2)),
), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_money_never_appears_or_vanishes(session, ops):
    with db.session.begin_nested() as outer:
        staff, _ = make_staff()
        batch = make_batch(face_value=100_000, total_count=4, per_person_limit=2, co_pay_ratio_bp=6000,
                           min_bill=5_000)
        people = [make_entrepreneur() for _ in range(3)]
        phones = [make_device(p) for p in people]
        done = []
        keys = {}
        for op in ops:
            try:
                with db.session.begin_nested():
                    if op[0] == "claim":
                        claims.claim(user=people[op[1]], batch_id=batch.id)
                    elif op[0] == "redeem":
                        _, who, bill, category, key = op
                        scan = redemption.scan(staff=staff, code=pay_code(phones[who]))
                        usable = [o["voucher"] for o in scan["vouchers"] if o["usable"]]
                        if usable:
                            key = keys.setdefault((who, key, bill, category, usable[0].id), f"k-{who}-{key}-{bill}")
                            receipt, _ = redemption.redeem(staff=staff, scan_token=scan["scan_token"],
                                                           voucher_id=usable[0].id, bill_amount=bill,
                                                           category=category, idempotency_key=key)
                            done.append(receipt.id)
                    elif op[0] == "reverse" and done:
                        redemption.reverse(staff=staff, redemption_id=done[op[1] % len(done)], reason="属性测试")
                    elif op[0] == "expire":
                        for voucher in db.session.scalars(claims.wallet_query(user=people[op[1]])):
                            voucher.valid_until = utcnow() - timedelta(seconds=1)
                        db.session.flush()
                        expiry.expire_due()
            except DomainError:
                pass
        assert ledger.check_invariants() == []
        figures = batches.figures(batch=batch)
        assert figures["balanced"], figures
        outer.rollback()

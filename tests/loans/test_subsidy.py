"""The interest subsidy (贴息) of 创业担保贷款: worked examples computed by hand, and properties that hold for
any loan, any rule row and any period (hypothesis) — including a plain per-day sum written here, separately
from the module, that `compute` must equal exactly."""
from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.loans.subsidy import LoanFacts, Result, Segment, SubsidyTerms, compute, quarter

SHANDONG = SubsidyTerms(rate_cap_offset_bp=None, borrower_offset_bp=-150, finance_share_pct=100)
# another city: the rate counted is at most LPR + 150 bp and finance pays half of it
CAP_HALF = SubsidyTerms(rate_cap_offset_bp=150, borrower_offset_bp=None, finance_share_pct=50)

D = timedelta(days=1)
PROPERTY = settings(max_examples=200, deadline=None)


def loan(**changes) -> LoanFacts:
    """¥300,000 to an individual on 2025-06-01 for 3 years, LPR 3.00 %, loan rate 3.45 %."""
    facts = LoanFacts(lpr_bp=300, principal=30_000_000, disbursed_on=date(2025, 6, 1), matures_on=date(2028, 6, 1),
                      rates=((date(2025, 6, 1), 345),))
    return replace(facts, **changes)


# ---------------------------------------------------------------- worked examples

def test_shandong_full_quarter_finance_pays_all_above_lpr_minus_150bp():
    result = compute(SHANDONG, loan(), *quarter(2026, 1))
    # borrower pays at most 3.00 % − 1.50 % = 1.50 %, so finance pays 3.45 % − 1.50 % = 1.95 % for 90 days
    assert 30_000_000 * (345 - (300 - 150)) * 90 % (10_000 * 360) == 0
    assert result.subsidy == 30_000_000 * (345 - (300 - 150)) * 90 // (10_000 * 360) == 146_250  # ¥1,462.50
    assert result.interest == 30_000_000 * 345 * 90 // (10_000 * 360) == 258_750
    assert result.days == 90
    assert result.segments == (Segment(date(2026, 1, 1), date(2026, 4, 1), 30_000_000, 345, Fraction(195), True),)
    assert result.describe() == "计息 90 天，贴息利率 1.95%，贴息 1,462.50 元"


def test_another_citys_rule_is_only_other_terms():
    # same loan, same quarter: counted rate min(3.45 %, 3.00 % + 1.50 %) = 3.45 %, finance pays half = 1.725 %
    result = compute(CAP_HALF, loan(), *quarter(2026, 1))
    assert result.subsidy == 30_000_000 * 345 * 90 // (2 * 10_000 * 360) == 129_375
    assert result.describe() == "计息 90 天，贴息利率 1.725%，贴息 1,293.75 元"
    # a loan priced above the cap: only LPR + 150 bp = 4.50 % is counted, half of it paid
    dear = compute(CAP_HALF, loan(rates=((date(2025, 6, 1), 500),)), *quarter(2026, 1))
    assert dear.subsidy == 30_000_000 * 450 * 90 // (2 * 10_000 * 360) == 168_750
    assert dear.interest == 30_000_000 * 500 * 90 // (10_000 * 360)
    # under Shandong's rule the same dear loan costs finance 5.00 % − 1.50 %
    assert compute(SHANDONG, loan(rates=((date(2025, 6, 1), 500),)), *quarter(2026, 1)).subsidy == \
        30_000_000 * 350 * 90 // (10_000 * 360)


def test_quarter_with_rate_change_repayment_and_overdue_by_hand():
    facts = loan(rates=((date(2025, 6, 1), 345), (date(2026, 5, 1), 330)),
                 repayments=((date(2026, 6, 1), 10_000_000),),
                 no_subsidy=((date(2026, 6, 16), date(2026, 6, 21)),))  # overdue 5 days, then cured
    result = compute(SHANDONG, facts, *quarter(2026, 2))
    # Apr 30 d at 3M/1.95 %; May 31 d at 3M/1.80 %; June: 15 + 10 d at 2M/1.80 %, 5 d overdue
    subsidy = Fraction(30_000_000 * 195 * 30 + 30_000_000 * 180 * 31 + 20_000_000 * 180 * 25, 10_000 * 360)
    interest = Fraction(30_000_000 * 345 * 30 + 30_000_000 * 330 * 31 + 20_000_000 * 330 * 30, 10_000 * 360)
    assert (result.exact_subsidy, result.exact_interest) == (subsidy, interest) == (120_250, 226_500)
    assert (result.subsidy, result.interest, result.days) == (120_250, 226_500, 86)
    assert result.segments == (
        Segment(date(2026, 4, 1), date(2026, 5, 1), 30_000_000, 345, Fraction(195), True),
        Segment(date(2026, 5, 1), date(2026, 6, 1), 30_000_000, 330, Fraction(180), True),
        Segment(date(2026, 6, 1), date(2026, 6, 16), 20_000_000, 330, Fraction(180), True),
        Segment(date(2026, 6, 16), date(2026, 6, 21), 20_000_000, 330, Fraction(0), False),
        Segment(date(2026, 6, 21), date(2026, 7, 1), 20_000_000, 330, Fraction(180), True),
    )
    assert result.describe() == "计息 86 天，贴息利率 1.80%–1.95%，贴息 1,202.50 元，逾期/展期等不贴息 5 天"


def test_with_a_low_lpr_finance_pays_at_most_the_whole_interest():
    # LPR 1.00 %: LPR − 150 bp would be −0.50 %; the borrower's ceiling stops at 0 %, so finance pays the
    # interest itself (3.45 %), not 3.95 %
    result = compute(SHANDONG, loan(lpr_bp=100), *quarter(2026, 1))
    assert result.subsidy == result.interest == 30_000_000 * 345 * 90 // (10_000 * 360)


def test_rounded_once_per_loan_and_period_half_up():
    # 18,000 fen at 1.00 %, finance pays all: 0.5 fen a day; 5 days = 2.5 fen → 3 (half up, once);
    # rounding each day would give 5 fen, banker's rounding 2
    terms = SubsidyTerms(rate_cap_offset_bp=None, borrower_offset_bp=None, finance_share_pct=100)
    facts = LoanFacts(lpr_bp=300, principal=18_000, disbursed_on=date(2026, 1, 1), matures_on=date(2027, 1, 1),
                      rates=((date(2026, 1, 1), 100),))
    result = compute(terms, facts, date(2026, 1, 1), date(2026, 1, 6))
    assert result.exact_subsidy == Fraction(5, 2) and result.subsidy == 3
    assert compute(terms, facts, date(2026, 1, 1), date(2026, 1, 2)).subsidy == 1  # 0.5 → 1


def test_loan_disbursed_and_maturing_inside_the_quarter_counts_only_its_days():
    facts = loan(disbursed_on=date(2026, 2, 10), matures_on=date(2026, 3, 20), rates=((date(2026, 2, 10), 345),))
    result = compute(SHANDONG, facts, *quarter(2026, 1))
    assert result.days == (date(2026, 3, 20) - date(2026, 2, 10)).days == 38
    assert result.subsidy == round(Fraction(30_000_000 * 195 * 38, 10_000 * 360)) == 61_750


def test_fully_repaid_loan_stops_and_open_extension_gives_nothing():
    repaid = compute(SHANDONG, loan(repayments=((date(2026, 2, 1), 30_000_000),)), *quarter(2026, 1))
    assert repaid.days == 31 and repaid.segments[-1].end == date(2026, 2, 1)
    extended = compute(SHANDONG, loan(no_subsidy=((date(2026, 3, 1), None),)), *quarter(2026, 1))
    assert extended.days == 59 and extended.interest == 258_750  # interest still runs, the subsidy does not
    assert extended.subsidy == 30_000_000 * 195 * 59 // (10_000 * 360) == 95_875


def test_no_subsidised_days_describes_plainly():
    result = compute(SHANDONG, loan(), *quarter(2025, 1))  # before disbursement
    assert result == Result(0, 0, 0, ())
    assert result.describe() == "计息 0 天，贴息 0.00 元"


def test_quarters():
    assert quarter(2026, 1) == (date(2026, 1, 1), date(2026, 4, 1))
    assert quarter(2026, 4) == (date(2026, 10, 1), date(2027, 1, 1))
    assert [(e - s).days for s, e in map(lambda q: quarter(2028, q), (1, 2, 3, 4))] == [91, 91, 92, 92]
    with pytest.raises(ValueError, match="季度"):
        quarter(2026, 5)


@pytest.mark.parametrize("terms, facts, period, message", [
    (SHANDONG, loan(principal=-1), quarter(2026, 1), "放款本金"),
    (SHANDONG, loan(principal=0), quarter(2026, 1), "放款本金"),
    (SHANDONG, loan(principal=1.5), quarter(2026, 1), "整数"),
    (SHANDONG, loan(lpr_bp=-10), quarter(2026, 1), "LPR"),
    (SHANDONG, loan(rates=((date(2025, 6, 1), -1),)), quarter(2026, 1), "贷款利率"),
    (SHANDONG, loan(rates=()), quarter(2026, 1), "利率"),
    (SHANDONG, loan(rates=((date(2025, 7, 1), 345),)), quarter(2026, 1), "放款日"),
    (SHANDONG, loan(rates=((date(2025, 6, 1), 345), (date(2025, 6, 1), 330))), quarter(2026, 1), "同一天"),
    (SHANDONG, loan(repayments=((date(2026, 1, 1), -5),)), quarter(2026, 1), "还款本金"),
    (SHANDONG, loan(repayments=((date(2026, 1, 1), 20_000_000), (date(2026, 2, 1), 10_000_001))),
     quarter(2026, 1), "超过放款本金"),
    (SHANDONG, loan(repayments=((date(2025, 5, 1), 1),)), quarter(2026, 1), "还款日"),
    (SHANDONG, loan(matures_on=date(2025, 6, 1)), quarter(2026, 1), "到期日"),
    (SHANDONG, loan(no_subsidy=((date(2026, 2, 1), date(2026, 1, 1)),)), quarter(2026, 1), "不贴息"),
    (SHANDONG, loan(), (date(2026, 4, 1), date(2026, 1, 1)), "截止日期不能早于起始日期"),
    (replace(SHANDONG, finance_share_pct=101), loan(), quarter(2026, 1), "财政贴息比例"),
    (replace(SHANDONG, finance_share_pct=-1), loan(), quarter(2026, 1), "财政贴息比例"),
    (replace(SHANDONG, day_count=0), loan(), quarter(2026, 1), "计息天数"),
])
def test_bad_inputs_are_refused_in_chinese(terms, facts, period, message):
    with pytest.raises(ValueError, match=message):
        compute(terms, facts, *period)


# ---------------------------------------------------------------- the per-day rule, written out plainly

def per_day(terms: SubsidyTerms, facts: LoanFacts, start: date, end: date):
    """The rule of the brief, one day at a time: (exact subsidy, exact interest, subsidised days).
    Each day adds balance × rate / 10000 / day_count; the common divisor is applied once at the end."""
    subsidy = interest = days = 0  # subsidy in (fen × bp × %), interest in (fen × bp), both per day_count days
    day = start
    while day < end:
        balance = facts.principal - sum(amount for paid_on, amount in facts.repayments if paid_on <= day)
        if facts.disbursed_on <= day < facts.matures_on and balance > 0:
            rate = [r for since, r in sorted(facts.rates) if since <= day][-1]
            interest += balance * rate
            off = any(since <= day and (until is None or day < until) for since, until in facts.no_subsidy)
            if not off:
                days += 1
                counted = rate
                if terms.rate_cap_offset_bp is not None:
                    counted = max(0, min(rate, facts.lpr_bp + terms.rate_cap_offset_bp))
                if terms.borrower_offset_bp is not None:  # the borrower's own ceiling is never below 0 %
                    counted = max(0, counted - max(0, facts.lpr_bp + terms.borrower_offset_bp))
                subsidy += balance * terms.finance_share_pct * counted
        day += D
    return (Fraction(subsidy, 100 * 10_000 * terms.day_count), Fraction(interest, 10_000 * terms.day_count), days)


# ---------------------------------------------------------------- strategies

terms_st = st.builds(SubsidyTerms, st.none() | st.integers(-200, 300), st.none() | st.integers(-300, 100),
                     st.integers(0, 100), st.sampled_from([360, 365]))


def _loan(disbursed, term, principal, lpr, first_rate, changes, repayments, no_subsidy):
    """Turns plain draws into a valid loan: offsets fold into the loan's life (plus a little after
    maturity), repayments take a per-mille of what is still owed, so they never exceed the principal.
    Each change, repayment and period is one integer split by divmod (one draw instead of two keeps
    the module under 10 s; a shrunk counterexample still reads as small offsets and amounts)."""
    disbursed = date(2024, 1, 1) + D * disbursed
    rates = {disbursed: first_rate}
    for packed in changes:
        offset, rate = divmod(packed, 1_001)
        rates.setdefault(disbursed + D * (1 + offset % (term + 30)), rate)
    paid, left = [], principal
    for packed in repayments:
        offset, permille = divmod(packed, 1_001)
        amount = left * permille // 1_000
        left -= amount
        paid.append((disbursed + D * (offset % (term + 60)), amount))
    periods = []
    for packed in no_subsidy:
        offset, length = divmod(packed, 202)  # length 201: still open
        since = disbursed + D * (offset % (term + 30))
        periods.append((since, None if length == 201 else since + D * length))
    return LoanFacts(lpr_bp=lpr, principal=principal, disbursed_on=disbursed, matures_on=disbursed + D * term,
                     rates=tuple(rates.items()), repayments=tuple(paid), no_subsidy=tuple(periods))


OFFSET = st.integers(0, 1_200)
PERMILLE = st.integers(0, 1_000)


def loans_st():
    return st.builds(_loan, st.integers(0, 900), st.integers(1, 1_100), st.integers(1, 400_000_000),
                     st.integers(100, 500), st.integers(0, 1_000),
                     st.lists(st.integers(0, 1_201 * 1_001 - 1), max_size=3),
                     st.lists(st.integers(0, 1_261 * 1_001 - 1), max_size=4),
                     st.lists(st.integers(0, 1_231 * 202 - 1), max_size=2))


@st.composite
def loan_and_period(draw, loans=loans_st()):
    facts = draw(loans)
    term = (facts.matures_on - facts.disbursed_on).days
    start = facts.disbursed_on + D * (draw(OFFSET) % (term + 200) - 100)
    return facts, start, start + D * draw(st.integers(0, 400))


# ---------------------------------------------------------------- properties

@PROPERTY
@given(terms=terms_st, case=loan_and_period())
def test_equals_the_plain_per_day_sum_exactly_and_segments_are_its_maximal_runs(terms, case):
    facts, start, end = case
    result = compute(terms, facts, start, end)
    subsidy, interest, days = per_day(terms, facts, start, end)
    assert (result.exact_subsidy, result.exact_interest, result.days) == (subsidy, interest, days)
    assert result.subsidy == int(subsidy + Fraction(1, 2)) and result.interest == int(interest + Fraction(1, 2))
    for seg in result.segments:
        assert start <= seg.start < seg.end <= end and facts.disbursed_on <= seg.start and seg.end <= facts.matures_on
        assert seg.balance > 0 and (seg.subsidised or seg.subsidy_rate == 0)
    for a, b in zip(result.segments, result.segments[1:]):
        assert a.end == b.start and (a.balance, a.rate_bp, a.subsidised) != (b.balance, b.rate_bp, b.subsidised)
    assert sum(s.days for s in result.segments if s.subsidised) == result.days
    assert sum(Fraction(s.balance * s.days) * s.subsidy_rate for s in result.segments) / (
        10_000 * terms.day_count) == result.exact_subsidy


@PROPERTY
@given(terms=terms_st, case=loan_and_period(), cut=PERMILLE)
def test_splitting_a_period_adds_up_within_one_fen(terms, case, cut):
    facts, start, end = case
    middle = start + D * ((end - start).days * cut // 1_000)
    whole, first, second = compute(terms, facts, start, end), compute(terms, facts, start, middle), \
        compute(terms, facts, middle, end)
    assert abs(first.subsidy + second.subsidy - whole.subsidy) <= 1
    assert abs(first.interest + second.interest - whole.interest) <= 1
    assert first.exact_subsidy + second.exact_subsidy == whole.exact_subsidy
    assert first.days + second.days == whole.days


@PROPERTY
@given(terms=terms_st, case=loan_and_period(), before=st.integers(0, 1_000), after=st.integers(0, 1_000),
       cut=PERMILLE)
def test_a_rate_change_inside_a_period_equals_the_two_parts_at_their_own_rate(terms, case, before, after, cut):
    facts, start, end = case
    first_day = max(start, facts.disbursed_on + D)
    if end <= first_day:
        start, end = facts.disbursed_on, facts.disbursed_on + D * 91
        first_day = start + D
    change = first_day + D * ((end - first_day).days * cut // 1_000)
    changed = compute(terms, replace(facts, rates=((facts.disbursed_on, before), (change, after))), start, end)
    at_before = compute(terms, replace(facts, rates=((facts.disbursed_on, before),)), start, change)
    at_after = compute(terms, replace(facts, rates=((facts.disbursed_on, after),)), change, end)
    assert abs(at_before.subsidy + at_after.subsidy - changed.subsidy) <= 1
    assert abs(at_before.interest + at_after.interest - changed.interest) <= 1


@PROPERTY
@given(terms=terms_st, case=loan_and_period())
def test_subsidy_never_exceeds_the_interest_and_scales_with_the_finance_share(terms, case):
    result = compute(terms, *case)
    assert 0 <= result.exact_subsidy <= result.exact_interest
    assert 0 <= result.subsidy <= result.interest
    whole = compute(replace(terms, finance_share_pct=100), *case)
    assert result.exact_subsidy * 100 == whole.exact_subsidy * terms.finance_share_pct


@PROPERTY
@given(terms=terms_st, case=loan_and_period(), offset=st.integers(-50, 500), length=st.none() | st.integers(0, 200))
def test_overdue_or_extension_days_take_away_exactly_their_own_subsidy(terms, case, offset, length):
    facts, start, end = case
    since = facts.disbursed_on + D * offset
    until = None if length is None else since + D * length
    without = compute(terms, facts, start, end)
    with_it = compute(terms, replace(facts, no_subsidy=facts.no_subsidy + ((since, until),)), start, end)
    lo, hi = max(start, since), end if until is None else min(end, until)
    those_days = compute(terms, facts, lo, hi) if lo < hi else compute(terms, facts, start, start)
    assert without.exact_subsidy - with_it.exact_subsidy == those_days.exact_subsidy
    assert abs(without.subsidy - with_it.subsidy - those_days.subsidy) <= 1
    assert without.days - with_it.days == those_days.days
    assert with_it.exact_interest == without.exact_interest  # the borrower's interest runs on regardless
    assert all(s.subsidy_rate == 0 for s in with_it.segments if lo <= s.start < hi)


@PROPERTY
@given(terms=terms_st, case=loan_and_period(), offset=st.integers(-10, 1_200), share=PERMILLE)
def test_more_repaid_principal_never_raises_the_subsidy(terms, case, offset, share):
    facts, start, end = case
    left = facts.principal - sum(amount for _, amount in facts.repayments)
    paid_on = max(facts.disbursed_on, facts.disbursed_on + D * offset)
    more = replace(facts, repayments=facts.repayments + ((paid_on, left * share // 1_000),))
    before, after = compute(terms, facts, start, end), compute(terms, more, start, end)
    assert after.exact_subsidy <= before.exact_subsidy and after.subsidy <= before.subsidy
    assert after.exact_interest <= before.exact_interest


@PROPERTY
@given(terms=terms_st, facts=loans_st(), gap=st.integers(0, 400), length=st.integers(0, 400))
def test_nothing_outside_disbursement_to_maturity(terms, facts, gap, length):
    before_end = facts.disbursed_on - D * gap
    after_start = facts.matures_on + D * gap
    for start, end in ((before_end - D * length, before_end), (after_start, after_start + D * length)):
        assert compute(terms, facts, start, end) == Result(0, 0, 0, ())
    wide = compute(terms, facts, facts.disbursed_on - D * gap, facts.matures_on + D * length)
    assert wide == compute(terms, facts, facts.disbursed_on, facts.matures_on)


@st.composite
def cheap_loans(draw):
    """Rule and loan where every rate is at or below what the borrower pays himself (LPR + offset)."""
    terms = draw(st.builds(SubsidyTerms, st.none() | st.integers(-200, 300), st.integers(-300, 100),
                           st.integers(0, 100), st.sampled_from([360, 365])))
    facts, start, end = draw(loan_and_period())
    ceiling = max(0, facts.lpr_bp + terms.borrower_offset_bp)
    facts = replace(facts, rates=tuple((since, rate % (ceiling + 1)) for since, rate in facts.rates))
    return terms, (facts, start, end)


@PROPERTY
@given(case=cheap_loans())
def test_no_subsidy_when_the_rate_is_within_what_the_borrower_pays(case):
    terms, (facts, start, end) = case
    result = compute(terms, facts, start, end)
    assert result.subsidy == 0 and result.exact_subsidy == 0
    assert all(s.subsidy_rate == 0 for s in result.segments)


@PROPERTY
@given(terms=terms_st, case=loan_and_period(), data=st.data())
def test_order_of_repayments_rates_and_periods_does_not_matter(terms, case, data):
    facts, start, end = case
    shuffled = replace(facts, repayments=tuple(data.draw(st.permutations(facts.repayments))),
                       rates=tuple(data.draw(st.permutations(facts.rates))),
                       no_subsidy=tuple(data.draw(st.permutations(facts.no_subsidy))))
    assert compute(terms, shuffled, start, end) == compute(terms, facts, start, end)

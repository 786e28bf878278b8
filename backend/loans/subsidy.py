"""The interest subsidy (贴息) public finance pays a bank for one 创业担保贷款 over a period.

Pure arithmetic over frozen dataclasses — no database, no Flask — so that the rule can be proved by
property tests and the quarterly statement (backend/loans) only maps rows to `SubsidyTerms` and
`LoanFacts` and stores what `compute` returns.

Why it is shaped this way:
- Rules differ by city and change by date, so everything a rule decides is a number in `SubsidyTerms`
  (Shandong: the borrower pays at most LPR − 150 bp, finance pays the rest; another city: rate counted at
  most LPR + 150 bp, finance pays half). A new rule is a new row, never new code.
- The rule is stated per day (balance, rate and eligibility can change on any day), and `compute` is
  exactly that per-day sum; it walks the days between the dates where something changes instead of one by
  one, which gives the same sum and the segments a statement shows.
- Money is summed exactly (Fraction) and rounded ONCE per loan and period, half up, to fen: rounding each
  day or segment would make a quarter differ from the sum of its months by several fen.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

BP = 10_000  # basis points in 1


@dataclass(frozen=True)
class SubsidyTerms:
    """What one row of the rules table decides (all rates in basis points, relative to the loan's LPR)."""
    rate_cap_offset_bp: int | None  # the loan rate counted is at most LPR + this; None: no cap
    borrower_offset_bp: int | None  # the borrower pays at most LPR + this (Shandong −150); None: no such floor
    finance_share_pct: int  # 0..100: share of the subsidisable interest finance pays
    day_count: int = 360  # the banks' day basis (annual rate / day_count per day)


@dataclass(frozen=True)
class LoanFacts:
    """What the bank recorded about one loan; dates are calendar days (Asia/Shanghai), amounts fen."""
    lpr_bp: int  # 1-year LPR at the contract date
    principal: int  # fen disbursed
    disbursed_on: date
    matures_on: date  # no subsidy (and no interest counted) from this day on
    rates: tuple[tuple[date, int], ...]  # (effective from, annual rate bp); the first one at disbursement
    repayments: tuple[tuple[date, int], ...] = ()  # (paid on, principal fen): balance lower from that day on
    no_subsidy: tuple[tuple[date, date | None], ...] = ()  # [from, to): overdue, extension; None = still open


@dataclass(frozen=True)
class Segment:
    """A run of days [start, end) with the same balance, loan rate and subsidised flag.

    `subsidy_rate` is the annual rate finance pays on those days (bp, exact); 0 on a day without subsidy,
    so that Σ balance × subsidy_rate × days / 10000 / day_count over the segments is the exact subsidy."""
    start: date
    end: date
    balance: int
    rate_bp: int
    subsidy_rate: Fraction
    subsidised: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class Result:
    """The subsidy and the interest of one loan over one period, rounded once to fen (half up).

    `exact_subsidy`/`exact_interest` are the unrounded sums (fen, Fraction), kept so that a statement can
    be checked against its parts and tests can assert exact equalities."""
    subsidy: int  # fen
    interest: int  # fen, at the loan's own rate, every day the loan runs (subsidised or not)
    days: int  # subsidised days
    segments: tuple[Segment, ...]
    exact_subsidy: Fraction = Fraction(0)
    exact_interest: Fraction = Fraction(0)

    def describe(self) -> str:
        """One Chinese line for a statement: "计息 90 天，贴息利率 1.95%，贴息 1,462.50 元"."""
        parts = [f"计息 {self.days} 天"]
        rates = sorted({s.subsidy_rate for s in self.segments if s.subsidised and s.days})
        if rates:
            low, high = _percent(rates[0]), _percent(rates[-1])
            parts.append(f"贴息利率 {low}" if low == high else f"贴息利率 {low}–{high}")
        parts.append(f"贴息 {_yuan(self.subsidy)} 元")
        excluded = sum(s.days for s in self.segments if not s.subsidised)
        if excluded:
            parts.append(f"逾期/展期等不贴息 {excluded} 天")
        return "，".join(parts)


def quarter(year: int, q: int) -> tuple[date, date]:
    """[start, end) of quarter q (1..4) of year: the period a bank's interest statement covers."""
    if q not in (1, 2, 3, 4):
        raise ValueError("季度须为 1 至 4")
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return start, end


def compute(terms: SubsidyTerms, loan: LoanFacts, start: date, end: date) -> Result:
    """The subsidy finance owes for `loan` over [start, end) under `terms`.

    Per day d in the period with disbursed_on ≤ d < matures_on: balance = principal − repayments paid on
    or before d; counted = min(rate(d), LPR + cap); subsidy rate = share × max(0, counted − borrower cap)
    (or share × counted without a borrower floor); nothing on a no-subsidy day or once repaid."""
    _check_terms(terms)
    _check_loan(loan)
    _check_date(start, "起始日期")
    _check_date(end, "截止日期")
    if end < start:
        raise ValueError("截止日期不能早于起始日期")
    lo, hi = max(start, loan.disbursed_on), min(end, loan.matures_on)
    pieces = []
    if lo < hi:
        cuts = {lo, hi}
        cuts.update(d for d, _ in loan.rates)
        cuts.update(d for d, _ in loan.repayments)
        for since, until in loan.no_subsidy:
            cuts.add(since)
            if until is not None:
                cuts.add(until)
        bounds = sorted(d for d in cuts if lo <= d <= hi)
        rate_at = _rate_lookup(loan.rates)
        for a, b in zip(bounds, bounds[1:]):
            # nothing changes inside [a, b): every change date is one of the bounds
            balance = loan.principal - sum(amount for paid_on, amount in loan.repayments if paid_on <= a)
            if balance <= 0:
                continue
            rate = rate_at(a)
            subsidised = not any(since <= a and (until is None or a < until) for since, until in loan.no_subsidy)
            pieces.append(Segment(a, b, balance, rate, _subsidy_rate(terms, loan.lpr_bp, rate) if subsidised
                                  else Fraction(0), subsidised))
    segments = _merge(pieces)
    per_day = Fraction(1, BP * terms.day_count)
    exact_subsidy = sum((s.balance * s.subsidy_rate * s.days * per_day for s in segments), Fraction(0))
    exact_interest = sum((Fraction(s.balance * s.rate_bp * s.days) * per_day for s in segments), Fraction(0))
    return Result(subsidy=round_half_up(exact_subsidy), interest=round_half_up(exact_interest),
                  days=sum(s.days for s in segments if s.subsidised), segments=segments,
                  exact_subsidy=exact_subsidy, exact_interest=exact_interest)


def round_half_up(amount: Fraction) -> int:
    """Exact fen, half away from zero (ROUND_HALF_UP), as the finance bureau rounds."""
    q, r = divmod(abs(amount.numerator), amount.denominator)
    fen = q + (1 if 2 * r >= amount.denominator else 0)
    return -fen if amount < 0 else fen


def _subsidy_rate(terms: SubsidyTerms, lpr: int, rate: int) -> Fraction:
    counted = rate if terms.rate_cap_offset_bp is None else min(rate, lpr + terms.rate_cap_offset_bp)
    counted = max(0, counted)
    if terms.borrower_offset_bp is not None:
        # the borrower never pays less than nothing: with a low LPR, LPR − 150 bp would be negative and
        # finance would pay more than the interest itself
        counted = max(0, counted - max(0, lpr + terms.borrower_offset_bp))
    return Fraction(terms.finance_share_pct * counted, 100)


def _rate_lookup(rates):
    ordered = sorted(rates)
    starts = [d for d, _ in ordered]

    def rate_at(day: date) -> int:
        return ordered[bisect_right(starts, day) - 1][1]
    return rate_at


def _merge(pieces: list[Segment]) -> tuple[Segment, ...]:
    merged: list[Segment] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if (last is not None and last.end == piece.start and last.balance == piece.balance
                and last.rate_bp == piece.rate_bp and last.subsidised == piece.subsidised):
            merged[-1] = Segment(last.start, piece.end, last.balance, last.rate_bp, last.subsidy_rate,
                                 last.subsidised)
        else:
            merged.append(piece)
    return tuple(merged)


def _check_int(value, label: str, *, minimum: int | None = 0, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{label}须为整数")
    if minimum is not None and value < minimum:
        raise ValueError(f"{label}不能小于 {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{label}不能大于 {maximum}")


def _check_date(value, label: str) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{label}须为日期")


def _check_terms(terms: SubsidyTerms) -> None:
    for value, label in ((terms.rate_cap_offset_bp, "利率上限加点"), (terms.borrower_offset_bp, "借款人承担利率加点")):
        if value is not None:
            _check_int(value, label, minimum=None)
    _check_int(terms.finance_share_pct, "财政贴息比例", maximum=100)
    _check_int(terms.day_count, "计息天数基准", minimum=1)


def _check_loan(loan: LoanFacts) -> None:
    _check_int(loan.lpr_bp, "LPR")
    _check_int(loan.principal, "放款本金", minimum=1)
    _check_date(loan.disbursed_on, "放款日")
    _check_date(loan.matures_on, "到期日")
    if loan.matures_on <= loan.disbursed_on:
        raise ValueError("到期日须晚于放款日")
    if not loan.rates:
        raise ValueError("缺少贷款利率")
    for since, rate in loan.rates:
        _check_date(since, "利率生效日")
        _check_int(rate, "贷款利率")
    seen = [since for since, _ in loan.rates]
    if len(set(seen)) != len(seen):
        raise ValueError("同一天不能有两个贷款利率")
    if min(seen) != loan.disbursed_on:
        raise ValueError("首个贷款利率须自放款日起生效")
    for paid_on, amount in loan.repayments:
        _check_date(paid_on, "还款日")
        _check_int(amount, "还款本金")
        if paid_on < loan.disbursed_on:
            raise ValueError("还款日不能早于放款日")
    if sum(amount for _, amount in loan.repayments) > loan.principal:
        raise ValueError("累计还款本金超过放款本金")
    for since, until in loan.no_subsidy:
        _check_date(since, "不贴息期间起始日")
        if until is not None:
            _check_date(until, "不贴息期间截止日")
            if until < since:
                raise ValueError("不贴息期间的截止日不能早于起始日")


def _percent(rate_bp: Fraction) -> str:
    exact = (Decimal(rate_bp.numerator) / Decimal(rate_bp.denominator) / 100).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP)
    text = f"{exact:.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}%"


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"

//! Commission and ledger rules with no I/O: quarters, rates, the accelerator, hold reasons,
//! balances and the payout calendar. The services apply them; the SQL balance is checked
//! against `Balances::of` by a property test.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use super::{EntryKind, EntryState, billing};

/// A calendar quarter, `2026-Q4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub number: u32,
}

impl Quarter {
    pub fn of(at: DateTime<Utc>) -> Quarter {
        Quarter { year: at.year(), number: (at.month() - 1) / 3 + 1 }
    }

    pub fn parse(text: &str) -> Result<Quarter, String> {
        let invalid = || format!("{text:?} is not a quarter such as 2026-Q4");
        let (year, q) = text.trim().split_once("-Q").ok_or_else(invalid)?;
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let number: u32 = q.parse().map_err(|_| invalid())?;
        if !(2000..=9999).contains(&year) || !(1..=4).contains(&number) {
            return Err(invalid());
        }
        Ok(Quarter { year, number })
    }

    /// Its first instant.
    pub fn start(self) -> DateTime<Utc> {
        month_start(self.year, (self.number - 1) * 3 + 1)
    }

    /// The first instant of the next quarter.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter { year: self.year + 1, number: 1 }
        } else {
            Quarter { number: self.number + 1, ..self }
        }
    }

    pub fn previous(self) -> Quarter {
        if self.number == 1 {
            Quarter { year: self.year - 1, number: 4 }
        } else {
            Quarter { number: self.number - 1, ..self }
        }
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

fn month_start(year: i32, month: u32) -> DateTime<Utc> {
    let date = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// `percent` of `base`, half-up to the currency's minor unit (like an invoice line).
pub fn commission(base: Decimal, percent: Decimal, currency: &str) -> Decimal {
    billing::round(base * percent / Decimal::ONE_HUNDRED, currency)
}

/// What a rule's accelerator adds when its quarter closes: nothing unless the quarter's net
/// base (list price of what attributed customers paid, less reversals) reached the target;
/// otherwise the accelerated commission on the whole base, less what was already posted for
/// the quarter (so rounding never drifts: base rate + adjustment = accelerated rate, to the cent).
pub fn accelerator_adjustment(
    net_base: Decimal,
    posted: Decimal,
    target: Option<Decimal>,
    accelerated_percent: Option<Decimal>,
    currency: &str,
) -> Option<Decimal> {
    let (target, accelerated) = (target?, accelerated_percent?);
    if net_base < target || net_base <= Decimal::ZERO {
        return None;
    }
    let adjustment = commission(net_base, accelerated, currency) - posted;
    (adjustment > Decimal::ZERO).then_some(adjustment)
}

/// The rate reached so far in a quarter, for the dashboard: the accelerated rate once the
/// target is met, the base rate before.
pub fn rate_reached(
    net_base: Decimal,
    percent: Decimal,
    target: Option<Decimal>,
    accelerated: Option<Decimal>,
) -> Decimal {
    match (target, accelerated) {
        (Some(t), Some(a)) if net_base >= t && net_base > Decimal::ZERO => a,
        _ => percent,
    }
}

/// Why a new commission waits: the reversal window, until when.
pub fn reversal_window_hold(until: DateTime<Utc>) -> String {
    format!("reversal window until {}", until.format("%Y-%m-%d"))
}

/// Why an approved balance is not paid: it is under the programme's minimum payout.
pub fn below_minimum_hold(minimum: Decimal, currency: &str) -> String {
    format!("minimum payout of {} {currency} not reached; carried over to the next payout", minimum.normalize())
}

/// The money of a ledger, by where it stands, per currency. Earning entries (everything but
/// PAYOUT) are pending, approved or paid, or written off (reversed pairs net to zero; duplicates
/// and fraud are taken out); PAYOUT entries are the money that left.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    pub pending: Decimal,
    pub approved: Decimal,
    pub paid: Decimal,
    pub written_off: Decimal,
    pub paid_out: Decimal,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Balances(pub BTreeMap<String, Balance>);

impl Balances {
    /// From (kind, current state, amount, currency) of each entry.
    pub fn of<'a>(entries: impl IntoIterator<Item = (EntryKind, EntryState, Decimal, &'a str)>) -> Balances {
        let mut out = Balances::default();
        for (kind, state, amount, currency) in entries {
            out.add(kind, state, amount, currency);
        }
        out
    }

    pub fn add(&mut self, kind: EntryKind, state: EntryState, amount: Decimal, currency: &str) {
        let b = self.0.entry(currency.to_string()).or_default();
        if kind == EntryKind::Payout {
            b.paid_out += amount;
            return;
        }
        match state {
            EntryState::Pending => b.pending += amount,
            EntryState::Approved => b.approved += amount,
            EntryState::Paid => b.paid += amount,
            EntryState::Reversed | EntryState::Duplicate | EntryState::Fraud => b.written_off += amount,
        }
    }
}

/// Which states an entry may move to from `from` (nothing leaves PAID or a write-off).
pub fn may_move(from: EntryState, to: EntryState) -> bool {
    use EntryState::*;
    matches!(
        (from, to),
        (Pending, Approved)
            | (Pending | Approved, Reversed)
            | (Pending | Approved, Duplicate | Fraud)
            | (Approved, Paid)
    )
}

/// The first day of the payout slot `at` falls in: batches run every `interval` months (1 to 3),
/// counted from January.
pub fn payout_slot(at: DateTime<Utc>, interval: u32) -> DateTime<Utc> {
    let interval = interval.clamp(1, 3);
    let month = (at.month() - 1) / interval * interval + 1;
    month_start(at.year(), month)
}

/// The next scheduled payout after `at`.
pub fn next_payout(at: DateTime<Utc>, interval: u32) -> DateTime<Utc> {
    let interval = interval.clamp(1, 3);
    let slot = payout_slot(at, interval);
    let month0 = slot.month0() + interval;
    month_start(slot.year() + (month0 / 12) as i32, month0 % 12 + 1)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn quarters_read_write_and_bound() {
        let q = Quarter::of(at("2026-11-30T10:00:00Z"));
        assert_eq!(q.to_string(), "2026-Q4");
        assert_eq!(Quarter::parse("2026-Q4"), Ok(q));
        assert_eq!(q.start(), at("2026-10-01T00:00:00Z"));
        assert_eq!(q.end(), at("2027-01-01T00:00:00Z"));
        assert_eq!(q.previous().to_string(), "2026-Q3");
        assert_eq!(Quarter::parse("2027-Q1").unwrap().previous(), q);
        assert!(Quarter::parse("2026-Q5").is_err());
        assert!(Quarter::parse("Q4-2026").is_err());
    }

    /// The golden quarter: 20% by default, 30% when the 10,000 EUR target was met.
    #[test]
    fn golden_quarter_with_and_without_the_accelerator() {
        let lines = [d("4000.00"), d("3333.33"), d("2666.67"), d("1000.00")];
        let posted: Decimal = lines.iter().map(|b| commission(*b, d("20"), "EUR")).sum();
        assert_eq!(posted, d("2200.00"));
        let base: Decimal = lines.iter().sum();
        assert_eq!(base, d("11000.00"));
        let adjustment = accelerator_adjustment(base, posted, Some(d("10000")), Some(d("30")), "EUR");
        assert_eq!(adjustment, Some(d("1100.00")), "30% of 11,000 is 3,300: 1,100 on top of 2,200");
        assert_eq!(rate_reached(base, d("20"), Some(d("10000")), Some(d("30"))), d("30"));
        // Below the target (a line reversed): nothing added, the rate stays 20%.
        let short = base - d("1000.00");
        assert_eq!(accelerator_adjustment(short, d("2000.00"), Some(d("10000.01")), Some(d("30")), "EUR"), None);
        assert_eq!(rate_reached(short, d("20"), Some(d("10000.01")), Some(d("30"))), d("20"));
        // A rule without an accelerator never adds.
        assert_eq!(accelerator_adjustment(base, posted, None, None, "EUR"), None);
        // Rounding per line never drifts from the quarter's rate.
        assert_eq!(commission(d("3333.33"), d("20"), "EUR"), d("666.67"));
        assert_eq!(commission(d("0.05"), d("30"), "JPY"), d("0"));
    }

    #[test]
    fn the_payout_calendar_pays_at_least_every_three_months() {
        assert_eq!(payout_slot(at("2026-11-30T10:00:00Z"), 3), at("2026-10-01T00:00:00Z"));
        assert_eq!(next_payout(at("2026-11-30T10:00:00Z"), 3), at("2027-01-01T00:00:00Z"));
        assert_eq!(next_payout(at("2026-11-30T10:00:00Z"), 1), at("2026-12-01T00:00:00Z"));
        assert_eq!(next_payout(at("2026-12-01T00:00:00Z"), 1), at("2027-01-01T00:00:00Z"));
        assert_eq!(payout_slot(at("2026-12-31T23:59:59Z"), 2), at("2026-11-01T00:00:00Z"));
        assert_eq!(next_payout(at("2026-12-31T23:59:59Z"), 2), at("2027-01-01T00:00:00Z"));
    }

    #[test]
    fn nothing_leaves_paid_or_a_write_off() {
        use EntryState::*;
        for to in EntryState::ALL {
            assert!(!may_move(Paid, *to));
            assert!(!may_move(Reversed, *to));
            assert!(!may_move(Fraud, *to));
        }
        assert!(may_move(Pending, Approved) && may_move(Approved, Paid) && !may_move(Pending, Paid));
    }

    proptest! {
        /// However entries are spread over states, the buckets add up to the entries' sum.
        #[test]
        fn buckets_add_up_to_the_entries(entries in prop::collection::vec((0usize..6, -1_000_000i64..1_000_000, 0usize..2), 0..60)) {
            let currencies = ["EUR", "CHF"];
            let rows: Vec<(EntryKind, EntryState, Decimal, &str)> = entries
                .iter()
                .map(|(s, cents, c)| (EntryKind::Commission, EntryState::ALL[*s], Decimal::new(*cents, 2), currencies[*c]))
                .collect();
            let balances = Balances::of(rows.clone());
            for currency in currencies {
                let sum: Decimal = rows.iter().filter(|r| r.3 == currency).map(|r| r.2).sum();
                let b = balances.0.get(currency).cloned().unwrap_or_default();
                prop_assert_eq!(sum, b.pending + b.approved + b.paid + b.written_off);
            }
        }

        #[test]
        fn commission_is_exact_to_the_cent(cents in 0i64..100_000_000, percent in 0u32..=100) {
            let c = commission(Decimal::new(cents, 2), Decimal::from(percent), "EUR");
            prop_assert_eq!(c, c.round_dp(2));
            prop_assert!(c <= Decimal::new(cents, 2));
        }
    }
}

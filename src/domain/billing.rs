//! Money rules of billing, pure: minor units per currency, half-up rounding on the line,
//! volume bands, partner discounts, proration to the day, splitting an amount without losing a
//! cent, and whether a reverse charge applies.

use chrono::{DateTime, Months, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

/// Digits after the decimal point of a currency's minor unit (ISO 4217).
pub fn minor_digits(currency: &str) -> u32 {
    super::currency::minor_digits(currency)
}

/// What is still to pay on an invoice: its total less what was paid, nothing on a voided one.
pub fn amount_due(total: Decimal, paid: Decimal, voided: bool, currency: &str) -> Decimal {
    if voided { round(Decimal::ZERO, currency) } else { round(total - paid, currency) }
}

/// Half-up (away from zero at the midpoint) to the currency's minor unit.
/// The result always has exactly the minor unit's digits (89.00, not 89.0).
pub fn round(amount: Decimal, currency: &str) -> Decimal {
    let digits = minor_digits(currency);
    let mut rounded = amount.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(digits);
    rounded
}

/// A price as shown: at least the minor unit's digits (4.40), more when it has them (0.0125).
pub fn display(amount: Decimal, currency: &str) -> Decimal {
    let mut shown = amount.normalize();
    if shown.scale() < minor_digits(currency) {
        shown.rescale(minor_digits(currency));
    }
    shown
}

/// A plan's price per seat for `seats` seats: the band with the highest threshold reached, or
/// the plan's own price below every band. Bands apply to every seat (all-units pricing).
pub fn seat_price(plan_price: Decimal, bands: &[(i32, Decimal)], seats: i32) -> Decimal {
    bands.iter().filter(|(min, _)| *min <= seats).max_by_key(|(min, _)| *min).map_or(plan_price, |(_, price)| *price)
}

/// The list price of `seats` seats for one period, unrounded.
pub fn period_price(plan_price: Decimal, bands: &[(i32, Decimal)], seats: i32) -> Decimal {
    seat_price(plan_price, bands, seats) * Decimal::from(seats)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineAmounts {
    /// Quantity × unit price, rounded.
    pub gross: Decimal,
    /// The partner's discount on the gross, rounded.
    pub discount: Decimal,
    pub net: Decimal,
}

/// Amounts of one invoice line: each rounded half-up, and net = gross − discount exactly.
pub fn line(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, currency: &str) -> LineAmounts {
    let exact = quantity * unit_price;
    let gross = round(exact, currency);
    let discount = round(exact * discount_percent / Decimal::ONE_HUNDRED, currency);
    LineAmounts { gross, discount, net: gross - discount }
}

/// The share of a period still to run at `at`, in whole days: (days left, days in period).
/// Days left never exceed the period, and are zero at or after its end.
pub fn remaining_days(period_start: DateTime<Utc>, period_end: DateTime<Utc>, at: DateTime<Utc>) -> (i64, i64) {
    let total = (period_end.date_naive() - period_start.date_naive()).num_days().max(1);
    let left = (period_end.date_naive() - at.date_naive()).num_days().clamp(0, total);
    (left, total)
}

/// What changing from `old_price` to `new_price` per period costs for the rest of the period
/// (negative: a credit), unrounded.
pub fn prorate(old_price: Decimal, new_price: Decimal, days_left: i64, days_total: i64) -> Decimal {
    if days_total <= 0 {
        return Decimal::ZERO;
    }
    (new_price - old_price) * Decimal::from(days_left) / Decimal::from(days_total)
}

/// The end of a period that starts at `start`.
pub fn period_end(start: DateTime<Utc>, yearly: bool) -> DateTime<Utc> {
    let months = if yearly { 12 } else { 1 };
    start.checked_add_months(Months::new(months)).unwrap_or(start)
}

/// Splits `total` (already in minor units) in proportion to `weights` so that the parts, each
/// in minor units, add up to `total` exactly: floors first, then the leftover units to the
/// largest remainders. Equal weights give parts that differ by at most one unit.
pub fn allocate(total: Decimal, weights: &[Decimal], currency: &str) -> Vec<Decimal> {
    if weights.is_empty() {
        return vec![];
    }
    let sum: Decimal = weights.iter().copied().sum();
    let unit = Decimal::new(1, minor_digits(currency));
    if sum.is_zero() {
        // Nothing to weigh by: split evenly.
        return allocate(total, &vec![Decimal::ONE; weights.len()], currency);
    }
    let units = total / unit;
    let exact: Vec<Decimal> = weights.iter().map(|w| units * *w / sum).collect();
    let mut parts: Vec<Decimal> = exact.iter().map(|e| e.floor()).collect();
    let mut left = units - parts.iter().copied().sum::<Decimal>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| (exact[*b] - parts[*b]).cmp(&(exact[*a] - parts[*a])).then(a.cmp(b)));
    for i in order.iter().cycle() {
        if left <= Decimal::ZERO {
            break;
        }
        parts[*i] += Decimal::ONE;
        left -= Decimal::ONE;
    }
    parts.into_iter().map(|p| p * unit).collect()
}

pub const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// B2B within the EU across a border: the buyer accounts for the VAT. Its VAT number must be of
/// its own country (Greece's prefix is EL).
pub fn reverse_charge(seller_country: &str, buyer_country: &str, buyer_vat: Option<&str>) -> bool {
    let prefix = if buyer_country == "GR" { "EL" } else { buyer_country };
    seller_country != buyer_country
        && EU.contains(&seller_country)
        && EU.contains(&buyer_country)
        && buyer_vat.is_some_and(|v| v.starts_with(prefix) && super::validate::vat_number(v).is_ok())
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeDelta};
    use proptest::prelude::*;

    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn rounding_is_half_up_on_midpoints() {
        assert_eq!(round(d("1.005"), "EUR"), d("1.01"));
        assert_eq!(round(d("1.015"), "EUR"), d("1.02"));
        assert_eq!(round(d("2.675"), "EUR"), d("2.68"));
        assert_eq!(round(d("1.0049"), "EUR"), d("1.00"));
        assert_eq!(round(d("-1.005"), "EUR"), d("-1.01"), "credits round symmetrically");
        assert_eq!(round(d("89"), "EUR").to_string(), "89.00", "always the minor unit's digits");
        assert_eq!(display(d("4.4"), "EUR").to_string(), "4.40");
        assert_eq!(display(d("0.0125"), "EUR").to_string(), "0.0125");
        assert_eq!(round(d("1234.5"), "JPY"), d("1235"));
        assert_eq!(round(d("1234.4"), "JPY"), d("1234"));
        assert_eq!(round(d("1.2345"), "KWD"), d("1.235"));
        assert_eq!(round(d("1.2344"), "KWD"), d("1.234"));
    }

    #[test]
    fn volume_bands_price_every_seat() {
        let bands = [(10, d("9.00")), (50, d("8.00"))];
        assert_eq!(seat_price(d("10"), &bands, 9), d("10"));
        assert_eq!(seat_price(d("10"), &bands, 10), d("9.00"), "exactly at the threshold");
        assert_eq!(seat_price(d("10"), &bands, 49), d("9.00"));
        assert_eq!(seat_price(d("10"), &bands, 50), d("8.00"));
        assert_eq!(period_price(d("10"), &bands, 60), d("480.00"));
    }

    #[test]
    fn a_line_with_a_discount() {
        let l = line(d("25"), d("8.99"), d("15"), "EUR");
        assert_eq!(l.gross, d("224.75"));
        assert_eq!(l.discount, d("33.71"), "33.7125 rounds down");
        assert_eq!(l.net, d("191.04"));
    }

    #[test]
    fn proration_to_the_day() {
        let start: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().unwrap();
        let end = period_end(start, false);
        assert_eq!(end, "2026-12-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let (left, total) = remaining_days(start, end, "2026-11-16T09:30:00Z".parse().unwrap());
        assert_eq!((left, total), (15, 30));
        assert_eq!(prorate(d("100"), d("160"), left, total), d("30"));
        assert_eq!(remaining_days(start, end, end + TimeDelta::days(3)).0, 0);
        assert_eq!(remaining_days(start, end, start - TimeDelta::days(3)).0, 30);
    }

    #[test]
    fn reverse_charge_needs_another_eu_country_and_its_vat_number() {
        assert!(reverse_charge("DE", "FR", Some("FR12345678901")));
        assert!(!reverse_charge("DE", "DE", Some("DE123456789")), "domestic");
        assert!(!reverse_charge("DE", "FR", None), "no VAT number: a consumer");
        assert!(!reverse_charge("DE", "FR", Some("DE123456789")), "another country's number");
        assert!(!reverse_charge("DE", "CH", Some("CHE123456789")), "outside the EU");
        assert!(reverse_charge("DE", "GR", Some("EL123456789")));
    }

    #[test]
    fn splits_add_up() {
        let parts = allocate(d("100.00"), &[Decimal::ONE, Decimal::ONE, Decimal::ONE], "EUR");
        assert_eq!(parts, [d("33.34"), d("33.33"), d("33.33")]);
        assert_eq!(allocate(d("100"), &[Decimal::ONE; 3], "JPY"), [d("34"), d("33"), d("33")]);
        assert_eq!(allocate(d("0.100"), &[Decimal::ONE; 3], "KWD"), [d("0.034"), d("0.033"), d("0.033")]);
        let weighted = allocate(d("10.00"), &[d("1"), d("2"), d("-1")], "EUR");
        assert_eq!(weighted.iter().copied().sum::<Decimal>(), d("10.00"));
        assert_eq!(weighted, [d("5.00"), d("10.00"), d("-5.00")]);
    }

    fn currency() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just("EUR"), Just("JPY"), Just("KWD"), Just("CHF")]
    }

    fn date(days: i64) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc() + TimeDelta::days(days)
    }

    proptest! {
        /// Whatever the dates and seat changes, a period's first charge plus every prorated
        /// charge and credit never exceeds a full period at the highest seat count reached
        /// (nor falls below one at the lowest).
        #[test]
        fn proration_never_charges_more_than_a_full_period(
            start in 0i64..2000,
            yearly in any::<bool>(),
            seats in prop::collection::vec(1i32..500, 2..8),
            offsets in prop::collection::vec(0i64..400, 8),
            cents in 1i64..100_000,
            cur in currency(),
        ) {
            let price = Decimal::new(cents, 2);
            let (start, end) = (date(start), period_end(date(start), yearly));
            let mut at: Vec<DateTime<Utc>> = offsets.iter().map(|o| start + TimeDelta::days(*o)).collect();
            at.sort();
            let mut charged = round(price * Decimal::from(seats[0]), cur);
            for (i, pair) in seats.windows(2).enumerate() {
                let (left, total) = remaining_days(start, end, at[i]);
                prop_assert!(left <= total && left >= 0);
                let delta = prorate(price * Decimal::from(pair[0]), price * Decimal::from(pair[1]), left, total);
                charged += round(delta, cur);
            }
            let full = |n: i32| round(price * Decimal::from(n), cur);
            // Each rounded line moves by half a minor unit at most.
            let slack = Decimal::new(seats.len() as i64, minor_digits(cur));
            let (most, least) = (*seats.iter().max().unwrap(), *seats.iter().min().unwrap());
            prop_assert!(charged <= full(most) + slack, "charged {} for at most {} seats ({})", charged, most, full(most));
            prop_assert!(charged >= full(least) - slack, "charged {} for at least {} seats", charged, least);
        }

        #[test]
        fn one_prorated_change_is_at_most_the_full_difference(
            days in 0i64..400,
            old_seats in 1i32..1000,
            new_seats in 1i32..1000,
            cents in 1i64..1_000_000,
        ) {
            let price = Decimal::new(cents, 2);
            let start = date(0);
            let end = period_end(start, false);
            let (left, total) = remaining_days(start, end, start + TimeDelta::days(days));
            let delta = prorate(price * Decimal::from(old_seats), price * Decimal::from(new_seats), left, total);
            prop_assert!(delta.abs() <= (price * Decimal::from(new_seats - old_seats)).abs());
        }

        #[test]
        fn rounding_lands_on_the_minor_unit_and_moves_less_than_half_of_it(
            units in -10_000_000i64..10_000_000,
            scale in 0u32..8,
            cur in currency(),
        ) {
            let amount = Decimal::new(units, scale);
            let rounded = round(amount, cur);
            prop_assert_eq!(rounded.scale(), minor_digits(cur));
            let half = Decimal::new(5, minor_digits(cur) + 1);
            prop_assert!((rounded - amount).abs() <= half);
        }

        #[test]
        fn three_way_splits_sum_to_the_total(units in -10_000_000i64..10_000_000, cur in currency()) {
            let total = Decimal::new(units, minor_digits(cur));
            let parts = allocate(total, &[Decimal::ONE; 3], cur);
            prop_assert_eq!(parts.iter().copied().sum::<Decimal>(), total);
            let (lo, hi) = (parts.iter().min().unwrap(), parts.iter().max().unwrap());
            prop_assert!(*hi - *lo <= Decimal::new(1, minor_digits(cur)));
        }

        #[test]
        fn weighted_splits_sum_to_the_total(
            units in 0i64..10_000_000,
            weights in prop::collection::vec(0i64..100_000, 1..12),
            cur in currency(),
        ) {
            let total = Decimal::new(units, minor_digits(cur));
            let weights: Vec<Decimal> = weights.into_iter().map(|w| Decimal::new(w, 2)).collect();
            let parts = allocate(total, &weights, cur);
            prop_assert_eq!(parts.iter().copied().sum::<Decimal>(), total);
        }
    }
}

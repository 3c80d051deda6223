//! Rebate rates: which rate is in force on an invoice date, and whether a new rate would make
//! that ambiguous. Pure, so the boundaries are tested here.

use chrono::{DateTime, Utc};

/// A rate's validity: from `from` (inclusive) until `to` (exclusive), open when `to` is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

impl Validity {
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.to.is_none_or(|to| at < to)
    }

    /// Two periods share an instant. A period ending where the other starts does not.
    pub fn overlaps(&self, other: &Validity) -> bool {
        let starts_before_other_ends = other.to.is_none_or(|to| self.from < to);
        let ends_after_other_starts = self.to.is_none_or(|to| other.from < to);
        starts_before_other_ends && ends_after_other_starts
    }
}

/// The product line of a rate or a claim line, compared without case or surrounding spaces.
pub fn product_line_key(line: &str) -> String {
    line.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn a_period_covers_its_start_and_not_its_end() {
        let v = Validity { from: day(10), to: Some(day(20)) };
        assert!(!v.covers(day(9)));
        assert!(v.covers(day(10)));
        assert!(v.covers(day(19)));
        assert!(!v.covers(day(20)));
        assert!(Validity { from: day(10), to: None }.covers(day(31)));
    }

    #[test]
    fn adjacent_periods_do_not_overlap_and_nested_ones_do() {
        let jan = Validity { from: day(1), to: Some(day(15)) };
        let later = Validity { from: day(15), to: None };
        assert!(!jan.overlaps(&later) && !later.overlaps(&jan));
        assert!(jan.overlaps(&Validity { from: day(5), to: Some(day(6)) }));
        assert!(later.overlaps(&Validity { from: day(20), to: None }));
        assert!(jan.overlaps(&Validity { from: day(14), to: None }));
    }

    #[test]
    fn the_rate_in_force_changes_at_the_boundary() {
        let rates = [(1, Validity { from: day(1), to: Some(day(15)) }), (2, Validity { from: day(15), to: None })];
        let at = |t: DateTime<Utc>| rates.iter().find(|r| r.1.covers(t)).map(|r| r.0);
        assert_eq!(at(day(14)), Some(1));
        assert_eq!(at(day(15)), Some(2));
        assert_eq!(at(Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 59).unwrap()), None);
    }

    proptest! {
        /// Overlap is symmetric, and two periods that overlap share an instant both cover.
        #[test]
        fn overlap_is_symmetric_and_means_a_shared_instant(a in 1u32..28, b in 1u32..28, c in 1u32..28, d in 1u32..28, open in any::<bool>()) {
            let x = Validity { from: day(a.min(b)), to: Some(day(a.max(b) + 1)) };
            let y = Validity { from: day(c.min(d)), to: if open { None } else { Some(day(c.max(d) + 1)) } };
            prop_assert_eq!(x.overlaps(&y), y.overlaps(&x));
            let shared = (1..=28).map(day).any(|t| x.covers(t) && y.covers(t));
            prop_assert_eq!(x.overlaps(&y), shared);
        }
    }
}

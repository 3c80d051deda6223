//! Rebates: which rate is in force on an invoice date and whether a new rate would make that
//! ambiguous; what an invoice file is by its content; how claims are compared for duplicates;
//! what a claim earns. Pure, so the boundaries are tested here.

use chrono::{DateTime, Utc};

/// A programme's invoice file limit when it sets none: 10 MiB.
pub const DEFAULT_FILE_MAX_BYTES: i64 = 10 * 1024 * 1024;
/// The most a programme may allow.
pub const LARGEST_FILE_MAX_BYTES: i64 = 50 * 1024 * 1024;

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

/// What an invoice file is, judged by its first bytes, never by its name or declared type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvoiceFile {
    Pdf,
    Jpeg,
    Png,
}

impl InvoiceFile {
    /// The bytes a file must start with to be judged; fewer and it cannot be.
    pub const SNIFF_LEN: usize = 8;

    /// The kind from the file's first bytes; `None` for anything else (an ELF or a ZIP renamed
    /// `.pdf` included).
    pub fn sniff(head: &[u8]) -> Option<InvoiceFile> {
        if head.starts_with(b"%PDF-") {
            Some(InvoiceFile::Pdf)
        } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(InvoiceFile::Png)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(InvoiceFile::Jpeg)
        } else {
            None
        }
    }

    /// The content type it is stored and served with.
    pub fn content_type(self) -> &'static str {
        match self {
            InvoiceFile::Pdf => "application/pdf",
            InvoiceFile::Jpeg => "image/jpeg",
            InvoiceFile::Png => "image/png",
        }
    }
}

/// An invoice number as duplicates are compared: without case, spaces, dashes, dots or slashes
/// (`inv-2026/0042` and `INV 2026 0042` are one invoice).
pub fn invoice_number_key(number: &str) -> String {
    number.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

/// A claim's lines as duplicates are compared: the same products in the same quantities, in
/// any order and however the product lines are written.
pub fn lines_key(lines: &[(String, i64)]) -> String {
    let mut merged: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (line, quantity) in lines {
        *merged.entry(product_line_key(line)).or_default() += quantity;
    }
    merged.into_iter().map(|(line, quantity)| format!("{line}={quantity}")).collect::<Vec<_>>().join(";")
}

/// A claim's rebate: each line's quantity times the amount per unit of its product line's rate
/// (`rate_of`), exactly. A line without a rate in force is named in the error.
pub fn rebate_total(
    lines: &[(String, i64)],
    rate_of: impl Fn(&str) -> Option<rust_decimal::Decimal>,
) -> Result<rust_decimal::Decimal, String> {
    let mut total = rust_decimal::Decimal::ZERO;
    for (line, quantity) in lines {
        let Some(per_unit) = rate_of(&product_line_key(line)) else {
            return Err(format!("no rebate rate for {} on the invoice date", line.trim()));
        };
        total += per_unit * rust_decimal::Decimal::from(*quantity);
    }
    Ok(total)
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

    #[test]
    fn files_are_judged_by_their_first_bytes() {
        assert_eq!(InvoiceFile::sniff(b"%PDF-1.7\n%..."), Some(InvoiceFile::Pdf));
        assert_eq!(InvoiceFile::sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]), Some(InvoiceFile::Png));
        assert_eq!(InvoiceFile::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(InvoiceFile::Jpeg));
        assert_eq!(InvoiceFile::sniff(b"\x7fELF\x02\x01\x01"), None, "an ELF renamed .pdf");
        assert_eq!(InvoiceFile::sniff(b"PK\x03\x04\x14\x00"), None, "a ZIP renamed .pdf");
        assert_eq!(InvoiceFile::sniff(b"%PD"), None, "too short to tell");
        assert_eq!(InvoiceFile::sniff(b""), None);
        assert_eq!(InvoiceFile::Png.content_type(), "image/png");
    }

    #[test]
    fn invoice_numbers_written_differently_are_one() {
        assert_eq!(invoice_number_key("inv-2026/0042"), "INV20260042");
        assert_eq!(invoice_number_key(" INV 2026 0042 "), invoice_number_key("Inv-2026-0042"));
        assert_ne!(invoice_number_key("INV-2026-0042"), invoice_number_key("INV-2026-0043"));
    }

    #[test]
    fn identical_lines_match_in_any_order_and_merge() {
        let a = [("D7xx".to_string(), 10), ("d3XX ".to_string(), 5)];
        let b = [("D3xx".to_string(), 2), ("d7xx".to_string(), 10), ("D3xx".to_string(), 3)];
        assert_eq!(lines_key(&a), lines_key(&b));
        assert_ne!(lines_key(&a), lines_key(&[("D7xx".to_string(), 10), ("D3xx".to_string(), 4)]));
    }

    #[test]
    fn the_rebate_is_exact_and_names_a_line_without_a_rate() {
        use rust_decimal::Decimal;
        let rate = |line: &str| match line {
            "d7xx" => Some(Decimal::new(1250, 2)),
            "d3xx" => Some(Decimal::new(8, 0)),
            _ => None,
        };
        let lines = [("D7xx".to_string(), 3), ("D3xx".to_string(), 7)];
        assert_eq!(rebate_total(&lines, rate), Ok(Decimal::new(9350, 2)));
        let unknown = [("D9xx ".to_string(), 1)];
        assert_eq!(rebate_total(&unknown, rate), Err("no rebate rate for D9xx on the invoice date".to_string()));
    }

    proptest! {
        /// However a number is decorated with case, spaces and dashes, its key is the same.
        #[test]
        fn decoration_never_changes_an_invoice_number(core in "[A-Za-z0-9]{1,12}", seps in proptest::collection::vec(prop_oneof![Just(" "), Just("-"), Just("/"), Just(".")], 0..4)) {
            let mut decorated = String::new();
            for (i, c) in core.chars().enumerate() {
                if let Some(sep) = seps.get(i % 4) { decorated.push_str(sep); }
                decorated.push(if i % 2 == 0 { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() });
            }
            prop_assert_eq!(invoice_number_key(&decorated), invoice_number_key(&core));
        }

        /// The rebate of lines is the sum of the rebates of each line.
        #[test]
        fn rebates_add_up(quantities in proptest::collection::vec(1i64..10_000, 1..8), cents in 1i64..100_000) {
            use rust_decimal::Decimal;
            let per_unit = Decimal::new(cents, 2);
            let lines: Vec<(String, i64)> = quantities.iter().map(|q| ("D7xx".to_string(), *q)).collect();
            let whole = rebate_total(&lines, |_| Some(per_unit)).unwrap();
            let parts: Decimal = lines.iter().map(|l| rebate_total(std::slice::from_ref(l), |_| Some(per_unit)).unwrap()).sum();
            prop_assert_eq!(whole, parts);
            prop_assert_eq!(whole, per_unit * Decimal::from(quantities.iter().sum::<i64>()));
        }
    }
}

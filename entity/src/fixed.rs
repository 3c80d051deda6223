//! Exact decimals in the database: money, prices, quantities and rates.

use rust_decimal::Decimal;
use sea_orm::entity::prelude::*;

/// Places after the decimal point of every stored decimal.
pub const SCALE: u32 = 4;

/// An exact decimal with four places, stored as a 64-bit count of ten-thousandths (12.5 is
/// 125000): summed and compared in SQL the same way on PostgreSQL and SQLite, with no float on
/// the way. The range is ±922,337,203,685.4775807 × 1,000; a value out of it, or with more than
/// four places, is refused rather than rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, DeriveValueType)]
pub struct Fixed(pub i64);

/// Why a decimal does not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedError {
    TooPrecise,
    Overflow,
}

impl std::fmt::Display for FixedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FixedError::TooPrecise => write!(f, "has more than {SCALE} decimal places"),
            FixedError::Overflow => write!(f, "is too large"),
        }
    }
}

impl Fixed {
    pub const ZERO: Fixed = Fixed(0);

    pub fn from_decimal(value: Decimal) -> Result<Fixed, FixedError> {
        let normal = value.normalize();
        if normal.scale() > SCALE {
            return Err(FixedError::TooPrecise);
        }
        let units = normal.checked_mul(Decimal::from(10_i64.pow(SCALE))).ok_or(FixedError::Overflow)?;
        i64::try_from(units).map(Fixed).map_err(|_| FixedError::Overflow)
    }

    /// The exact value, without trailing zeros (12.5, not 12.5000).
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, SCALE).normalize()
    }

    pub fn checked_add(self, other: Fixed) -> Option<Fixed> {
        self.0.checked_add(other.0).map(Fixed)
    }
}

/// In audit snapshots and payloads: the decimal, as a string.
impl serde::Serialize for Fixed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.to_decimal())
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn round_trips_exactly_and_refuses_what_would_be_rounded() {
        for text in ["0", "12.5", "-4.13", "0.0125", "922337203685477.5807", "-922337203685477.5808"] {
            assert_eq!(Fixed::from_decimal(d(text)).unwrap().to_decimal(), d(text), "{text}");
        }
        assert_eq!(Fixed::from_decimal(d("89.00")), Ok(Fixed(890_000)));
        assert_eq!(Fixed::from_decimal(d("0.00001")), Err(FixedError::TooPrecise));
        assert_eq!(Fixed::from_decimal(d("922337203685477.5808")), Err(FixedError::Overflow));
        assert_eq!(Fixed(i64::MAX).checked_add(Fixed(1)), None);
    }
}

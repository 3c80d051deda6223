//! ISO 4217 currencies: which codes are money one can bill in, and their minor units.

use iso_currency::Currency;

/// An ISO 4217 code in use today: not a fund, test or precious-metal code, nor one superseded by
/// another (HRK by EUR). Returns the code in upper case.
pub fn parse(code: &str) -> Result<&'static str, String> {
    let upper = code.trim().to_ascii_uppercase();
    let currency =
        Currency::from_code(&upper).ok_or_else(|| format!("{code:?} is not an ISO 4217 currency code such as EUR"))?;
    if currency.is_special() || currency.is_fund() || currency.exponent().is_none() {
        return Err(format!("{upper} is not a currency one can bill in"));
    }
    if let Some(successor) = currency.is_superseded() {
        return Err(format!("{upper} has been replaced by {}", successor.code()));
    }
    Ok(currency.code())
}

/// Digits after the decimal point of the currency's minor unit (2 when unknown).
pub fn minor_digits(code: &str) -> u32 {
    Currency::from_code(code).and_then(Currency::exponent).map_or(2, u32::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_billable_iso_codes() {
        assert_eq!(parse("eur"), Ok("EUR"));
        assert_eq!(parse(" CHF "), Ok("CHF"));
        assert!(parse("ZZZ").is_err(), "shaped like a code, but not one");
        assert!(parse("XTS").is_err(), "reserved for testing");
        assert!(parse("XAU").is_err(), "gold is not billed");
        assert!(parse("HRK").unwrap_err().contains("EUR"));
        assert!(parse("EURO").is_err());
    }

    #[test]
    fn minor_units_come_from_iso_4217() {
        assert_eq!(minor_digits("EUR"), 2);
        assert_eq!(minor_digits("JPY"), 0);
        assert_eq!(minor_digits("KWD"), 3);
        assert_eq!(minor_digits("CLP"), 0);
    }
}

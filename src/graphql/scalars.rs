//! Scalars of our own, where the library's would lose exactness or say nothing of their format.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// An exact decimal number (`rust_decimal` in Rust).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decimal(pub rust_decimal::Decimal);

/// An exact decimal number, sent and returned as a string such as "1234.50": never a binary
/// float, so amounts sum exactly. A JSON number is accepted in input and read by its digits.
#[Scalar(name = "Decimal", specified_by_url = "https://www.w3.org/TR/xmlschema11-2/#decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        let text = match &value {
            Value::String(s) => s.trim().to_string(),
            // serde_json prints the shortest text that reads back as the same number, so 0.1
            // stays 0.1 rather than the float nearest to it.
            Value::Number(n) => n.to_string(),
            _ => return Err(InputValueError::expected_type(value)),
        };
        let exact = text.contains(['e', 'E']);
        let parsed = if exact {
            rust_decimal::Decimal::from_scientific(&text)
        } else {
            rust_decimal::Decimal::from_str_exact(&text)
        };
        parsed
            .map(Decimal)
            .map_err(|_| InputValueError::custom(format!("{text:?} is not a decimal number such as \"12.50\"")))
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_) | Value::Number(_))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(value: rust_decimal::Decimal) -> Self {
        Decimal(value)
    }
}

impl From<Decimal> for rust_decimal::Decimal {
    fn from(value: Decimal) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_by_their_digits() {
        let read = |v: Value| Decimal::parse(v).map(|d| d.0.to_string());
        assert_eq!(read(Value::from("12.50")).unwrap(), "12.50");
        assert_eq!(read(serde_json::from_str::<Value>("0.1").unwrap()).unwrap(), "0.1");
        assert_eq!(read(serde_json::from_str::<Value>("3000000000").unwrap()).unwrap(), "3000000000");
        assert_eq!(read(Value::from("1e3")).unwrap(), "1000");
        assert!(read(Value::from("twelve")).is_err());
        assert!(read(Value::Boolean(true)).is_err());
    }
}

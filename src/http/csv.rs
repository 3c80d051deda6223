//! The one CSV writer of the project: RFC 4180 (CRLF, quoting), with every text cell that a
//! spreadsheet would run as a formula neutralised (OWASP "CSV injection"), and numbers written
//! as plain decimals so that they stay numbers.

use std::borrow::Cow;

use rust_decimal::Decimal;

use crate::error::{AppError, AppResult};

/// One cell: text from anywhere (names, descriptions, codes) or a number we computed.
pub enum Cell<'a> {
    Text(&'a str),
    Decimal(Decimal),
    Int(i64),
    Bool(bool),
}

/// Characters that make a spreadsheet treat a cell as a formula (or split it) when first.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as written: a leading formula character is kept, behind an apostrophe, so that
/// the cell reads as text.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) { Cow::Owned(format!("'{text}")) } else { Cow::Borrowed(text) }
}

pub struct CsvWriter {
    out: csv::Writer<Vec<u8>>,
}

#[track_caller]
fn failed(err: csv::Error) -> AppError {
    AppError::internal_from("writing CSV", err)
}

impl CsvWriter {
    pub fn new(header: &[&str]) -> AppResult<Self> {
        let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        out.write_record(header).map_err(failed)?;
        Ok(CsvWriter { out })
    }

    pub fn row(&mut self, cells: &[Cell<'_>]) -> AppResult<()> {
        let texts: Vec<Cow<'_, str>> = cells
            .iter()
            .map(|cell| match cell {
                Cell::Text(text) => neutralise(text),
                Cell::Decimal(d) => Cow::Owned(d.to_string()),
                Cell::Int(n) => Cow::Owned(n.to_string()),
                Cell::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            })
            .collect();
        self.out.write_record(texts.iter().map(|t| t.as_bytes())).map_err(failed)
    }

    pub fn finish(self) -> AppResult<Vec<u8>> {
        self.out.into_inner().map_err(|e| AppError::internal_from("writing CSV", e.into_error()))
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn every_formula_start_is_neutralised() {
        for text in ["=HYPERLINK(\"http://x.example\",\"y\")", "+1+cmd", "-2+3", "@SUM(1)", "\tx", "\rx"] {
            let cell = neutralise(text);
            assert!(cell.starts_with('\''), "{text:?} became {cell:?}");
            assert_eq!(&cell[1..], text, "the text itself is kept");
        }
        assert_eq!(neutralise("Edelweiss Hotels"), "Edelweiss Hotels");
        assert_eq!(neutralise("a=b"), "a=b", "only the first character matters");
    }

    #[test]
    fn numbers_stay_numbers_and_text_is_quoted_per_rfc_4180() {
        let mut w = CsvWriter::new(&["name", "amount", "n", "flag"]).unwrap();
        w.row(&[
            Cell::Text("-2+3"),
            Cell::Decimal(Decimal::from_str("-12.50").unwrap()),
            Cell::Int(3),
            Cell::Bool(true),
        ])
        .unwrap();
        w.row(&[
            Cell::Text("a, \"b\""),
            Cell::Decimal(Decimal::from_str("4.13").unwrap()),
            Cell::Int(-1),
            Cell::Bool(false),
        ])
        .unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(text, "name,amount,n,flag\r\n'-2+3,-12.50,3,true\r\n\"a, \"\"b\"\"\",4.13,-1,false\r\n");
    }
}

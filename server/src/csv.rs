//! Every CSV Bidline writes goes through here, so that none can carry a formula into the
//! spreadsheet that opens it (CSV injection: a cell `=HYPERLINK(…)` or `@SUM(…)` runs
//! when the file is opened). Text in Bidline's CSVs comes from people outside the
//! network — campaign names, callers, buyers — so every cell is treated the same.
//!
//! The rule is OWASP's: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return gets a `'` in front, which spreadsheets read as "this is text" and do not
//! show. That includes E.164 numbers (`+15551234567` is written `'+15551234567`): a
//! spreadsheet shows them as written, where it would otherwise read them as a formula
//! and show `15551234567`; programs reading the file see the `'`. Then a cell holding a
//! comma, a quote or a line break is quoted (RFC 4180).

use std::borrow::Cow;

/// What makes a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text` as one safe CSV cell.
pub fn cell(text: &str) -> Cow<'_, str> {
    let text: Cow<'_, str> = if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    };
    if text.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        text
    }
}

/// One line of CSV: the cells, each made safe, separated by commas, ending in `\n`.
pub fn row<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut line = String::new();
    for (i, text) in cells.into_iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&cell(text.as_ref()));
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_start_with_a_quote() {
        for (text, safe) in [
            ("=HYPERLINK(\"http://x.example\")", "\"'=HYPERLINK(\"\"http://x.example\"\")\""),
            ("+15551234567", "'+15551234567"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\r=1", "\"'\r=1\""),
            ("Solar, West", "\"Solar, West\""),
            ("Plain", "Plain"),
            ("", ""),
        ] {
            assert_eq!(cell(text), safe, "{text:?}");
        }
        assert_eq!(row(["a", "=1", "b,c"]), "a,'=1,\"b,c\"\n");
    }
}

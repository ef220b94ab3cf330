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

/// What makes a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn is_formula(text: &str) -> bool {
    text.starts_with(FORMULA_STARTS)
}

fn must_quote(text: &str) -> bool {
    text.contains([',', '"', '\n', '\r'])
}

/// Appends `text` to `line` as one safe CSV cell.
pub fn push_cell(line: &mut String, text: &str) {
    let quoted = must_quote(text);
    if quoted {
        line.push('"');
    }
    if is_formula(text) {
        line.push('\'');
    }
    if quoted {
        for (i, part) in text.split('"').enumerate() {
            if i > 0 {
                line.push_str("\"\"");
            }
            line.push_str(part);
        }
        line.push('"');
    } else {
        line.push_str(text);
    }
}

/// One line of CSV: the cells, each made safe, separated by commas, ending in `\n`.
pub fn row<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut line = String::new();
    push_row(&mut line, cells);
    line
}

/// Appends one line of CSV to `out`.
pub fn push_row<S: AsRef<str>>(out: &mut String, cells: impl IntoIterator<Item = S>) {
    for (i, text) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, text.as_ref());
    }
    out.push('\n');
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
            assert_eq!(row([text]), format!("{safe}\n"), "{text:?}");
        }
        assert_eq!(row(["a", "=1", "b,c"]), "a,'=1,\"b,c\"\n");
    }
}

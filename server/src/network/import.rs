//! Importing numbers from pasted text or CSV: one number per line (the first column of
//! a CSV line), normalised to E.164, each line judged on its own. Nothing is stored
//! while any line is wrong, unless the caller asks to import the valid lines.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    NetworkError,
    numbers::{self, Number},
    resource::{self, Resource},
};
use crate::{
    accounts::{OrgId, audit::By},
    db::{Db, with_pool},
    e164::E164,
};

/// More lines than this are refused whole: split the list.
const MAX_LINES: usize = 10_000;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NumberImport")]
pub struct ImportInput {
    /// The pasted text: one number per line, or CSV with the number first.
    pub numbers: String,
    pub campaign_id: Uuid,
    pub publisher_id: Option<Uuid>,
    pub provider: Option<String>,
    /// Store the valid lines even when others are wrong.
    #[serde(default)]
    pub import_valid_lines: bool,
    /// Check only: answer what would be imported and every error, store nothing.
    #[serde(default)]
    pub preview: bool,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ImportLineError")]
pub struct LineError {
    /// 1-based, as an editor counts.
    pub line: usize,
    pub text: String,
    pub error: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ImportReport")]
pub struct Report {
    pub imported: Vec<Number>,
    pub errors: Vec<LineError>,
}

/// The number on a line: its first comma-, semicolon- or tab-separated field. Lines
/// without a digit (blank lines, a CSV header) carry none.
fn field(line: &str) -> Option<&str> {
    let first = line.split([',', ';', '\t']).next().unwrap_or_default().trim().trim_matches('"');
    first.chars().any(|c| c.is_ascii_digit()).then_some(first)
}

pub async fn import(
    db: &Db,
    org: OrgId,
    input: ImportInput,
    by: By,
) -> Result<Report, NetworkError> {
    let lines: Vec<&str> = input.numbers.lines().collect();
    if lines.len() > MAX_LINES {
        let mut invalid = super::Invalid::default();
        invalid.add("numbers", format!("has more than {MAX_LINES} lines; import them in parts"));
        return Err(invalid.into());
    }
    let held = holders(db, lines.iter().filter_map(|line| E164::parse(field(line)?).ok())).await?;

    let mut errors = Vec::new();
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    let mut valid = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(text) = field(line) else { continue };
        let line_number = index + 1;
        let mut fail = |error: String| {
            errors.push(LineError { line: line_number, text: text.to_owned(), error })
        };
        let number = match E164::parse(text) {
            Ok(number) => number,
            Err(why) => {
                fail(why.to_owned());
                continue;
            }
        };
        if let Some(&holder) = held.get(number.as_str()) {
            let why = if holder == org { numbers::IN_THIS_ORGANIZATION } else { numbers::IN_USE };
            fail(why.to_owned());
        } else if let Some(earlier) = first_seen.get(number.as_str()) {
            fail(format!("repeats line {earlier}"));
        } else {
            first_seen.insert(number.as_str().to_owned(), line_number);
            let input = numbers::Input {
                number: Some(number.as_str().to_owned()),
                campaign_id: Some(input.campaign_id),
                publisher_id: Some(input.publisher_id),
                provider: input.provider.clone(),
                ..Default::default()
            };
            valid.push(Number::apply(None, input)?);
        }
    }
    // Campaign and publisher are the same for every line: checking one checks all.
    if let Some(first) = valid.first() {
        Number::check_references(db, org, first).await?;
    }
    if input.preview {
        return Ok(Report { imported: valid, errors });
    }
    if !errors.is_empty() && !input.import_valid_lines {
        return Ok(Report { imported: Vec::new(), errors });
    }
    resource::create_all(db, org, &valid, by).await?;
    Ok(Report { imported: valid, errors })
}

/// Which organization holds each of `numbers` that is held, in statements of a few
/// hundred numbers (well under either backend's limit of bound values).
async fn holders(
    db: &Db,
    numbers: impl Iterator<Item = E164>,
) -> Result<HashMap<String, OrgId>, sqlx::Error> {
    let numbers: Vec<E164> = numbers.collect();
    let mut held = HashMap::new();
    for chunk in numbers.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT number, organization_id FROM numbers WHERE number IN ({})",
            marks.join(", ")
        );
        let rows: Vec<(String, OrgId)> = with_pool!(db, pool => {
            let mut query = sqlx::query_as(&sql);
            for number in chunk {
                query = query.bind(number.as_str());
            }
            query.fetch_all(pool).await
        })?;
        held.extend(rows);
    }
    Ok(held)
}

/// Whether a line was refused because another organization holds its number: an import
/// refused for that is a conflict (409), not bad input.
pub fn held_elsewhere(report: &Report) -> bool {
    report.errors.iter().any(|error| error.error == numbers::IN_USE)
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn the_number_is_the_first_field_of_a_line_with_digits() {
        assert_eq!(field("+1 555 010 0100"), Some("+1 555 010 0100"));
        assert_eq!(field("\"(555) 010-0101\",Twilio,active"), Some("(555) 010-0101"));
        assert_eq!(field("5550100102;Bandwidth"), Some("5550100102"));
        assert_eq!(field("number,provider"), None);
        assert_eq!(field("   "), None);
    }
}

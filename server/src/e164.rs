//! Phone numbers in E.164 (`+15551234567`), normalised with libphonenumber's rules.
//!
//! Input may be written any common way (`+1 (555) 123-4567`, `555.123.4567`); numbers
//! without a country code are read as North American. The number must parse and have
//! 8 to 15 digits; it need not be assigned (test and fictional ranges are accepted,
//! since networks use them in staging), which is what libphonenumber's stricter
//! "valid" would refuse.

use phonenumber::{Mode, country};

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct E164(String);

impl E164 {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let number = phonenumber::parse(Some(country::Id::US), text.trim())
            .map_err(|_| "is not a phone number")?;
        let e164 = number.format().mode(Mode::E164).to_string();
        let digits = e164.len().saturating_sub(1);
        if (8..=15).contains(&digits) && e164.starts_with('+') {
            Ok(Self(e164))
        } else {
            Err("is not a phone number")
        }
    }

    /// A number this program normalised and stored; read back without parsing again.
    pub fn from_stored(e164: String) -> Self {
        Self(e164)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl schemars::JsonSchema for E164 {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "E164".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^\\+[1-9][0-9]{7,14}$",
            "description": "A phone number in E.164, such as +15551234567. Input may be written any common way.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::E164;

    #[test]
    fn numbers_are_normalised_to_e164() {
        for written in ["+1 (555) 123-4567", "555.123.4567", "+15551234567", " 1-555-123-4567 "] {
            assert_eq!(E164::parse(written).unwrap().as_str(), "+15551234567", "{written}");
        }
        assert_eq!(E164::parse("+44 20 7946 0958").unwrap().as_str(), "+442079460958");
    }

    #[test]
    fn what_is_not_a_number_is_refused() {
        for bad in ["", "hello", "+1", "12", "+999 1234 5678"] {
            assert!(E164::parse(bad).is_err(), "{bad:?} passed");
        }
    }
}

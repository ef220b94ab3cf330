//! Templates with `{{tokens}}` (ping bodies and headers today; webhooks and pixels
//! later) and the attributes a call is described by. One catalogue serves both, so a
//! condition can test exactly what a template can print.

/// The call attributes by name; `tag.NAME` stands for any tag.
pub const ATTRIBUTES: &[&str] = &[
    "call.id",
    "caller.number",
    "caller.area_code",
    "caller.state",
    "dialed",
    "campaign.id",
    "publisher.id",
    "tag.NAME",
];

/// Whether `name` is a call attribute: one of [`ATTRIBUTES`] or `tag.` and a tag name
/// (letters, digits, `_`, `-`, `.`).
pub fn is_attribute(name: &str) -> bool {
    match name.strip_prefix("tag.") {
        Some(tag) => {
            !tag.is_empty()
                && tag.len() <= 64
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        }
        None => ATTRIBUTES.contains(&name) && name != "tag.NAME",
    }
}

/// Checks that every `{{…}}` in `text` is closed and names an attribute; answers the
/// names in order of appearance.
pub fn check(text: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("has a {{ without its }}")?;
        let name = after[..end].trim();
        if !is_attribute(name) {
            return Err(format!(
                "uses {{{{{name}}}}}, which is not a token; tokens are {}",
                ATTRIBUTES.iter().map(|a| format!("{{{{{a}}}}}")).collect::<Vec<_>>().join(", ")
            ));
        }
        names.push(name);
        rest = &after[end + 2..];
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_only_known_tokens() {
        assert_eq!(
            check(r#"{"caller":"{{caller.number}}","src":"{{ tag.utm_source }}"}"#).unwrap(),
            ["caller.number", "tag.utm_source"]
        );
        assert!(check("{{caller.nmuber}}").unwrap_err().contains("{{caller.nmuber}}"));
        assert!(check("{{tag.}}").is_err());
        assert_eq!(check("{{dialed").unwrap_err(), "has a {{ without its }}");
        assert!(check("no tokens at all").unwrap().is_empty());
    }
}

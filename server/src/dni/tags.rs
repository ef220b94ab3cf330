//! What a visit tells about where the visitor came from, as the tags a call inherits:
//! the ad platforms' parameters (and those the campaign lists), the referrer and the
//! landing page. Anything else on the page's URL is not kept.

use std::collections::BTreeMap;

use super::book::Lease;

/// Parameters kept from every landing URL.
pub const STANDARD_PARAMS: &[&str] = &[
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "gbraid",
    "wbraid",
    "fbclid",
    "msclkid",
];
const MAX_URL: usize = 2_048;
const MAX_PARAMS: usize = 100;
const MAX_NAME: usize = 64;
const MAX_VALUE: usize = 512;

/// The tags of a visit, or why its request is refused.
pub fn capture(
    listed: &[String],
    params: &BTreeMap<String, String>,
    landing: Option<&str>,
    referrer: Option<&str>,
    page: Option<&str>,
) -> Result<BTreeMap<String, String>, String> {
    if params.len() > MAX_PARAMS {
        return Err(format!("params has more than {MAX_PARAMS} entries"));
    }
    let mut tags = BTreeMap::new();
    for (name, value) in params {
        if name.len() > MAX_NAME || value.len() > MAX_VALUE {
            return Err(format!(
                "params: names are at most {MAX_NAME} bytes and values {MAX_VALUE}"
            ));
        }
        let kept = STANDARD_PARAMS.contains(&name.as_str()) || listed.iter().any(|l| l == name);
        if kept && !value.is_empty() {
            tags.insert(name.clone(), value.clone());
        }
    }
    for (name, url) in [("landing_page", landing), ("referrer", referrer), ("page", page)] {
        match url {
            Some(url) if url.len() > MAX_URL => {
                return Err(format!("{name} is longer than {MAX_URL} bytes"));
            }
            Some(url) if !url.is_empty() => {
                tags.insert(name.to_owned(), url.to_owned());
            }
            _ => {}
        }
    }
    Ok(tags)
}

/// The tags a call to the lease's number gets.
pub fn of_call(lease: &Lease) -> BTreeMap<String, String> {
    let mut tags = lease.tags.clone();
    tags.insert("visitor_id".to_owned(), lease.visitor_id.to_string());
    tags.insert("visit".to_owned(), if lease.returning { "returning" } else { "first" }.to_owned());
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn ad_parameters_and_the_campaigns_own_are_kept_and_nothing_else() {
        let tags = capture(
            &["affiliate".to_owned()],
            &params(&[
                ("utm_source", "google"),
                ("gclid", "abc"),
                ("affiliate", "a7"),
                ("session", "secret"),
            ]),
            Some("https://shop.example/?utm_source=google"),
            Some("https://www.google.com/"),
            None,
        )
        .unwrap();
        assert_eq!(
            tags,
            params(&[
                ("utm_source", "google"),
                ("gclid", "abc"),
                ("affiliate", "a7"),
                ("landing_page", "https://shop.example/?utm_source=google"),
                ("referrer", "https://www.google.com/"),
            ])
        );
    }

    #[test]
    fn oversized_input_is_refused_with_a_reason() {
        let long = "x".repeat(MAX_URL + 1);
        assert!(
            capture(&[], &BTreeMap::new(), Some(&long), None, None)
                .unwrap_err()
                .contains("landing_page")
        );
        let value = "v".repeat(MAX_VALUE + 1);
        assert!(capture(&[], &params(&[("utm_source", &value)]), None, None, None).is_err());
    }
}

//! Templates with `{{tokens}}` (ping bodies and headers, webhook and pixel requests) and
//! the attributes a call is described by. One catalogue serves both, so a condition can
//! test exactly what a template can print; webhooks add what a call's outcome tells
//! ([`crate::webhooks::tokens`]).

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
    check_with(text, &[])
}

/// [`check`], with `more` tokens allowed besides the call's attributes.
pub fn check_with<'t>(text: &'t str, more: &[&str]) -> Result<Vec<&'t str>, String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("has a {{ without its }}")?;
        let name = after[..end].trim();
        if !is_attribute(name) && !more.contains(&name) {
            return Err(format!(
                "uses {{{{{name}}}}}, which is not a token; tokens are {}",
                ATTRIBUTES
                    .iter()
                    .chain(more)
                    .map(|a| format!("{{{{{a}}}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        names.push(name);
        rest = &after[end + 2..];
    }
    Ok(names)
}

/// Checks a URL template (a ping URL, a webhook's or pixel's): its tokens are known
/// (`more` besides the call's attributes), it is an http(s) URL with a host, and no
/// token is in its scheme, host or port. Values are URL-encoded where they land, but a
/// value — a caller's tag, say — must never choose where the request goes.
pub fn check_url(url: &str, more: &[&str]) -> Result<(), String> {
    check_with(url, more)?;
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    let authority_end =
        url[after_scheme..].find(['/', '?', '#']).map_or(url.len(), |at| after_scheme + at);
    if url[..authority_end].contains("{{") {
        return Err("may not have a token in its scheme, host or port".to_owned());
    }
    // A sample value shows the URL's shape.
    let sample = render(url, |_| "0".to_owned(), Escape::Url);
    match url::Url::parse(&sample) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(())
        }
        Ok(_) => Err("must be an http:// or https:// URL with a host".to_owned()),
        Err(error) => Err(format!("is not a URL: {error}")),
    }
}

/// Where a template's values land, and so how they are escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    /// Inside a JSON string (bodies, header values): quotes and controls escaped.
    Json,
    /// In a URL: everything but unreserved characters percent-encoded.
    Url,
    /// As it is (header values of a request that is not JSON).
    None,
}

/// `template` with each `{{token}}` replaced by `value(token)`, escaped for where it
/// lands. An unclosed `{{` stays as text (checked templates have none).
pub fn render(template: &str, value: impl Fn(&str) -> String, escape: Escape) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            rest = &rest[start..];
            break;
        };
        let value = value(after[..end].trim());
        match escape {
            Escape::Json => {
                let quoted = serde_json::to_string(&value).expect("a string serialises");
                out.push_str(&quoted[1..quoted.len() - 1]);
            }
            Escape::Url => out.extend(url::form_urlencoded::byte_serialize(value.as_bytes())),
            Escape::None => out.push_str(&value),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_may_not_choose_where_a_url_goes() {
        assert!(check_url("https://buyer.example/p/{{caller.number}}?c={{dialed}}", &[]).is_ok());
        for bad in [
            "https://{{tag.host}}/ping",
            "https://buyer.example:{{tag.port}}/ping",
            "{{tag.scheme}}://buyer.example/ping",
            "https://{{tag.sub}}.buyer.example/",
        ] {
            assert!(check_url(bad, &[]).unwrap_err().contains("scheme, host or port"), "{bad}");
        }
        assert!(check_url("ftp://buyer.example", &[]).is_err());
        assert!(check_url("https://buyer.example/{{caller.nmuber}}", &[]).is_err());
    }

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

    #[test]
    fn values_are_escaped_for_where_they_land() {
        let value = |name: &str| match name {
            "tag.note" => "say \"hi\" & go/away?".to_owned(),
            _ => "+12125550123".to_owned(),
        };
        let url =
            render("https://t.example/p?c={{caller.number}}&n={{tag.note}}", value, Escape::Url);
        assert_eq!(url, "https://t.example/p?c=%2B12125550123&n=say+%22hi%22+%26+go%2Faway%3F");
        let json = render(r#"{"n":"{{ tag.note }}"}"#, value, Escape::Json);
        assert_eq!(json, r#"{"n":"say \"hi\" & go/away?"}"#);
        assert_eq!(render("a {{dialed", value, Escape::None), "a {{dialed");
    }
}

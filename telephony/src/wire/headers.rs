//! A message's header fields: names as written (compact forms already spelled out by
//! [`normalize`](super::normalize)), values as written, order kept. Lookups compare names
//! case-insensitively (RFC 3261 §7.3.1). Multi-valued fields written on one line
//! (`Via: a, b`) are split where the protocol needs it ([`Headers::all`]).

use std::fmt;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Headers {
        Headers(Vec::with_capacity(12))
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first field named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, comma-separated values split into their own entries.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| split_list(v))
    }

    /// Every field named `name`, as whole lines.
    pub fn lines<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Replaces every field named `name` with one.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(at) => {
                self.0[at].1 = value;
                let mut index = 0;
                self.0.retain(|(n, _)| {
                    index += 1;
                    index - 1 == at || !n.eq_ignore_ascii_case(name)
                });
            }
            None => self.push(name, value),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The first field named `name`, mutable.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut String> {
        self.0.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Inserts a field before all others (a new top Via).
    pub fn prepend(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(0, (name.into(), value.into()));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Removes the first value of `name` (the top Via), splitting a comma list if needed.
    pub fn pop_first(&mut self, name: &str) -> Option<String> {
        let at = self.0.iter().position(|(n, _)| n.eq_ignore_ascii_case(name))?;
        let values: Vec<String> = split_list(&self.0[at].1).map(str::to_owned).collect();
        let mut values = values.into_iter();
        let first = values.next();
        let rest: Vec<String> = values.collect();
        if rest.is_empty() {
            self.0.remove(at);
        } else {
            self.0[at].1 = rest.join(", ");
        }
        first
    }
}

impl fmt::Display for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.0 {
            write!(f, "{name}: {value}\r\n")?;
        }
        Ok(())
    }
}

/// The elements of a comma-separated header value; commas inside quotes or angle
/// brackets do not separate. Empty elements (`a,,b`) are skipped.
pub fn split_list(value: &str) -> ListItems<'_> {
    ListItems { rest: Some(value), keep_empty: false }
}

/// The elements of a comma-separated header value, empty ones included, for holding the
/// value to the grammar, whose lists have none (RFC 3261 §7.3).
pub fn split_list_exactly(value: &str) -> ListItems<'_> {
    ListItems { rest: Some(value), keep_empty: true }
}

/// The iterator of [`split_list`]: it finds each separator as it goes, without a copy.
pub struct ListItems<'a> {
    /// What is left to split; `None` once the last element was taken.
    rest: Option<&'a str>,
    keep_empty: bool,
}

impl<'a> Iterator for ListItems<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let rest = self.rest?;
            let (mut quoted, mut angle, mut escaped) = (false, false, false);
            let mut separator = None;
            // Only ASCII bytes are looked at: they never occur inside a UTF-8 sequence.
            for (i, byte) in rest.bytes().enumerate() {
                match byte {
                    _ if escaped => escaped = false,
                    b'\\' if quoted => escaped = true,
                    b'"' => quoted = !quoted,
                    b'<' if !quoted => angle = true,
                    b'>' if !quoted => angle = false,
                    b',' if !quoted && !angle => {
                        separator = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let item = match separator {
                Some(at) => {
                    self.rest = Some(&rest[at + 1..]);
                    &rest[..at]
                }
                None => {
                    self.rest = None;
                    rest
                }
            };
            let item = item.trim();
            if self.keep_empty || !item.is_empty() {
                return Some(item);
            }
        }
    }
}

/// RFC 3261 `token` characters (§25.1).
pub(crate) fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_values_split_outside_quotes_and_brackets() {
        let parts: Vec<&str> =
            split_list("\"Doe, J\" <sip:a@b;x=1,2>, <sip:c@d>,sip:e@f").collect();
        assert_eq!(parts, ["\"Doe, J\" <sip:a@b;x=1,2>", "<sip:c@d>", "sip:e@f"]);
        let exactly: Vec<&str> = split_list_exactly("a;;, ,b,").collect();
        assert_eq!(exactly, ["a;;", "", "b", ""]);
    }

    #[test]
    fn pop_first_takes_the_top_value_of_a_list() {
        let mut headers = Headers::new();
        headers.push("Via", "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2");
        headers.push("via", "SIP/2.0/UDP c;branch=z9hG4bK3");
        assert_eq!(headers.pop_first("Via").as_deref(), Some("SIP/2.0/UDP a;branch=z9hG4bK1"));
        assert_eq!(headers.all("VIA").count(), 2);
        headers.set("Via", "x");
        assert_eq!(headers.lines("via").collect::<Vec<_>>(), ["x"]);
    }
}

//! A target's `dynamic_destinations`: the places a buyer's bid may send the call instead
//! of the target's own destination. A bid can name anything; only what this list allows
//! is dialed, so a buyer cannot turn the network's outbound trunk into free calls to
//! anywhere (toll fraud), nor point its SIP legs at hosts the network did not choose.
//! What the list allows is still held to the private-address policy when dialed.

use std::{fmt, net::IpAddr, str::FromStr};

use ipnet::IpNet;

use crate::network::{destination::Destination, is_dns_name, trunks::widest};

pub const MAX_ENTRIES: usize = 100;

/// One entry of the list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Allowed {
    /// SIP URIs to this host name; `*.example.com` is any name under it (not itself).
    Host(String),
    /// SIP URIs whose host is an address in this network.
    Network(IpNet),
    /// Phone numbers starting with these digits (`+1555`), dialed through the target's
    /// outbound trunk.
    Prefix(String),
}

impl Allowed {
    pub fn is_prefix(&self) -> bool {
        matches!(self, Self::Prefix(_))
    }
}

/// Whether a bid may send the call to `destination` (as the buyer wrote it).
pub fn allows(list: &[Allowed], destination: &str) -> bool {
    let Ok(destination) = Destination::parse(destination) else { return false };
    let Some(host) = destination.host() else {
        let number = destination.as_str();
        return list.iter().any(|allowed| {
            matches!(allowed, Allowed::Prefix(prefix) if number.starts_with(prefix.as_str()))
        });
    };
    let host = host.to_ascii_lowercase();
    let ip = crate::outbound::literal_ip(&host);
    list.iter().any(|allowed| match allowed {
        Allowed::Host(name) => match name.strip_prefix("*.") {
            Some(domain) => host.strip_suffix(domain).is_some_and(|under| under.ends_with('.')),
            None => host == *name,
        },
        Allowed::Network(network) => ip.is_some_and(|ip| network.contains(&ip)),
        Allowed::Prefix(_) => false,
    })
}

impl FromStr for Allowed {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(digits) = text.strip_prefix('+') {
            let digits: String = digits.chars().filter(|c| !" -().".contains(*c)).collect();
            return if (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
            {
                Ok(Self::Prefix(format!("+{digits}")))
            } else {
                Err(format!("{text:?} is not a number prefix like +1555"))
            };
        }
        let bare = text.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(text);
        if let Ok(network) =
            bare.parse::<IpNet>().or_else(|_| bare.parse::<IpAddr>().map(IpNet::from))
        {
            let network = network.trunc();
            if network.prefix_len() < widest(network) {
                return Err(format!(
                    "{network} is wider than /{}: list the buyer's own networks",
                    widest(network)
                ));
            }
            crate::outbound::check_host(&network.network().to_string(), None)?;
            return Ok(Self::Network(network));
        }
        let name = text.trim_end_matches('.').to_ascii_lowercase();
        let domain = name.strip_prefix("*.").unwrap_or(&name);
        if domain.contains('.') && is_dns_name(domain) {
            Ok(Self::Host(name))
        } else {
            Err(format!(
                "{text:?} is not a host name (pbx.example.com, *.example.com), a network \
                 (203.0.113.0/24) or a number prefix (+1555)"
            ))
        }
    }
}

impl TryFrom<String> for Allowed {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<Allowed> for String {
    fn from(allowed: Allowed) -> Self {
        allowed.to_string()
    }
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Host(name) => f.write_str(name),
            Self::Network(network) => write!(f, "{network}"),
            Self::Prefix(prefix) => f.write_str(prefix),
        }
    }
}

impl schemars::JsonSchema for Allowed {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DynamicDestination".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Where a bid's destination may send the call: a SIP host name (pbx.example.com, or *.example.com for the names under it), a network its SIP URI's address is in (203.0.113.0/24), or a phone number prefix (+1555), dialed through the target's outbound trunk.",
        })
    }
}

/// The list as written, or why not (each bad entry reported).
pub fn parse(texts: &[String]) -> Result<Vec<Allowed>, String> {
    if texts.len() > MAX_ENTRIES {
        return Err(format!("at most {MAX_ENTRIES} entries"));
    }
    let mut list = Vec::new();
    let mut errors = Vec::new();
    for text in texts {
        match text.parse::<Allowed>() {
            Ok(allowed) if !list.contains(&allowed) => list.push(allowed),
            Ok(_) => {}
            Err(why) => errors.push(why),
        }
    }
    if errors.is_empty() { Ok(list) } else { Err(errors.join("; ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Vec<Allowed> {
        parse(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn an_empty_list_allows_nothing() {
        assert!(!allows(&[], "sip:agent@pbx.buyer.example"));
        assert!(!allows(&[], "+15550100200"));
    }

    #[test]
    fn host_names_match_exactly_or_under_a_wildcard() {
        let allowed = list(&["pbx.buyer.example", "*.calls.buyer.example"]);
        assert!(allows(&allowed, "sip:agent@PBX.buyer.example:5070;transport=tcp"));
        assert!(allows(&allowed, "sip:agent@east.calls.buyer.example"));
        assert!(!allows(&allowed, "sip:agent@calls.buyer.example"), "the wildcard is below");
        assert!(!allows(&allowed, "sip:agent@evilcalls.buyer.example"));
        assert!(!allows(&allowed, "sip:agent@pbx.buyer.example.evil.example"));
        assert!(!allows(&allowed, "sip:agent@203.0.113.10"));
    }

    #[test]
    fn addresses_match_networks() {
        let allowed = list(&["203.0.113.0/24", "2001:db8::/48"]);
        assert!(allows(&allowed, "sip:agent@203.0.113.77"));
        assert!(allows(&allowed, "sip:agent@[2001:db8::5]:5060"));
        assert!(!allows(&allowed, "sip:agent@198.51.100.1"));
        assert!(!allows(&allowed, "sip:agent@pbx.buyer.example"), "a name is not an address");
    }

    #[test]
    fn numbers_match_prefixes_and_nothing_else_does() {
        let allowed = list(&["+1 555", "pbx.buyer.example"]);
        assert!(allows(&allowed, "+15550100200"));
        assert!(allows(&allowed, "(555) 010-0200"), "a national number is read as E.164");
        assert!(!allows(&allowed, "+442071234567"));
        assert!(!allows(&allowed, "sip:+15550100200@evil.example"));
        assert!(!allows(&allowed, "not a destination"));
    }

    #[test]
    fn bad_wide_and_private_entries_are_refused_with_the_reason() {
        for (bad, why) in [
            ("0.0.0.0/0", "wider than /8"),
            ("10.0.0.0/8", "private"),
            ("127.0.0.1", "loopback"),
            ("+", "number prefix"),
            ("+1555x", "number prefix"),
            ("localhost", "host name"),
            ("sip:agent@pbx.example", "host name"),
            ("*.", "host name"),
        ] {
            let refused = parse(&[bad.to_owned()]).unwrap_err();
            assert!(refused.contains(why), "{bad}: {refused}");
        }
    }

    #[test]
    fn entries_read_back_as_written() {
        let allowed = list(&["PBX.Buyer.Example.", "203.0.113.9/24", "+1 (555)"]);
        let json = serde_json::to_value(&allowed).unwrap();
        assert_eq!(json, serde_json::json!(["pbx.buyer.example", "203.0.113.0/24", "+1555"]));
        assert_eq!(serde_json::from_value::<Vec<Allowed>>(json).unwrap(), allowed);
    }
}

//! Carrier trunks. An inbound trunk says which source addresses may send calls (and
//! the digest credentials they must answer, if any); an outbound trunk says where
//! buyers' phone numbers are dialed, over what, and how the number is written.
//!
//! The password is write-only: it is sealed with the server's secret key before it is
//! stored (see [`crate::secrets`]), never answered, never in the history — objects show
//! only `has_password`.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Invalid, Stamp, Status, double_option, is_dns_name, name_field, patched, resource::Resource,
    status_field,
};
use crate::{
    accounts::OrgId,
    db::{Tx, with_tx},
    secrets,
};

const DEFAULT_PORT: u16 = 5060;
const DEFAULT_DIAL_FORMAT: &str = "+{e164}";
const MAX_CIDRS: usize = 100;
const MAX_CREDENTIAL: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "TrunkDirection")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Udp,
    Tcp,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }
}

impl Transport {
    fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
        }
    }
}

/// A trunk as the API answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Trunk {
    pub id: Uuid,
    pub name: String,
    pub status: Status,
    pub direction: Direction,
    /// Inbound: the source networks admitted. Empty for outbound trunks.
    #[schemars(with = "Vec<String>")]
    pub allowed_cidrs: Vec<IpNet>,
    /// Outbound only, like `port`, `transport` and `dial_format`.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub transport: Option<Transport>,
    pub username: Option<String>,
    pub has_password: bool,
    /// How a number is written in the request URI: `{e164}` (digits with the country
    /// code), `{national}` or `{country_code}`, between literal digits, `+`, `*`, `#`.
    pub dial_format: Option<String>,
    #[serde(skip)]
    pub password_sealed: Option<String>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// A `POST` (all of it) or `PATCH` (any part) body.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TrunkInput")]
pub struct Input {
    pub name: Option<String>,
    pub status: Option<String>,
    pub direction: Option<Direction>,
    pub allowed_cidrs: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub host: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub port: Option<Option<u16>>,
    #[serde(default, deserialize_with = "double_option")]
    pub transport: Option<Option<Transport>>,
    #[serde(default, deserialize_with = "double_option")]
    pub username: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub password: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub dial_format: Option<Option<String>>,
}

#[derive(sqlx::FromRow)]
pub struct Row {
    id: Uuid,
    name: String,
    status: String,
    direction: String,
    allowed_cidrs: sqlx::types::Json<Vec<IpNet>>,
    host: Option<String>,
    port: Option<i64>,
    transport: Option<String>,
    username: Option<String>,
    password_sealed: Option<String>,
    dial_format: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// What a trunk's sealed password is bound to: its row and field.
pub fn password_context(id: Uuid) -> Vec<u8> {
    [id.as_bytes().as_slice(), b"trunk password"].concat()
}

impl Resource for Trunk {
    const KIND: &'static str = "trunk";
    const TABLE: &'static str = "trunks";
    const USED_BY: &'static [(&'static str, &'static str, &'static str)] =
        &[("targets", "outbound_trunk_id", "targets")];
    type Row = Row;
    type Input = Input;

    fn id(&self) -> Uuid {
        self.id
    }

    fn from_row(row: Row) -> Self {
        // The columns' CHECKs admit only what is parsed here.
        Self {
            id: row.id,
            name: row.name,
            status: Status::parse(&row.status).unwrap_or(Status::Paused),
            direction: if row.direction == "inbound" {
                Direction::Inbound
            } else {
                Direction::Outbound
            },
            allowed_cidrs: row.allowed_cidrs.0,
            host: row.host,
            port: row.port.and_then(|port| u16::try_from(port).ok()),
            transport: row
                .transport
                .map(|t| if t == "tcp" { Transport::Tcp } else { Transport::Udp }),
            username: row.username,
            has_password: row.password_sealed.is_some(),
            password_sealed: row.password_sealed,
            dial_format: row.dial_format,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    fn apply(current: Option<&Self>, input: Input) -> Result<Self, Invalid> {
        let mut invalid = Invalid::default();
        let name = name_field(current.map(|t| t.name.as_str()), input.name, &mut invalid);
        let status = status_field(current.map(|t| t.status), input.status.as_deref(), &mut invalid);
        let Some(direction) = input.direction.or(current.map(|t| t.direction)) else {
            invalid.add("direction", "is required: inbound or outbound");
            return Err(invalid);
        };
        let Stamp { id, created_at, updated_at } = Stamp::of(current.map(|t| (t.id, t.created_at)));

        let allowed_cidrs = match input.allowed_cidrs {
            Some(texts) => cidrs(&texts, &mut invalid),
            None => current.map(|t| t.allowed_cidrs.clone()).unwrap_or_default(),
        };
        let host = patched(input.host, current.and_then(|t| t.host.clone()))
            .map(|host| host.trim().to_ascii_lowercase());
        let port = patched(input.port, current.and_then(|t| t.port));
        let transport = patched(input.transport, current.and_then(|t| t.transport));
        let dial_format = patched(input.dial_format, current.and_then(|t| t.dial_format.clone()))
            .map(|format| format.trim().to_owned());
        let (allowed_cidrs, host, port, transport, dial_format) = match direction {
            Direction::Inbound => {
                if allowed_cidrs.is_empty() {
                    invalid.add(
                        "allowed_cidrs",
                        "an inbound trunk needs at least one source network (e.g. 203.0.113.0/24)",
                    );
                }
                for (field, set) in [
                    ("host", host.is_some()),
                    ("port", port.is_some()),
                    ("transport", transport.is_some()),
                    ("dial_format", dial_format.is_some()),
                ] {
                    if set {
                        invalid.add(field, "is for outbound trunks only");
                    }
                }
                (allowed_cidrs, None, None, None, None)
            }
            Direction::Outbound => {
                if !allowed_cidrs.is_empty() {
                    invalid.add("allowed_cidrs", "is for inbound trunks only");
                }
                match &host {
                    None => invalid.add("host", "is required for an outbound trunk"),
                    Some(host) if !is_host(host) => {
                        invalid.add("host", "must be a host name or an IP address")
                    }
                    Some(host) => {
                        if let Err(why) = crate::outbound::check_host(host, None) {
                            invalid.add("host", why);
                        }
                    }
                }
                if port == Some(0) {
                    invalid.add("port", "must be between 1 and 65535");
                }
                let dial_format = dial_format.unwrap_or_else(|| DEFAULT_DIAL_FORMAT.to_owned());
                if let Err(message) = check_dial_format(&dial_format) {
                    invalid.add("dial_format", message);
                }
                (
                    Vec::new(),
                    host,
                    Some(port.unwrap_or(DEFAULT_PORT)),
                    Some(transport.unwrap_or(Transport::Udp)),
                    Some(dial_format),
                )
            }
        };

        let username = patched(input.username, current.and_then(|t| t.username.clone()))
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty());
        if username.as_ref().is_some_and(|name| name.chars().count() > MAX_CREDENTIAL) {
            invalid.add("username", format!("must be at most {MAX_CREDENTIAL} characters"));
        }
        let password_sealed = match input.password {
            None => current.and_then(|t| t.password_sealed.clone()),
            Some(None) => None,
            Some(Some(password)) if password.is_empty() => {
                invalid.add("password", "must not be empty (null removes it)");
                None
            }
            Some(Some(password)) if password.chars().count() > MAX_CREDENTIAL => {
                invalid.add("password", format!("must be at most {MAX_CREDENTIAL} characters"));
                None
            }
            Some(Some(password)) => match secrets::key() {
                Ok(key) => Some(key.seal(&password, &password_context(id))),
                Err(_) => {
                    invalid.add("password", "cannot be stored: the server has no secret key");
                    None
                }
            },
        };
        if password_sealed.is_some() && username.is_none() {
            invalid.add("username", "is required with a password");
        }

        invalid.into_result()?;
        Ok(Self {
            id,
            name,
            status,
            direction,
            allowed_cidrs,
            host,
            port,
            transport,
            username,
            has_password: password_sealed.is_some(),
            password_sealed,
            dial_format,
            created_at,
            updated_at,
        })
    }

    fn save<'a>(
        tx: &'a mut Tx,
        org: OrgId,
        trunk: &'a Self,
        new: bool,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            let sql = if new {
                "INSERT INTO trunks (name, status, direction, allowed_cidrs, host, port, transport, \
                 username, password_sealed, dial_format, updated_at, organization_id, id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $11)"
            } else {
                "UPDATE trunks SET name = $1, status = $2, direction = $3, allowed_cidrs = $4, host = $5, \
                 port = $6, transport = $7, username = $8, password_sealed = $9, dial_format = $10, \
                 updated_at = $11 WHERE organization_id = $12 AND id = $13"
            };
            with_tx!(tx, tx => {
                sqlx::query(sql)
                    .bind(&trunk.name)
                    .bind(trunk.status.as_str())
                    .bind(trunk.direction.as_str())
                    .bind(sqlx::types::Json(&trunk.allowed_cidrs))
                    .bind(&trunk.host)
                    .bind(trunk.port.map(i64::from))
                    .bind(trunk.transport.map(Transport::as_str))
                    .bind(&trunk.username)
                    .bind(&trunk.password_sealed)
                    .bind(&trunk.dial_format)
                    .bind(trunk.updated_at)
                    .bind(org)
                    .bind(trunk.id)
                    .execute(&mut **tx)
                    .await
                    .map(|done| done.rows_affected())
            })
        })
    }
}

fn cidrs(texts: &[String], invalid: &mut Invalid) -> Vec<IpNet> {
    if texts.len() > MAX_CIDRS {
        invalid.add("allowed_cidrs", format!("at most {MAX_CIDRS} networks"));
    }
    let mut networks = Vec::new();
    for text in texts {
        let text = text.trim();
        // A bare address is a network of one.
        let parsed = text
            .parse::<IpNet>()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
            .map(|net| net.trunc());
        match parsed {
            Ok(net) if net.prefix_len() < widest(net) => invalid.add(
                "allowed_cidrs",
                format!(
                    "{net} is wider than /{}: list the carrier's own networks (a catch-all would admit anyone)",
                    widest(net)
                ),
            ),
            Ok(net) if !networks.contains(&net) => networks.push(net),
            Ok(_) => {}
            Err(_) => invalid
                .add("allowed_cidrs", format!("{text:?} is not a network like 203.0.113.0/24")),
        }
    }
    networks
}

/// The widest source network an inbound trunk may admit: /8 of IPv4, /32 of IPv6 (a
/// regional registry's allocation). Anything wider is a catch-all in disguise; the same
/// bound holds for the networks a target's bids may send calls to.
pub(crate) fn widest(net: IpNet) -> u8 {
    match net {
        IpNet::V4(_) => 8,
        IpNet::V6(_) => 32,
    }
}

/// A DNS name or an IP address (IPv6 with or without brackets).
fn is_host(host: &str) -> bool {
    crate::outbound::literal_ip(host).is_some() || is_dns_name(host)
}

/// Exactly one number token, with literal digits, `+`, `*` or `#` around it.
fn check_dial_format(format: &str) -> Result<(), String> {
    const TOKENS: [&str; 3] = ["{e164}", "{national}", "{country_code}"];
    let mut rest = format;
    let mut numbers = 0;
    while !rest.is_empty() {
        if let Some(token) = TOKENS.iter().find(|token| rest.starts_with(**token)) {
            numbers += usize::from(*token != "{country_code}");
            rest = &rest[token.len()..];
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        if !(c.is_ascii_digit() || "+*#".contains(c)) {
            return Err(format!(
                "may hold only {{e164}}, {{national}}, {{country_code}} and digits, +, *, # (found {c:?})"
            ));
        }
        rest = &rest[c.len_utf8()..];
    }
    match numbers {
        1 => Ok(()),
        _ => Err("must hold exactly one of {e164} or {national}".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(current: Option<&Trunk>, json: serde_json::Value) -> Result<Trunk, Invalid> {
        Trunk::apply(current, serde_json::from_value(json).unwrap())
    }

    fn fields(invalid: Invalid) -> Vec<String> {
        invalid.0.into_keys().collect()
    }

    #[test]
    fn an_outbound_trunk_gets_the_usual_defaults() {
        let trunk =
            apply(None, serde_json::json!({"name": "Carrier", "direction": "outbound", "host": "SIP.Carrier.example"}))
                .unwrap();
        assert_eq!(trunk.host.as_deref(), Some("sip.carrier.example"));
        assert_eq!(
            (trunk.port, trunk.transport, trunk.dial_format.as_deref()),
            (Some(5060), Some(Transport::Udp), Some("+{e164}"))
        );
        assert!(trunk.allowed_cidrs.is_empty());
    }

    #[test]
    fn an_inbound_trunk_needs_networks_and_refuses_outbound_fields() {
        let invalid = apply(
            None,
            serde_json::json!({"name": "In", "direction": "inbound", "host": "x.example", "allowed_cidrs": []}),
        )
        .unwrap_err();
        assert_eq!(fields(invalid), ["allowed_cidrs", "host"]);
        let trunk = apply(
            None,
            serde_json::json!({"name": "In", "direction": "inbound", "allowed_cidrs": ["203.0.113.7/24", "2001:db8::1", "203.0.113.0/24"]}),
        )
        .unwrap();
        assert_eq!(
            trunk.allowed_cidrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["203.0.113.0/24", "2001:db8::1/128"],
            "networks are truncated and kept once"
        );
    }

    #[test]
    fn bad_hosts_networks_and_dial_formats_are_named() {
        secrets::install(secrets::SecretKey::generate());
        let invalid = apply(
            None,
            serde_json::json!({"name": "Out", "direction": "outbound", "host": "bad host", "dial_format": "9{e164}{national}", "password": "p"}),
        )
        .unwrap_err();
        assert_eq!(fields(invalid), ["dial_format", "host", "username"]);
        assert!(check_dial_format("011{country_code}{national}").is_ok());
        assert!(check_dial_format("{e164}x").is_err());
        assert!(check_dial_format("+1").is_err());
        let invalid = apply(
            None,
            serde_json::json!({"name": "In", "direction": "inbound", "allowed_cidrs": ["10.0.0.0/33"]}),
        )
        .unwrap_err();
        assert_eq!(
            invalid.0["allowed_cidrs"],
            "\"10.0.0.0/33\" is not a network like 203.0.113.0/24"
        );
    }

    #[test]
    fn a_password_is_sealed_never_shown_and_kept_by_a_patch() {
        secrets::install(secrets::SecretKey::generate());
        let trunk = apply(
            None,
            serde_json::json!({"name": "Out", "direction": "outbound", "host": "192.0.2.10", "username": "bidline", "password": "s3cret"}),
        )
        .unwrap();
        let sealed = trunk.password_sealed.clone().unwrap();
        assert_eq!(
            secrets::key().unwrap().open(&sealed, &password_context(trunk.id)).unwrap(),
            "s3cret"
        );
        let shown = serde_json::to_string(&trunk).unwrap();
        assert!(!shown.contains("s3cret") && !shown.contains(&sealed), "{shown}");
        assert!(shown.contains("\"has_password\":true"));

        let renamed = apply(Some(&trunk), serde_json::json!({"name": "Renamed"})).unwrap();
        assert_eq!(renamed.password_sealed.as_deref(), Some(sealed.as_str()));
        let cleared = apply(Some(&trunk), serde_json::json!({"password": null})).unwrap();
        assert!(!cleared.has_password);
    }
}

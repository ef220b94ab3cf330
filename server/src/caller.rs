//! Who is calling, as routing reads it: the caller's number, whether it was withheld,
//! and for North American numbers the area code's country, state or province and time
//! zone, from the NANP table shipped in `data/nanp.csv` (libphonenumber's data; see
//! `scripts/nanp-table`, which regenerates it).

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono_tz::Tz;

use crate::e164::E164;

/// What the caller's identity says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// `None` when withheld or not a phone number.
    pub number: Option<E164>,
    /// The caller withheld its identity (RFC 3323/3325 `Privacy`, or an `anonymous`-like
    /// From), or sent something that is not a number.
    pub anonymous: bool,
    /// For NANP numbers (+1): the three-digit area code and what the table says of it.
    pub area: Option<&'static Area>,
}

/// One NANP area code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Area {
    pub code: u16,
    /// ISO 3166 country: US, CA, PR, JM, …
    pub country: &'static str,
    /// USPS state or Canadian province code (US and CA only).
    pub region: Option<&'static str>,
    /// The area's time zone; `None` when it spans several (208 is Boise and Los Angeles).
    pub time_zone: Option<Tz>,
}

static AREAS: LazyLock<HashMap<u16, Area>> = LazyLock::new(|| {
    include_str!("../data/nanp.csv")
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|line| {
            let mut fields = line.splitn(4, ',');
            let code = fields.next()?.parse().ok()?;
            let country = fields.next()?;
            let region = fields.next().filter(|region| !region.is_empty());
            let mut zones = fields.next().unwrap_or_default().split(' ').filter(|z| !z.is_empty());
            let time_zone = match (zones.next(), zones.next()) {
                (Some(zone), None) => zone.parse().ok(),
                _ => None,
            };
            Some((code, Area { code, country, region, time_zone }))
        })
        .collect()
});

/// What carriers write in From when the number is withheld.
const WITHHELD: [&str; 6] =
    ["anonymous", "restricted", "unavailable", "unknown", "private", "withheld"];

/// Reads the caller from From's user part and the INVITE's `Privacy` header.
pub fn identify(from_user: Option<&str>, privacy: Option<&str>) -> Caller {
    let private = privacy.is_some_and(|value| {
        value
            .split([';', ','])
            .map(str::trim)
            .any(|p| ["id", "user", "header"].iter().any(|w| p.eq_ignore_ascii_case(w)))
    });
    let user = from_user.map(str::trim).unwrap_or_default();
    let withheld = user.is_empty() || WITHHELD.iter().any(|w| user.eq_ignore_ascii_case(w));
    let number = (!private && !withheld).then(|| E164::parse(user).ok()).flatten();
    let area = number.as_ref().and_then(area_of);
    Caller { anonymous: number.is_none(), number, area }
}

/// The NANP area of a +1 number.
pub fn area_of(number: &E164) -> Option<&'static Area> {
    let digits = number.as_str().strip_prefix("+1")?;
    if digits.len() != 10 {
        return None;
    }
    AREAS.get(&digits[..3].parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_jersey_caller_has_its_state_and_zone() {
        let caller = identify(Some("+12015550123"), None);
        assert!(!caller.anonymous);
        let area = caller.area.unwrap();
        assert_eq!((area.code, area.country, area.region), (201, "US", Some("NJ")));
        assert_eq!(area.time_zone, Some(chrono_tz::America::New_York));
    }

    #[test]
    fn canadian_caribbean_and_split_zone_areas() {
        let toronto = identify(Some("4165550123"), None).area.unwrap();
        assert_eq!((toronto.country, toronto.region), ("CA", Some("ON")));
        let jamaica = identify(Some("+18765550123"), None).area.unwrap();
        assert_eq!((jamaica.country, jamaica.region), ("JM", None));
        let idaho = identify(Some("+12085550123"), None).area.unwrap();
        assert_eq!((idaho.region, idaho.time_zone), (Some("ID"), None));
    }

    #[test]
    fn toll_free_and_foreign_numbers_have_no_area() {
        assert_eq!(identify(Some("+18005550123"), None).area, None);
        let london = identify(Some("+442079460000"), None);
        assert!(!london.anonymous && london.area.is_none());
    }

    #[test]
    fn withheld_callers_are_anonymous() {
        for from in [Some("anonymous"), Some("Restricted"), Some(""), None, Some("not-a-number")] {
            assert!(identify(from, None).anonymous, "{from:?}");
        }
        let private = identify(Some("+12015550123"), Some("id;critical"));
        assert!(private.anonymous && private.number.is_none());
        assert!(!identify(Some("+12015550123"), Some("none")).anonymous);
    }

    #[test]
    fn the_table_covers_every_state() {
        let states: std::collections::HashSet<&str> =
            AREAS.values().filter(|a| a.country == "US").filter_map(|a| a.region).collect();
        assert_eq!(states.len(), 51, "50 states and DC: {states:?}");
    }
}

//! Where a visitor is, from their address: country, region, city and postal code, read
//! from a MaxMind DB (GeoLite2 or GeoIP2 City) the operator provides (`--geoip-db`).
//! Only these become the visit's tags; the address itself is not kept.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use maxminddb::{Reader, geoip2};

pub struct Geo {
    reader: Reader<Vec<u8>>,
}

impl Geo {
    pub fn open(path: &Path) -> Result<Self, maxminddb::MaxMindDbError> {
        Ok(Self { reader: Reader::open_readfile(path)? })
    }

    /// The place of `ip` as tags (`geo_country`, `geo_region`, `geo_city`,
    /// `geo_postal_code`); none for an address the database does not know.
    pub fn locate(&self, ip: IpAddr) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        let city = match self.reader.lookup(ip).and_then(|found| found.decode::<geoip2::City>()) {
            Ok(Some(city)) => city,
            Ok(None) => return tags,
            Err(error) => {
                tracing::warn!(%error, "the GeoIP database could not be read for an address");
                return tags;
            }
        };
        let mut put = |name: &str, value: Option<&str>| {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                tags.insert(name.to_owned(), value.to_owned());
            }
        };
        put("geo_country", city.country.iso_code);
        put("geo_region", city.subdivisions.first().and_then(|s| s.iso_code));
        put("geo_city", city.city.names.english);
        put("geo_postal_code", city.postal.code);
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_database() -> Geo {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testing/geo/city.mmdb");
        Geo::open(&path).expect("testing/geo/city.mmdb (scripts/test-mmdb writes it)")
    }

    #[test]
    fn a_known_address_has_its_country_region_city_and_postal_code() {
        let place = test_database().locate("192.0.2.44".parse().unwrap());
        let expected = [
            ("geo_city", "Austin"),
            ("geo_country", "US"),
            ("geo_postal_code", "78701"),
            ("geo_region", "TX"),
        ];
        assert_eq!(place, expected.map(|(k, v)| (k.to_owned(), v.to_owned())).into());
    }

    #[test]
    fn an_unknown_address_has_no_place() {
        assert!(test_database().locate("127.0.0.1".parse().unwrap()).is_empty());
        assert!(test_database().locate("2001:db8::1".parse().unwrap()).is_empty());
    }
}

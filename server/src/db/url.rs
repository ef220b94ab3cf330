//! The database's URL: which backend it names, and how it may be shown (never with its
//! password).

/// Where the data lives, checked for a supported scheme.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

/// Why a database URL cannot be used. The messages name the setting, as users write it.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error(
        "invalid --database-url (DATABASE_URL): unsupported scheme {0:?}; use sqlite://PATH or postgres://USER@HOST/DATABASE"
    )]
    UnsupportedScheme(String),
    #[error("invalid --database-url (DATABASE_URL): it is empty")]
    Empty,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(UrlError::Empty);
        }
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Self::Sqlite(url.to_owned())),
            "postgres" | "postgresql" => Ok(Self::Postgres(url.to_owned())),
            _ => Err(UrlError::UnsupportedScheme(scheme.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Sqlite(url) | Self::Postgres(url) => url,
        }
    }
}

/// Shows the URL with any password replaced, so it can be logged.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_password(self.as_str()))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// `scheme://user:secret@host/…` → `scheme://user:***@host/…`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_recognised_by_scheme() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite://data/bidline.db"),
            Ok(DatabaseUrl::Sqlite(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgres://postgres@127.0.0.1/test"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(matches!(DatabaseUrl::parse("postgresql://h/db"), Ok(DatabaseUrl::Postgres(_))));
    }

    #[test]
    fn an_unsupported_database_is_named_without_echoing_the_url() {
        let error = DatabaseUrl::parse("mysql://root:hunter2@db/x").unwrap_err().to_string();
        assert!(error.contains("\"mysql\""), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.internal:5432/bidline").unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db.internal:5432/bidline");
        let url = DatabaseUrl::parse("postgres://app@db/bidline").unwrap();
        assert_eq!(url.to_string(), "postgres://app@db/bidline");
    }
}

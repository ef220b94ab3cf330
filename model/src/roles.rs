//! Roles in an organization and what each may do.
//!
//! Roles are ordered: owner > admin > manager > analyst. Each permission names the
//! least role that holds it, so "may this role do that" is one comparison, checked on
//! the server for every page, server function and API route.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Analyst,
    Manager,
    Admin,
    Owner,
}

/// Something a member or an API key may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// See the organization's configuration, calls and reports.
    Read,
    /// Create and change campaigns, publishers, buyers, targets and numbers.
    EditConfiguration,
    /// Invite members, change their roles, create and revoke API keys, read the audit log.
    Administer,
    /// Billing, and granting or taking the owner role.
    Own,
}

impl Permission {
    pub fn least_role(self) -> Role {
        match self {
            Self::Read => Role::Analyst,
            Self::EditConfiguration => Role::Manager,
            Self::Administer => Role::Admin,
            Self::Own => Role::Owner,
        }
    }
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Manager, Role::Analyst];

    pub fn allows(self, permission: Permission) -> bool {
        self >= permission.least_role()
    }

    /// Whether a member with this role may hand `other` to someone (an invitation, a
    /// role change, an API key): never more than one's own, and owner only by owners.
    pub fn may_grant(self, other: Role) -> bool {
        self.allows(Permission::Administer) && other <= self
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Manager => "manager",
            Self::Analyst => "analyst",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_holds_its_permissions_and_those_below() {
        assert!(Role::Analyst.allows(Permission::Read));
        assert!(!Role::Analyst.allows(Permission::EditConfiguration));
        assert!(Role::Manager.allows(Permission::EditConfiguration));
        assert!(!Role::Manager.allows(Permission::Administer));
        assert!(Role::Admin.allows(Permission::Administer));
        assert!(!Role::Admin.allows(Permission::Own));
        assert!(Role::Owner.allows(Permission::Own));
    }

    #[test]
    fn admins_grant_up_to_admin_and_only_owners_grant_owner() {
        assert!(Role::Admin.may_grant(Role::Admin));
        assert!(Role::Admin.may_grant(Role::Analyst));
        assert!(!Role::Admin.may_grant(Role::Owner));
        assert!(Role::Owner.may_grant(Role::Owner));
        assert!(!Role::Manager.may_grant(Role::Analyst));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
    }
}

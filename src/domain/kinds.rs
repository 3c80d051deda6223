macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the database and shown in the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

pub use entity::enums::{OrganizationKind, Role, UserKind};

/// Which roles each kind of organisation hands out (SPEC §1).
pub trait RolesOfKind: Sized {
    /// The roles an organisation of `kind` hands out.
    fn allowed_for(kind: OrganizationKind) -> &'static [Self];
    fn is_allowed_for(&self, kind: OrganizationKind) -> bool;
}

impl RolesOfKind for Role {
    fn allowed_for(kind: OrganizationKind) -> &'static [Role] {
        match kind {
            OrganizationKind::Vendor => &[Role::Admin, Role::ChannelManager, Role::Finance],
            OrganizationKind::Partner => &[Role::Admin, Role::Sales, Role::Technical, Role::Billing],
            OrganizationKind::Customer => &[Role::Admin, Role::Billing, Role::Member],
            OrganizationKind::Distributor => &[Role::Admin, Role::Member],
        }
    }

    fn is_allowed_for(&self, kind: OrganizationKind) -> bool {
        Role::allowed_for(kind).contains(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for kind in OrganizationKind::ALL {
            assert_eq!(OrganizationKind::parse(kind.as_str()), Some(*kind));
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn roles_follow_the_organisation_kind() {
        assert!(Role::Finance.is_allowed_for(OrganizationKind::Vendor));
        assert!(!Role::Finance.is_allowed_for(OrganizationKind::Partner));
        assert!(Role::Sales.is_allowed_for(OrganizationKind::Partner));
        assert!(!Role::Sales.is_allowed_for(OrganizationKind::Customer));
        assert!(Role::Member.is_allowed_for(OrganizationKind::Customer));
        assert!(OrganizationKind::ALL.iter().all(|k| Role::Admin.is_allowed_for(*k)));
    }
}

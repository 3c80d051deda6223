/// What a grant lets a partner do on a customer's account, as a bit set so that the
/// intersection (grant ∩ assignment ∩ role) can be computed in SQL with `&`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Rights(i32);

impl Rights {
    pub const MANAGE_PRODUCTS: Rights = Rights(1);
    pub const VIEW_BILLING: Rights = Rights(2);
    pub const MANAGE_BILLING: Rights = Rights(4);
    pub const MANAGE_USERS: Rights = Rights(8);
    pub const NONE: Rights = Rights(0);
    pub const ALL: Rights = Rights(15);

    pub const NAMED: [(Rights, &'static str); 4] = [
        (Rights::MANAGE_PRODUCTS, "MANAGE_PRODUCTS"),
        (Rights::VIEW_BILLING, "VIEW_BILLING"),
        (Rights::MANAGE_BILLING, "MANAGE_BILLING"),
        (Rights::MANAGE_USERS, "MANAGE_USERS"),
    ];

    pub fn bits(self) -> i32 {
        self.0
    }

    /// Unknown bits are dropped, so a bad stored value can never widen access.
    pub fn from_bits(bits: i32) -> Rights {
        Rights(bits & Rights::ALL.0)
    }

    pub fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn intersect(self, other: Rights) -> Rights {
        Rights(self.0 & other.0)
    }

    pub fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    pub fn names(self) -> Vec<&'static str> {
        Rights::NAMED.iter().filter(|(r, _)| self.contains(*r)).map(|(_, n)| *n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersection_never_widens() {
        let grant = Rights::MANAGE_PRODUCTS.union(Rights::VIEW_BILLING);
        let assignment = Rights::VIEW_BILLING.union(Rights::MANAGE_USERS);
        assert_eq!(grant.intersect(assignment), Rights::VIEW_BILLING);
        assert_eq!(Rights::from_bits(0x7fff_ffff), Rights::ALL);
        assert_eq!(Rights::ALL.names(), ["MANAGE_PRODUCTS", "VIEW_BILLING", "MANAGE_BILLING", "MANAGE_USERS"]);
    }
}

//! Pure rules with no I/O: kinds and roles, rights, validation newtypes.

pub mod billing;
pub mod country;
pub mod currency;
pub mod deals;
pub mod delivery;
pub mod grants;
pub mod kinds;
pub mod ledger;
pub mod notifications;
pub mod questionnaire;
pub mod rebates;
pub mod rights;
pub mod tiers;
pub mod validate;

pub use entity::enums::*;
pub use kinds::RolesOfKind;
pub use notifications::Audiences;
pub use rights::Rights;

//! Plain types and pure rules of the product: no I/O, unit-tested in place.

pub mod question;
pub mod slug;
pub mod user;

//! The test kit: `TestApp` and its typed HTTP helpers, fixtures, browser (cookie and page)
//! helpers, server processes and the WebDriver session. Everything but the WebDriver module is
//! re-exported here, so tests import from `crate::helpers`.

mod app;
mod browser;
pub mod citus;
mod fixtures;
mod processes;
pub mod webdriver;

pub use app::*;
pub use browser::*;
pub use fixtures::*;
pub use processes::*;

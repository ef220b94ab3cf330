//! One module per page of the dashboard, plus the pieces pages share.

mod api_keys;
mod audit;
mod billing;
mod buyer_invoices;
mod calls;
mod chart;
mod dni;
mod forms;
mod home;
mod invite;
mod login;
mod members;
mod network;
mod not_found;
mod overview;
mod reports;
mod settings;
mod shell;
mod signup;
mod webhooks;

pub use api_keys::ApiKeys;
pub use audit::AuditLog;
pub use billing::Billing;
pub use calls::{CallDetail, Calls};
pub use home::Home;
pub use invite::Invite;
pub use login::Login;
pub use members::Members;
pub use network::{ImportNumbers, ObjectDetail, ObjectList};
pub use not_found::NotFound;
pub use overview::Overview;
pub use reports::Reports;
pub use settings::Settings;
pub use shell::Shell;
pub use signup::Signup;

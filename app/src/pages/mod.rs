//! One module per page of the dashboard, plus the pieces pages share.

mod api_keys;
mod forms;
mod home;
mod login;
mod not_found;
mod overview;
mod shell;
mod signup;

pub use api_keys::ApiKeys;
pub use home::Home;
pub use login::Login;
pub use not_found::NotFound;
pub use overview::Overview;
pub use shell::Shell;
pub use signup::Signup;

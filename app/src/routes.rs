//! The dashboard's pages as lazily loaded routes.
//!
//! Each page's code is split out of the main wasm by `cargo xtask build` and fetched the
//! first time the page is shown, so a visitor downloads the router, the shell and the
//! pages they open, not all of them.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::{
    network::Kind,
    pages::{self, sections},
};

/// Declares a lazily loaded route named `$route` that shows `$view`.
macro_rules! lazy_pages {
    ($($route:ident => $view:expr;)*) => {$(
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                $view.into_any()
            }
        }
    )*};
}

lazy_pages! {
    LoginPage => view! { <pages::Login /> };
    SignupPage => view! { <pages::Signup /> };
    InvitePage => view! { <pages::Invite /> };
    OverviewPage => view! { <pages::Overview /> };
    CallsPage => view! { <pages::Calls /> };
    CallPage => view! { <pages::CallDetail /> };
    ReportsPage => view! { <pages::Reports /> };
    MembersPage => view! { <pages::Members /> };
    ApiKeysPage => view! { <pages::ApiKeys /> };
    AuditPage => view! { <pages::AuditLog /> };
    SettingsPage => view! { <pages::Settings /> };
    BillingPage => view! { <pages::Billing /> };
    ImportNumbersPage => view! { <pages::ImportNumbers /> };
    CampaignsPage => view! { <pages::ObjectList kind=Kind::Campaign /> };
    CampaignPage => view! { <pages::ObjectDetail kind=Kind::Campaign sections=sections::Campaign /> };
    PublishersPage => view! { <pages::ObjectList kind=Kind::Publisher /> };
    PublisherPage => view! { <pages::ObjectDetail kind=Kind::Publisher sections=sections::Plain /> };
    BuyersPage => view! { <pages::ObjectList kind=Kind::Buyer /> };
    BuyerPage => view! { <pages::ObjectDetail kind=Kind::Buyer sections=sections::Buyer /> };
    TargetsPage => view! { <pages::ObjectList kind=Kind::Target /> };
    TargetPage => view! { <pages::ObjectDetail kind=Kind::Target sections=sections::Target /> };
    NumbersPage => view! { <pages::ObjectList kind=Kind::Number /> };
    NumberPage => view! { <pages::ObjectDetail kind=Kind::Number sections=sections::Plain /> };
    DniPoolsPage => view! { <pages::ObjectList kind=Kind::DniPool /> };
    DniPoolPage => view! { <pages::ObjectDetail kind=Kind::DniPool sections=sections::Plain /> };
    TrunksPage => view! { <pages::ObjectList kind=Kind::Trunk /> };
    TrunkPage => view! { <pages::ObjectDetail kind=Kind::Trunk sections=sections::Plain /> };
    BlockedCallersPage => view! { <pages::ObjectList kind=Kind::BlockedCaller /> };
    BlockedCallerPage => view! { <pages::ObjectDetail kind=Kind::BlockedCaller sections=sections::Plain /> };
    WebhooksPage => view! { <pages::ObjectList kind=Kind::Webhook /> };
    WebhookPage => view! { <pages::ObjectDetail kind=Kind::Webhook sections=sections::Webhook /> };
}

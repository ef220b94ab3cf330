//! The dashboard's pages as lazily loaded routes, in groups.
//!
//! Each group's code is split out of the main wasm by `cargo xtask build` and fetched the
//! first time one of its pages is shown, so a visitor downloads the router, the shell and
//! the groups they open, not all of them. Pages that share most of their code share a
//! group (every list is one component, as is the page of a kind without sections of its
//! own; signing in, signing up and accepting an invitation share their forms). Code two
//! groups share is a chunk of its own and code three or more share stays in the main
//! module, so a page fetches about ten files. Grouping pages that share little makes
//! each of them fetch the others' code: measured with `scripts/bench-weight`, it costs
//! more than the requests it saves.

use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::{
    network::Kind,
    pages::{self, sections},
};

/// Declares, for each `$group`, a lazily loaded route `$route` per page that shows
/// `$view`, the group's pages split out together into one wasm module named after it.
/// `$page` names the page's own function (unique, as the split tool needs).
macro_rules! lazy_groups {
    ($($group:ident { $($page:ident: $route:ident => $view:expr;)* })*) => {$($(
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                $page::$page().await
            }

            async fn preload() {
                #[cfg(feature = "hydrate")]
                $page::preload().await;
            }
        }

        #[allow(non_snake_case)]
        mod $page {
            use super::*;

            #[cfg(feature = "hydrate")]
            #[leptos::wasm_split::wasm_split(
                $group,
                wasm_split_path = ::leptos::wasm_split,
                preload(preload)
            )]
            pub fn $page() -> AnyView {
                $view.into_any()
            }

            /// On the server: names the group, whose chunks the page's preload links
            /// name (from the split's manifest), as Leptos' own `#[lazy]` does.
            #[cfg(not(feature = "hydrate"))]
            pub async fn $page() -> AnyView {
                leptos::prefetch_lazy_fn_on_server(stringify!($group));
                $view.into_any()
            }
        }
    )*)*};
}

lazy_groups! {
    sign_in {
        login: LoginPage => view! { <pages::Login /> };
        signup: SignupPage => view! { <pages::Signup /> };
        invite: InvitePage => view! { <pages::Invite /> };
    }
    overview {
        overview: OverviewPage => view! { <pages::Overview /> };
    }
    calls {
        calls: CallsPage => view! { <pages::Calls /> };
    }
    call {
        call: CallPage => view! { <pages::CallDetail /> };
    }
    reports {
        reports: ReportsPage => view! { <pages::Reports /> };
    }
    team {
        members: MembersPage => view! { <pages::Members /> };
        api_keys: ApiKeysPage => view! { <pages::ApiKeys /> };
        billing: BillingPage => view! { <pages::Billing /> };
    }
    organization {
        settings: SettingsPage => view! { <pages::Settings /> };
        audit: AuditPage => view! { <pages::AuditLog /> };
    }
    lists {
        campaigns: CampaignsPage => view! { <pages::ObjectList kind=Kind::Campaign /> };
        publishers: PublishersPage => view! { <pages::ObjectList kind=Kind::Publisher /> };
        buyers: BuyersPage => view! { <pages::ObjectList kind=Kind::Buyer /> };
        targets: TargetsPage => view! { <pages::ObjectList kind=Kind::Target /> };
        numbers: NumbersPage => view! { <pages::ObjectList kind=Kind::Number /> };
        dni_pools: DniPoolsPage => view! { <pages::ObjectList kind=Kind::DniPool /> };
        trunks: TrunksPage => view! { <pages::ObjectList kind=Kind::Trunk /> };
        blocked_callers: BlockedCallersPage => view! { <pages::ObjectList kind=Kind::BlockedCaller /> };
        webhooks: WebhooksPage => view! { <pages::ObjectList kind=Kind::Webhook /> };
        import_numbers: ImportNumbersPage => view! { <pages::ImportNumbers /> };
    }
    objects {
        publisher: PublisherPage => view! { <pages::ObjectDetail kind=Kind::Publisher sections=sections::PLAIN /> };
        number: NumberPage => view! { <pages::ObjectDetail kind=Kind::Number sections=sections::PLAIN /> };
        dni_pool: DniPoolPage => view! { <pages::ObjectDetail kind=Kind::DniPool sections=sections::PLAIN /> };
        trunk: TrunkPage => view! { <pages::ObjectDetail kind=Kind::Trunk sections=sections::PLAIN /> };
        blocked_caller: BlockedCallerPage => view! { <pages::ObjectDetail kind=Kind::BlockedCaller sections=sections::PLAIN /> };
        target: TargetPage => view! { <pages::ObjectDetail kind=Kind::Target sections=sections::TARGET /> };
        buyer: BuyerPage => view! { <pages::ObjectDetail kind=Kind::Buyer sections=sections::BUYER /> };
        webhook: WebhookPage => view! { <pages::ObjectDetail kind=Kind::Webhook sections=sections::WEBHOOK /> };
    }
    campaign {
        campaign: CampaignPage => view! { <pages::ObjectDetail kind=Kind::Campaign sections=sections::CAMPAIGN /> };
    }
}

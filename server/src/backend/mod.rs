//! The server's side of the app's [`Backend`]: what the dashboard's server functions
//! call. Each method resolves the session and the member itself, checks the role, and
//! calls the same account functions the REST API calls.
//!
//! Errors leave with the HTTP status that matches them ([`answer`]), so a client that is
//! not the app (a script, a test) reads the same answer from the status line.

mod api_keys;
mod audit;
mod auth;
mod billing;
pub mod calls;
mod dni;
mod members;
mod network;
mod reports;
mod settings;
mod setup;
mod timeline;
mod webhooks;

use std::{net::IpAddr, time::Duration};

use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use bidline_app::{
    api_keys::{ApiKeyView, CreatedApiKey},
    audit::AuditPage,
    auth::Viewer,
    backend::Backend,
    billing::{BillingView, BuyerInvoiceRow, InvoicingView},
    calls::{CallDetailView, CallFilter, CallLogPage, CallLogTotals, CallSummary, TodayFigures},
    dni::DniView,
    errors::AppError,
    members::{CreatedInvitation, InvitationView, InviteView, MemberView},
    network::{ImportAnswer, Kind, ListPage, ObjectPageData, PingReport},
    reports::{OverviewData, ReportTable},
    roles::Role,
    setup::{SetupProgress, TestCallResult},
    status::SystemStatus,
    webhooks::{CreatedPostbackKey, DeliveryRow, PostbackKeyRow},
};
use futures::future::BoxFuture;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use crate::{
    accounts::{
        AccountError, Permission, UserId,
        audit::{Actor, By},
        members::{Change, Member},
    },
    db::{Db, nodes::NodeInfo},
    http::{AppState, session},
    limits::ClientIp,
    time::rfc3339,
};

/// A health check that takes longer than this is a failed one: a load balancer must
/// hear "unavailable" promptly, not time out.
const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub struct ServerBackend {
    state: AppState,
}

impl ServerBackend {
    pub fn new(state: &AppState) -> Self {
        Self { state: state.clone() }
    }
}

type Answer<'a, T> = BoxFuture<'a, Result<T, AppError>>;

impl Backend for ServerBackend {
    fn system_status(&self) -> BoxFuture<'_, SystemStatus> {
        Box::pin(system_status(&self.state.db, &self.state.node))
    }

    fn viewer(&self) -> Answer<'_, Option<Viewer>> {
        Box::pin(answer(auth::viewer(&self.state)))
    }

    fn signup(&self, org_name: String, email: String, password: String) -> Answer<'_, ()> {
        Box::pin(answer(auth::signup(&self.state, org_name, email, password)))
    }

    fn login(&self, email: String, password: String) -> Answer<'_, ()> {
        Box::pin(answer(auth::login(&self.state, email, password)))
    }

    fn logout(&self) -> Answer<'_, ()> {
        Box::pin(answer(auth::logout(&self.state)))
    }

    fn switch_org(&self, org_id: String) -> Answer<'_, ()> {
        Box::pin(answer(auth::switch_org(&self.state, org_id)))
    }

    fn billing_overview(&self) -> Answer<'_, BillingView> {
        Box::pin(answer(billing::overview(&self.state)))
    }

    fn billing_checkout(&self) -> Answer<'_, String> {
        Box::pin(answer(billing::link(&self.state, crate::billing::links::Destination::Checkout)))
    }

    fn billing_portal(&self) -> Answer<'_, String> {
        Box::pin(answer(billing::link(&self.state, crate::billing::links::Destination::Portal)))
    }

    fn invoicing_connection(&self) -> Answer<'_, InvoicingView> {
        Box::pin(answer(billing::invoicing_connection(&self.state)))
    }

    fn connect_invoicing(&self, stripe_secret_key: String) -> Answer<'_, InvoicingView> {
        Box::pin(answer(billing::connect_invoicing(&self.state, stripe_secret_key)))
    }

    fn disconnect_invoicing(&self) -> Answer<'_, ()> {
        Box::pin(answer(billing::disconnect_invoicing(&self.state)))
    }

    fn list_buyer_invoices(&self, buyer_id: String) -> Answer<'_, Vec<BuyerInvoiceRow>> {
        Box::pin(answer(billing::list_buyer_invoices(&self.state, buyer_id)))
    }

    fn run_buyer_invoice(&self, buyer_id: String) -> Answer<'_, BuyerInvoiceRow> {
        Box::pin(answer(billing::run_buyer_invoice(&self.state, buyer_id)))
    }

    fn list_api_keys(&self) -> Answer<'_, Vec<ApiKeyView>> {
        Box::pin(answer(api_keys::list(&self.state)))
    }

    fn create_api_key(&self, name: String, role: Role) -> Answer<'_, CreatedApiKey> {
        Box::pin(answer(api_keys::create(&self.state, name, role)))
    }

    fn revoke_api_key(&self, id: String) -> Answer<'_, ()> {
        Box::pin(answer(api_keys::revoke(&self.state, id)))
    }

    fn list_members(&self) -> Answer<'_, Vec<MemberView>> {
        Box::pin(answer(members::list(&self.state)))
    }

    fn change_member_role(&self, user_id: String, role: Role) -> Answer<'_, ()> {
        Box::pin(answer(members::change(&self.state, user_id, Change::Role(role))))
    }

    fn remove_member(&self, user_id: String) -> Answer<'_, ()> {
        Box::pin(answer(members::change(&self.state, user_id, Change::Remove)))
    }

    fn list_invitations(&self) -> Answer<'_, Vec<InvitationView>> {
        Box::pin(answer(members::list_invitations(&self.state)))
    }

    fn create_invitation(&self, role: Role) -> Answer<'_, CreatedInvitation> {
        Box::pin(answer(members::create_invitation(&self.state, role)))
    }

    fn revoke_invitation(&self, id: String) -> Answer<'_, ()> {
        Box::pin(answer(members::revoke_invitation(&self.state, id)))
    }

    fn open_invitation(&self, token: String) -> Answer<'_, Option<InviteView>> {
        Box::pin(answer(members::open_invitation(&self.state, token)))
    }

    fn accept_invitation(
        &self,
        token: String,
        email: String,
        password: String,
        new_account: bool,
    ) -> Answer<'_, ()> {
        Box::pin(answer(members::accept_invitation(
            &self.state,
            token,
            email,
            password,
            new_account,
        )))
    }

    fn change_password(&self, current_password: String, new_password: String) -> Answer<'_, ()> {
        Box::pin(answer(settings::change_password(&self.state, current_password, new_password)))
    }

    fn organization_time_zone(&self) -> Answer<'_, String> {
        Box::pin(answer(settings::organization_time_zone(&self.state)))
    }

    fn set_organization_time_zone(&self, time_zone: String) -> Answer<'_, ()> {
        Box::pin(answer(settings::set_organization_time_zone(&self.state, time_zone)))
    }

    fn list_audit_events(&self, cursor: Option<String>) -> Answer<'_, AuditPage> {
        Box::pin(answer(audit::list(&self.state, cursor)))
    }

    fn list_calls(&self, filter: CallFilter, cursor: Option<String>) -> Answer<'_, CallLogPage> {
        Box::pin(answer(calls::list(&self.state, filter, cursor)))
    }

    fn call_totals(&self, filter: CallFilter) -> Answer<'_, CallLogTotals> {
        Box::pin(answer(calls::totals(&self.state, filter)))
    }

    fn call_detail(&self, id: String) -> Answer<'_, CallDetailView> {
        Box::pin(answer(calls::detail(&self.state, id)))
    }

    fn live_calls(&self) -> Answer<'_, Vec<CallSummary>> {
        Box::pin(answer(calls::live(&self.state)))
    }

    fn campaign_today(&self, campaign_id: String) -> Answer<'_, TodayFigures> {
        Box::pin(answer(calls::campaign_today(&self.state, campaign_id)))
    }

    fn campaign_dni(&self, campaign_id: String) -> Answer<'_, DniView> {
        Box::pin(answer(dni::campaign(&self.state, campaign_id)))
    }

    fn setup_progress(&self) -> Answer<'_, SetupProgress> {
        Box::pin(answer(setup::progress(&self.state)))
    }

    fn place_test_call(&self, number_id: String) -> Answer<'_, TestCallResult> {
        Box::pin(answer(setup::test_call(&self.state, number_id)))
    }

    fn run_report(&self, query: String) -> Answer<'_, ReportTable> {
        Box::pin(answer(reports::run(&self.state, query)))
    }

    fn overview(&self, range: String, from: String, to: String) -> Answer<'_, OverviewData> {
        Box::pin(answer(reports::overview(&self.state, range, from, to)))
    }

    fn list_objects(
        &self,
        kind: Kind,
        name: String,
        status: String,
        cursor: Option<String>,
    ) -> Answer<'_, ListPage> {
        Box::pin(answer(network::list(&self.state, kind, name, status, cursor)))
    }

    fn all_objects(&self, kind: Kind) -> Answer<'_, Vec<serde_json::Value>> {
        Box::pin(answer(network::all(&self.state, kind)))
    }

    fn object_page(&self, kind: Kind, id: String) -> Answer<'_, ObjectPageData> {
        Box::pin(answer(network::page(&self.state, kind, id)))
    }

    fn save_object(
        &self,
        kind: Kind,
        id: Option<String>,
        body: String,
    ) -> Answer<'_, serde_json::Value> {
        Box::pin(answer(network::save(&self.state, kind, id, body)))
    }

    fn delete_object(&self, kind: Kind, id: String) -> Answer<'_, ()> {
        Box::pin(answer(network::delete(&self.state, kind, id)))
    }

    fn save_ring_tree(
        &self,
        campaign_id: String,
        body: String,
    ) -> Answer<'_, Vec<serde_json::Value>> {
        Box::pin(answer(network::save_ring_tree(&self.state, campaign_id, body)))
    }

    fn import_numbers(&self, body: String, preview: bool) -> Answer<'_, ImportAnswer> {
        Box::pin(answer(network::import_numbers(&self.state, body, preview)))
    }

    fn test_ping(&self, target_id: String) -> Answer<'_, PingReport> {
        Box::pin(answer(network::test_ping(&self.state, target_id)))
    }

    fn webhook_deliveries(&self, webhook_id: String) -> Answer<'_, Vec<DeliveryRow>> {
        Box::pin(answer(webhooks::deliveries(&self.state, webhook_id)))
    }

    fn resend_delivery(&self, webhook_id: String, delivery_id: String) -> Answer<'_, ()> {
        Box::pin(answer(webhooks::resend(&self.state, webhook_id, delivery_id)))
    }

    fn rotate_webhook_secret(&self, webhook_id: String) -> Answer<'_, String> {
        Box::pin(answer(webhooks::rotate(&self.state, webhook_id)))
    }

    fn list_postback_keys(&self, buyer_id: String) -> Answer<'_, Vec<PostbackKeyRow>> {
        Box::pin(answer(webhooks::postback_keys(&self.state, buyer_id)))
    }

    fn create_postback_key(&self, buyer_id: String) -> Answer<'_, CreatedPostbackKey> {
        Box::pin(answer(webhooks::create_postback_key(&self.state, buyer_id)))
    }

    fn revoke_postback_key(&self, buyer_id: String, key_id: String) -> Answer<'_, ()> {
        Box::pin(answer(webhooks::revoke_postback_key(&self.state, buyer_id, key_id)))
    }
}

pub async fn system_status(db: &Db, node: &NodeInfo) -> SystemStatus {
    // The database's own words (host names, database and role names) go to the log
    // only: the status is public, on `/healthz` and the landing page.
    let error = match tokio::time::timeout(DATABASE_CHECK_TIMEOUT, db.ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => {
            tracing::warn!(database = db.backend().name(), %error, "health check: database unavailable");
            Some("the database did not answer the check (the log says why)".to_owned())
        }
        Err(_) => {
            let error = format!("no answer within {} s", DATABASE_CHECK_TIMEOUT.as_secs());
            tracing::warn!(database = db.backend().name(), %error, "health check: database unavailable");
            Some(error)
        }
    };
    SystemStatus {
        status: if error.is_none() { "ok" } else { "unavailable" }.to_owned(),
        database: db.backend().name().to_owned(),
        error,
        version: node.version.clone(),
        node_id: node.id.to_string(),
        checked_at: rfc3339(chrono::Utc::now()),
    }
}

/// Runs a server function's work and gives its error the matching HTTP status.
async fn answer<T>(work: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    // Taken before the first await, while the request's context is current.
    let response = use_context::<ResponseOptions>();
    let result = work.await;
    if let (Err(error), Some(response)) = (&result, response) {
        response.set_status(match error {
            AppError::SignedOut | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        });
        if let AppError::RateLimited { retry_after_seconds } = error {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
        }
    }
    result
}

/// The request behind the server function being answered.
struct Caller {
    session: Session,
    ip: Option<IpAddr>,
}

impl Caller {
    /// `user`, acting through this request, for the audit log.
    fn by(&self, user: UserId) -> By {
        By { actor: Actor::User(user), ip: self.ip }
    }
}

async fn caller() -> Result<Caller, AppError> {
    let parts = use_context::<Parts>();
    let ip = parts.as_ref().and_then(|parts| ClientIp::of(&parts.extensions));
    let session = parts
        .and_then(|parts| parts.extensions.get::<Session>().cloned())
        .ok_or_else(|| internal("the request has no session layer"))?;
    Ok(Caller { session, ip })
}

/// The signed-in member, holding `permission`.
async fn member(
    state: &AppState,
    caller: &Caller,
    permission: Permission,
) -> Result<Member, AppError> {
    let member = session::member(&caller.session, &state.db)
        .await
        .map_err(internal)?
        .ok_or(AppError::SignedOut)?;
    if member.role.allows(permission) { Ok(member) } else { Err(AppError::Forbidden) }
}

/// Logs a failure and answers with a message that reveals nothing of it.
fn internal(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "server function failed");
    AppError::Internal("please try again".to_owned())
}

impl From<AccountError> for AppError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid { field, message } => AppError::field(field, message),
            AccountError::ExistingUserPassword => {
                AppError::field("email", "already has an account: give its password, or sign in")
            }
            AccountError::UnknownEmail => AppError::field("email", "has no account"),
            AccountError::NotFound => AppError::NotFound,
            AccountError::NotAllowed(_) => AppError::Forbidden,
            AccountError::Database(error) => internal(error),
            AccountError::Hash(error) => internal(error),
        }
    }
}

fn waited(wait: Duration) -> AppError {
    AppError::RateLimited { retry_after_seconds: wait.as_secs().max(1) }
}

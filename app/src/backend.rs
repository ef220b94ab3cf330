//! What server functions need from the server binary.
//!
//! The app cannot depend on the server crate (the dependency runs the other way), so
//! the server implements [`Backend`] and provides it as Leptos context for every
//! request. Server functions reach it with [`backend`]; they never open connections
//! of their own. The server resolves the session, the organization and the role
//! itself: a server function never passes them in.

use std::sync::Arc;

use futures::future::BoxFuture;
use leptos::prelude::*;

use crate::{
    api_keys::{ApiKeyView, CreatedApiKey},
    audit::AuditPage,
    auth::Viewer,
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

type Answer<'a, T> = BoxFuture<'a, Result<T, AppError>>;

pub trait Backend: Send + Sync + 'static {
    /// The same check `GET /healthz` reports.
    fn system_status(&self) -> BoxFuture<'_, SystemStatus>;

    fn viewer(&self) -> Answer<'_, Option<Viewer>>;
    fn signup(&self, org_name: String, email: String, password: String) -> Answer<'_, ()>;
    fn login(&self, email: String, password: String) -> Answer<'_, ()>;
    fn logout(&self) -> Answer<'_, ()>;
    fn switch_org(&self, org_id: String) -> Answer<'_, ()>;

    fn billing_overview(&self) -> Answer<'_, BillingView>;
    fn billing_checkout(&self) -> Answer<'_, String>;
    fn billing_portal(&self) -> Answer<'_, String>;
    fn invoicing_connection(&self) -> Answer<'_, InvoicingView>;
    fn connect_invoicing(&self, stripe_secret_key: String) -> Answer<'_, InvoicingView>;
    fn disconnect_invoicing(&self) -> Answer<'_, ()>;
    fn list_buyer_invoices(&self, buyer_id: String) -> Answer<'_, Vec<BuyerInvoiceRow>>;
    fn run_buyer_invoice(&self, buyer_id: String) -> Answer<'_, BuyerInvoiceRow>;

    fn list_api_keys(&self) -> Answer<'_, Vec<ApiKeyView>>;
    fn create_api_key(&self, name: String, role: Role) -> Answer<'_, CreatedApiKey>;
    fn revoke_api_key(&self, id: String) -> Answer<'_, ()>;

    fn list_members(&self) -> Answer<'_, Vec<MemberView>>;
    fn change_member_role(&self, user_id: String, role: Role) -> Answer<'_, ()>;
    fn remove_member(&self, user_id: String) -> Answer<'_, ()>;
    fn list_invitations(&self) -> Answer<'_, Vec<InvitationView>>;
    fn create_invitation(&self, role: Role) -> Answer<'_, CreatedInvitation>;
    fn revoke_invitation(&self, id: String) -> Answer<'_, ()>;
    fn open_invitation(&self, token: String) -> Answer<'_, Option<InviteView>>;
    fn accept_invitation(
        &self,
        token: String,
        email: String,
        password: String,
        new_account: bool,
    ) -> Answer<'_, ()>;

    fn change_password(&self, current_password: String, new_password: String) -> Answer<'_, ()>;
    fn organization_time_zone(&self) -> Answer<'_, String>;
    fn set_organization_time_zone(&self, time_zone: String) -> Answer<'_, ()>;
    fn list_audit_events(&self, cursor: Option<String>) -> Answer<'_, AuditPage>;

    fn list_calls(&self, filter: CallFilter, cursor: Option<String>) -> Answer<'_, CallLogPage>;
    fn call_totals(&self, filter: CallFilter) -> Answer<'_, CallLogTotals>;
    fn call_detail(&self, id: String) -> Answer<'_, CallDetailView>;
    fn live_calls(&self) -> Answer<'_, Vec<CallSummary>>;
    fn campaign_today(&self, campaign_id: String) -> Answer<'_, TodayFigures>;
    fn campaign_dni(&self, campaign_id: String) -> Answer<'_, DniView>;
    fn setup_progress(&self) -> Answer<'_, SetupProgress>;
    fn place_test_call(&self, number_id: String) -> Answer<'_, TestCallResult>;

    fn run_report(&self, query: String) -> Answer<'_, ReportTable>;
    fn overview(&self, range: String, from: String, to: String) -> Answer<'_, OverviewData>;

    /// `name` and `status` filter when not empty.
    fn list_objects(
        &self,
        kind: Kind,
        name: String,
        status: String,
        cursor: Option<String>,
    ) -> Answer<'_, ListPage>;
    fn all_objects(&self, kind: Kind) -> Answer<'_, Vec<serde_json::Value>>;
    fn object_page(&self, kind: Kind, id: String) -> Answer<'_, ObjectPageData>;
    fn save_object(
        &self,
        kind: Kind,
        id: Option<String>,
        body: String,
    ) -> Answer<'_, serde_json::Value>;
    fn delete_object(&self, kind: Kind, id: String) -> Answer<'_, ()>;
    fn save_ring_tree(
        &self,
        campaign_id: String,
        body: String,
    ) -> Answer<'_, Vec<serde_json::Value>>;
    fn import_numbers(&self, body: String, preview: bool) -> Answer<'_, ImportAnswer>;
    fn test_ping(&self, target_id: String) -> Answer<'_, PingReport>;

    fn webhook_deliveries(&self, webhook_id: String) -> Answer<'_, Vec<DeliveryRow>>;
    fn resend_delivery(&self, webhook_id: String, delivery_id: String) -> Answer<'_, ()>;
    fn rotate_webhook_secret(&self, webhook_id: String) -> Answer<'_, String>;
    fn list_postback_keys(&self, buyer_id: String) -> Answer<'_, Vec<PostbackKeyRow>>;
    fn create_postback_key(&self, buyer_id: String) -> Answer<'_, CreatedPostbackKey>;
    fn revoke_postback_key(&self, buyer_id: String, key_id: String) -> Answer<'_, ()>;
}

/// The backend the server provided for this request.
pub fn backend() -> Result<Arc<dyn Backend>, AppError> {
    use_context::<Arc<dyn Backend>>()
        .ok_or_else(|| AppError::Internal("the server provided no backend to the app".to_owned()))
}

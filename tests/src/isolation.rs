//! Which server functions reach an organization's objects by id. The isolation test
//! (`tests/system/isolation.rs`) probes exactly [`ID_TAKING_FUNCTIONS`] with another
//! organization's ids, and a unit test of the server checks that every registered
//! server function is listed here, so a new one cannot slip past the matrix unclassified.

/// Server functions with an argument that names an object of an organization.
pub const ID_TAKING_FUNCTIONS: &[&str] = &[
    "revoke_api_key",
    "revoke_invitation",
    "change_member_role",
    "remove_member",
    "switch_org",
    "object_page",
    "save_object",
    "delete_object",
    "save_ring_tree",
    "import_numbers",
    "test_ping",
    "call_detail",
    "campaign_today",
    "campaign_dni",
    "webhook_deliveries",
    "resend_delivery",
    "rotate_webhook_secret",
    "list_postback_keys",
    "create_postback_key",
    "revoke_postback_key",
    "list_buyer_invoices",
    "run_buyer_invoice",
    "place_test_call",
];

/// Server functions without such an argument. (`list_audit_events` takes a cursor, but it
/// only bounds the caller's own list; `run_report`'s query and the call log's filters
/// (`list_calls`, `call_totals`) may name ids, but only narrow the caller's own calls;
/// `open_invitation` and `accept_invitation` take a secret token, not an id.)
pub const ID_FREE_FUNCTIONS: &[&str] = &[
    "check_status",
    "current_viewer",
    "signup",
    "login",
    "logout",
    "list_api_keys",
    "create_api_key",
    "list_members",
    "list_invitations",
    "create_invitation",
    "open_invitation",
    "accept_invitation",
    "change_password",
    "list_audit_events",
    "billing_overview",
    "billing_checkout",
    "billing_portal",
    "invoicing_connection",
    "connect_invoicing",
    "disconnect_invoicing",
    "list_objects",
    "all_objects",
    "list_calls",
    "call_totals",
    "live_calls",
    "organization_time_zone",
    "set_organization_time_zone",
    "run_report",
    "overview",
    "setup_status",
];

//! Argument and result types of the demo tools. Their doc comments become the
//! `description`s in the tools' input and output schemas, and the `schemars`
//! attributes the bounds and formats clients see.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A customer's subscription plan.
// Variants carry no doc comments on purpose: schemars would then emit `oneOf` with
// `const`s instead of a plain `enum`, which is the shape clients render best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Starter,
    Pro,
    Enterprise,
}

/// Lifecycle state of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

/// How urgently support should pick a ticket up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

/// Channel a message is delivered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Chat,
    Email,
    Sms,
    Whatsapp,
}

/// Why the customer wants their money back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    Damaged,
    NotReceived,
    WrongItem,
    ChangedMind,
    Other,
}

// ---- search_customers --------------------------------------------------------------

/// Arguments of `search_customers`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchCustomersArgs {
    /// Case-insensitive fragment of the customer's name or email; empty matches everyone.
    #[schemars(length(max = 100))]
    pub query: String,
    /// Maximum number of customers to return.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 50))]
    pub limit: u32,
    /// Only return customers on this plan.
    #[serde(default)]
    pub plan: Option<Plan>,
}

fn default_limit() -> u32 {
    10
}

/// A customer record.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Customer {
    /// Stable customer id, e.g. `cus_1001`.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Primary contact address.
    #[schemars(email)]
    pub email: String,
    /// Current subscription plan.
    pub plan: Plan,
}

/// Result of `search_customers`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchCustomersOutput {
    /// Matching customers, at most `limit` of them.
    pub customers: Vec<Customer>,
    /// How many customers matched before `limit` was applied.
    pub total_matches: u32,
}

// ---- get_order ---------------------------------------------------------------------

/// Arguments of `get_order`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetOrderArgs {
    /// Order id as printed on the receipt, e.g. `ORD-1001`.
    #[schemars(pattern(r"^ORD-\d{4}$"))]
    pub order_id: String,
}

/// One line of an order.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderItem {
    /// Stock keeping unit.
    pub sku: String,
    /// Units ordered.
    pub quantity: u32,
    /// Price of one unit, in cents.
    pub unit_price_cents: u64,
}

/// An order with its lines.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Order {
    /// Order id.
    pub id: String,
    /// Id of the customer who placed the order.
    pub customer_id: String,
    /// Where the order is in its lifecycle.
    pub status: OrderStatus,
    /// Sum of all lines, in cents.
    pub total_cents: u64,
    /// ISO 4217 currency code of all amounts.
    pub currency: String,
    /// Ordered lines.
    pub items: Vec<OrderItem>,
    /// When the order was placed (UTC).
    #[schemars(extend("format" = "date-time"))]
    pub placed_at: String,
}

/// Result of `get_order`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GetOrderOutput {
    /// The order.
    pub order: Order,
}

// ---- create_ticket -----------------------------------------------------------------

/// Arguments of `create_ticket`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateTicketArgs {
    /// One-line summary shown in the ticket queue.
    #[schemars(length(min = 1, max = 200))]
    pub subject: String,
    /// Full description of the customer's problem.
    #[schemars(length(min = 1, max = 5000))]
    pub body: String,
    /// How urgently support should pick the ticket up.
    #[serde(default)]
    pub priority: Priority,
    /// Email address of the customer the ticket is about.
    #[schemars(email)]
    pub customer_email: String,
    /// Free-form labels used for routing, e.g. `billing`.
    #[serde(default)]
    #[schemars(length(max = 10), inner(length(min = 1, max = 32)))]
    pub tags: Vec<String>,
}

/// Lifecycle state of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Open,
    Pending,
    Solved,
}

/// A support ticket.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Ticket {
    /// Ticket id, e.g. `TCK-0001`.
    pub id: String,
    /// New tickets are always `open`.
    pub status: TicketStatus,
    /// Priority as requested.
    pub priority: Priority,
    /// The customer's id when the email belongs to a known customer.
    pub customer_id: Option<String>,
    /// Labels as given.
    pub tags: Vec<String>,
    /// When the ticket was created (UTC).
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
}

/// Result of `create_ticket`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateTicketOutput {
    /// The new ticket.
    pub ticket: Ticket,
}

// ---- send_message ------------------------------------------------------------------

/// Arguments of `send_message`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SendMessageArgs {
    /// Channel to deliver the message on.
    pub channel: Channel,
    /// Message text, plain.
    #[schemars(length(min = 1, max = 2000))]
    pub text: String,
    /// Conversation to reply in; omit to start a new one.
    #[serde(default)]
    #[schemars(pattern(r"^thr_[0-9a-z]+$"))]
    pub thread_id: Option<String>,
}

/// A queued outbound message.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Message {
    /// Message id.
    pub id: String,
    /// Channel it goes out on.
    pub channel: Channel,
    /// Conversation it belongs to (new when none was given).
    pub thread_id: String,
    /// When it was queued (UTC).
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
}

/// Result of `send_message`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SendMessageOutput {
    /// The queued message.
    pub message: Message,
}

// ---- check_availability ------------------------------------------------------------

/// Arguments of `check_availability`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CheckAvailabilityArgs {
    /// Day to look at.
    #[schemars(extend("format" = "date"))]
    pub date: String,
    /// Length of the call to book, in minutes.
    #[serde(default = "default_duration")]
    #[schemars(range(min = 15, max = 240))]
    pub duration_minutes: u32,
    /// IANA time zone the slots are given in, e.g. `Europe/Berlin`.
    #[serde(default = "default_timezone")]
    #[schemars(pattern(r"^[A-Za-z0-9_+\-/]{1,64}$"))]
    pub timezone: String,
}

fn default_duration() -> u32 {
    30
}

fn default_timezone() -> String {
    "UTC".to_owned()
}

/// A bookable time range, in the requested time zone's wall-clock time.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Slot {
    /// Start, `HH:MM`.
    #[schemars(pattern(r"^\d{2}:\d{2}$"))]
    pub start: String,
    /// End, `HH:MM`.
    #[schemars(pattern(r"^\d{2}:\d{2}$"))]
    pub end: String,
}

/// Result of `check_availability`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckAvailabilityOutput {
    /// The day looked at.
    #[schemars(extend("format" = "date"))]
    pub date: String,
    /// Time zone of the slots.
    pub timezone: String,
    /// Free slots, earliest first; empty on weekends.
    pub slots: Vec<Slot>,
}

// ---- refund_order ------------------------------------------------------------------

/// A part of an order to refund.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RefundLine {
    /// SKU of an order line.
    pub sku: String,
    /// Units to refund, at most the units ordered.
    #[schemars(range(min = 1, max = 100))]
    pub quantity: u32,
}

/// Arguments of `refund_order`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RefundOrderArgs {
    /// Order to refund, e.g. `ORD-1001`.
    #[schemars(pattern(r"^ORD-\d{4}$"))]
    pub order_id: String,
    /// Why the customer wants their money back.
    pub reason: RefundReason,
    /// Lines to refund; omit to refund the whole order.
    #[serde(default)]
    #[schemars(length(min = 1, max = 20))]
    pub items: Option<Vec<RefundLine>>,
}

/// Processing state of a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
}

/// An issued refund.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Refund {
    /// Refund id.
    pub id: String,
    /// Refunded order.
    pub order_id: String,
    /// Amount refunded, in cents.
    pub amount_cents: u64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Refunds settle asynchronously, so new ones are `pending`.
    pub status: RefundStatus,
    /// Reason as given.
    pub reason: RefundReason,
}

/// Result of `refund_order`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RefundOrderOutput {
    /// The refund.
    pub refund: Refund,
}

//! The demo tools: a small customer-support back office over fixed, in-memory data.
//!
//! Everything is deterministic (no I/O, a frozen clock) so a demo looks the same on
//! every run and tests can assert on exact values. rmcp does not validate arguments
//! against the input schema, so each tool re-checks the bounds its schema advertises
//! and answers out-of-range input with a tool error (`isError: true`).

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use rmcp::{Json, handler::server::wrapper::Parameters, tool, tool_handler, tool_router};

mod data;
mod schema;

use data::{
    CURRENCY, CUSTOMERS, CustomerRow, demo_now, find_order, free_slots, order_total, parse_date,
    refund_amount,
};
use schema::*;

/// Names of the tools [`DemoTools`] serves, in the order `tools/list` returns them
/// (rmcp sorts by name).
pub const TOOL_NAMES: [&str; 6] = [
    "check_availability",
    "create_ticket",
    "get_order",
    "refund_order",
    "search_customers",
    "send_message",
];

/// The MCP server handler with the demo tools.
///
/// [`DemoServer`](crate::DemoServer) serves it over HTTP; it works over any other
/// rmcp transport too (e.g. `DemoTools::new().serve(tokio::io::duplex(..))`).
/// Clones share one id sequence, so tickets, messages and refunds created in
/// different sessions of one server still get distinct ids.
#[derive(Debug, Clone, Default)]
pub struct DemoTools {
    next_id: Arc<AtomicU64>,
}

// ---- the tools ---------------------------------------------------------------------

#[tool_router]
impl DemoTools {
    /// A handler with a fresh id sequence.
    pub fn new() -> Self {
        Self::default()
    }

    /// Next value of the shared sequence, starting at 1.
    fn next_seq(&self) -> u64 {
        // Relaxed: the counter only has to hand out distinct numbers.
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    #[tool(
        name = "search_customers",
        title = "Search customers",
        description = "Find customers by a fragment of their name or email address.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search_customers(
        &self,
        Parameters(args): Parameters<SearchCustomersArgs>,
    ) -> Result<Json<SearchCustomersOutput>, String> {
        check_range("limit", args.limit, 1, 50)?;
        check_len("query", &args.query, 0, 100)?;
        let needle = args.query.trim().to_lowercase();
        let matches: Vec<&CustomerRow> = CUSTOMERS
            .iter()
            .filter(|c| args.plan.is_none_or(|plan| c.plan == plan))
            .filter(|c| {
                c.name.to_lowercase().contains(&needle) || c.email.to_lowercase().contains(&needle)
            })
            .collect();
        let total_matches = u32::try_from(matches.len()).unwrap_or(u32::MAX);
        let customers = matches
            .into_iter()
            .take(args.limit as usize)
            .map(|c| Customer {
                id: c.id.to_owned(),
                name: c.name.to_owned(),
                email: c.email.to_owned(),
                plan: c.plan,
            })
            .collect();
        Ok(Json(SearchCustomersOutput {
            customers,
            total_matches,
        }))
    }

    #[tool(
        name = "get_order",
        title = "Look up order",
        description = "Fetch an order with its lines, status and total.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_order(
        &self,
        Parameters(args): Parameters<GetOrderArgs>,
    ) -> Result<Json<GetOrderOutput>, String> {
        let row = find_order(&args.order_id)?;
        let items = row
            .items
            .iter()
            .map(|&(sku, quantity, unit_price_cents)| OrderItem {
                sku: sku.to_owned(),
                quantity,
                unit_price_cents,
            })
            .collect();
        Ok(Json(GetOrderOutput {
            order: Order {
                id: row.id.to_owned(),
                customer_id: row.customer_id.to_owned(),
                status: row.status,
                total_cents: order_total(row),
                currency: CURRENCY.to_owned(),
                items,
                placed_at: row.placed_at.to_owned(),
            },
        }))
    }

    #[tool(
        name = "create_ticket",
        title = "Create support ticket",
        description = "Open a support ticket for a customer."
    )]
    async fn create_ticket(
        &self,
        Parameters(args): Parameters<CreateTicketArgs>,
    ) -> Result<Json<CreateTicketOutput>, String> {
        check_len("subject", args.subject.trim(), 1, 200)?;
        check_len("body", args.body.trim(), 1, 5000)?;
        check_email(&args.customer_email)?;
        if args.tags.len() > 10 {
            return Err(format!(
                "At most 10 tags are allowed, got {}.",
                args.tags.len()
            ));
        }
        for tag in &args.tags {
            check_len("each tag", tag, 1, 32)?;
        }
        let customer_id = CUSTOMERS
            .iter()
            .find(|c| c.email.eq_ignore_ascii_case(args.customer_email.trim()))
            .map(|c| c.id.to_owned());
        let seq = self.next_seq();
        Ok(Json(CreateTicketOutput {
            ticket: Ticket {
                id: format!("TCK-{seq:04}"),
                status: TicketStatus::Open,
                priority: args.priority,
                customer_id,
                tags: args.tags,
                created_at: demo_now(seq),
            },
        }))
    }

    // Only `annotations.title`, no top-level `title`: exercises the display-name fallback.
    #[tool(
        name = "send_message",
        description = "Send a message to a customer on chat, email, SMS or WhatsApp.",
        annotations(title = "Send customer message", open_world_hint = true)
    )]
    async fn send_message(
        &self,
        Parameters(args): Parameters<SendMessageArgs>,
    ) -> Result<Json<SendMessageOutput>, String> {
        check_len("text", &args.text, 1, 2000)?;
        if let Some(thread) = &args.thread_id {
            let valid = thread.strip_prefix("thr_").is_some_and(|rest| {
                !rest.is_empty()
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            });
            if !valid {
                return Err(format!("thread_id {thread:?} must look like thr_123."));
            }
        }
        let seq = self.next_seq();
        Ok(Json(SendMessageOutput {
            message: Message {
                id: format!("msg_{seq:04}"),
                channel: args.channel,
                thread_id: args.thread_id.unwrap_or_else(|| format!("thr_{seq}")),
                ts: demo_now(seq),
            },
        }))
    }

    // Neither `title` nor `annotations.title`: clients must fall back to the name.
    #[tool(
        name = "check_availability",
        description = "List free slots for a support call on a given day (09:00-17:00, lunch 12:00-13:00, weekdays only).",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn check_availability(
        &self,
        Parameters(args): Parameters<CheckAvailabilityArgs>,
    ) -> Result<Json<CheckAvailabilityOutput>, String> {
        check_range("duration_minutes", args.duration_minutes, 15, 240)?;
        let valid_zone = !args.timezone.is_empty()
            && args.timezone.len() <= 64
            && args
                .timezone
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+-/".contains(&b));
        if !valid_zone {
            return Err(format!(
                "{:?} is not an IANA time zone name.",
                args.timezone
            ));
        }
        let (year, month, day) = parse_date(&args.date)?;
        Ok(Json(CheckAvailabilityOutput {
            slots: free_slots(year, month, day, args.duration_minutes),
            date: args.date,
            timezone: args.timezone,
        }))
    }

    #[tool(
        name = "refund_order",
        title = "Refund order",
        description = "Refund a paid, shipped or delivered order, fully or for some lines. Fails for unknown or non-refundable orders.",
        annotations(
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn refund_order(
        &self,
        Parameters(args): Parameters<RefundOrderArgs>,
    ) -> Result<Json<RefundOrderOutput>, String> {
        let row = find_order(&args.order_id)?;
        if !matches!(
            row.status,
            OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Delivered
        ) {
            let status = serde_json::to_value(row.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            return Err(format!(
                "Order {} is {status} and cannot be refunded.",
                row.id
            ));
        }
        let amount_cents = match &args.items {
            None => order_total(row),
            Some(lines) => refund_amount(row, lines)?,
        };
        let seq = self.next_seq();
        Ok(Json(RefundOrderOutput {
            refund: Refund {
                id: format!("re_{seq:04}"),
                order_id: row.id.to_owned(),
                amount_cents,
                currency: CURRENCY.to_owned(),
                status: RefundStatus::Pending,
                reason: args.reason,
            },
        }))
    }
}

#[tool_handler(
    name = "feather-demo",
    instructions = "A demo customer-support back office with fixed sample data: customers, orders, tickets, messages, call slots and refunds. Nothing leaves this process."
)]
impl rmcp::ServerHandler for DemoTools {}

// ---- argument checks ---------------------------------------------------------------

fn check_range(field: &str, value: u32, min: u32, max: u32) -> Result<(), String> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{field} must be between {min} and {max}, got {value}."
        ))
    }
}

fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), String> {
    let len = value.chars().count();
    if (min..=max).contains(&len) {
        Ok(())
    } else {
        Err(format!(
            "{field} must be {min} to {max} characters long, got {len}."
        ))
    }
}

fn check_email(value: &str) -> Result<(), String> {
    // Deliberately loose (local@domain.tld): it's a demo, not an RFC 5322 parser.
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    });
    if valid {
        Ok(())
    } else {
        Err(format!("{value:?} is not an email address."))
    }
}

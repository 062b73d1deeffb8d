//! The demo's fixed data (customers, orders) and its calendar: a frozen clock and
//! business-hours slots. Plain functions over constants, so tests can pin exact values.

use super::schema::{OrderStatus, Plan, RefundLine, Slot};

/// Every amount in the demo data is in this currency.
pub(super) const CURRENCY: &str = "USD";

pub(super) struct CustomerRow {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) email: &'static str,
    pub(super) plan: Plan,
}

// One row per line reads as a table; rustfmt would spread each over six lines.
#[rustfmt::skip]
pub(super) const CUSTOMERS: &[CustomerRow] = &[
    CustomerRow { id: "cus_1001", name: "Ada Lovelace", email: "ada@analytical.example", plan: Plan::Pro },
    CustomerRow { id: "cus_1002", name: "Grace Hopper", email: "grace@cobol.example", plan: Plan::Enterprise },
    CustomerRow { id: "cus_1003", name: "Alan Turing", email: "alan@bletchley.example", plan: Plan::Starter },
    CustomerRow { id: "cus_1004", name: "Katherine Johnson", email: "katherine@orbit.example", plan: Plan::Pro },
    CustomerRow { id: "cus_1005", name: "Linus Torvalds", email: "linus@kernel.example", plan: Plan::Free },
    CustomerRow { id: "cus_1006", name: "Margaret Hamilton", email: "margaret@apollo.example", plan: Plan::Enterprise },
    CustomerRow { id: "cus_1007", name: "Dennis Ritchie", email: "dennis@unix.example", plan: Plan::Starter },
    CustomerRow { id: "cus_1008", name: "Barbara Liskov", email: "barbara@substitution.example", plan: Plan::Free },
];

pub(super) struct OrderRow {
    pub(super) id: &'static str,
    pub(super) customer_id: &'static str,
    pub(super) status: OrderStatus,
    /// `(sku, quantity, unit price in cents)`
    pub(super) items: &'static [(&'static str, u32, u64)],
    pub(super) placed_at: &'static str,
}

const ORDERS: &[OrderRow] = &[
    OrderRow {
        id: "ORD-1001",
        customer_id: "cus_1001",
        status: OrderStatus::Delivered,
        items: &[("KB-MECH-01", 1, 12_900), ("CBL-USBC-2M", 2, 1_500)],
        placed_at: "2025-05-28T10:15:00Z",
    },
    OrderRow {
        id: "ORD-1002",
        customer_id: "cus_1002",
        status: OrderStatus::Shipped,
        items: &[("MON-27-4K", 1, 34_900)],
        placed_at: "2025-06-01T08:02:11Z",
    },
    OrderRow {
        id: "ORD-1003",
        customer_id: "cus_1004",
        status: OrderStatus::Paid,
        items: &[("HDST-WL-02", 1, 8_900), ("CASE-HDST", 1, 1_900)],
        placed_at: "2025-06-02T07:45:00Z",
    },
    OrderRow {
        id: "ORD-1004",
        customer_id: "cus_1003",
        status: OrderStatus::Cancelled,
        items: &[("MSE-ERGO-01", 1, 5_900)],
        placed_at: "2025-05-30T16:20:45Z",
    },
    OrderRow {
        id: "ORD-1005",
        customer_id: "cus_1006",
        status: OrderStatus::Pending,
        items: &[("DOCK-TB4", 1, 27_900), ("CBL-TB4-1M", 3, 2_900)],
        placed_at: "2025-06-02T08:59:03Z",
    },
];

pub(super) fn find_order(id: &str) -> Result<&'static OrderRow, String> {
    ORDERS
        .iter()
        .find(|o| o.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            format!("No order with id {id}. Known demo orders are ORD-1001 to ORD-1005.")
        })
}

pub(super) fn order_total(row: &OrderRow) -> u64 {
    row.items
        .iter()
        .map(|&(_, qty, price)| u64::from(qty) * price)
        .sum()
}

pub(super) fn refund_amount(row: &OrderRow, lines: &[RefundLine]) -> Result<u64, String> {
    if lines.is_empty() || lines.len() > 20 {
        return Err("items must list between 1 and 20 lines; omit it to refund everything.".into());
    }
    let mut amount = 0;
    for line in lines {
        let Some(&(_, ordered, price)) = row.items.iter().find(|(sku, _, _)| *sku == line.sku)
        else {
            return Err(format!(
                "Order {} has no line with SKU {}.",
                row.id, line.sku
            ));
        };
        if line.quantity == 0 || line.quantity > ordered {
            return Err(format!(
                "Cannot refund {} units of {}: {ordered} were ordered.",
                line.quantity, line.sku
            ));
        }
        amount += u64::from(line.quantity) * price;
    }
    Ok(amount)
}

/// A frozen clock: the `seq`-th event of the demo happens `seq` × 37 s after
/// 2025-06-02T09:00:00Z, so outputs are reproducible yet look plausible.
pub(super) fn demo_now(seq: u64) -> String {
    let secs = (seq * 37) % (12 * 3600);
    format!(
        "2025-06-02T{:02}:{:02}:{:02}Z",
        9 + secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DD` (RFC 3339 `full-date`) into a valid calendar date.
pub(super) fn parse_date(value: &str) -> Result<(i32, u32, u32), String> {
    let invalid = || format!("{value:?} is not a date in YYYY-MM-DD form.");
    let bytes = value.as_bytes();
    let digits_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !digits_ok {
        return Err(invalid());
    }
    let year: i32 = value[0..4].parse().map_err(|_| invalid())?;
    let month: u32 = value[5..7].parse().map_err(|_| invalid())?;
    let day: u32 = value[8..10].parse().map_err(|_| invalid())?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(invalid()),
    };
    if day == 0 || day > days_in_month {
        return Err(invalid());
    }
    Ok((year, month, day))
}

/// Day of the week, 0 = Sunday (Sakamoto's method).
fn weekday(year: i32, month: u32, day: u32) -> u32 {
    const OFFSETS: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if month < 3 { year - 1 } else { year };
    let m = OFFSETS[(month as usize - 1) % 12];
    // rem_euclid keeps this right for years before 1 AD too.
    (y + y / 4 - y / 100 + y / 400 + m + day as i32).rem_euclid(7) as u32
}

/// Free slots on a weekday: starts every 30 minutes inside 09:00-12:00 and
/// 13:00-17:00, skipping a few half hours that are "already booked" (which ones
/// depends on the day of the month, so different days look different).
pub(super) fn free_slots(year: i32, month: u32, day: u32, duration: u32) -> Vec<Slot> {
    if matches!(weekday(year, month, day), 0 | 6) {
        return Vec::new();
    }
    const BLOCKS: [(u32, u32); 2] = [(9 * 60, 12 * 60), (13 * 60, 17 * 60)];
    let booked = |minute: u32| (minute / 30 + day).is_multiple_of(4);
    let mut slots = Vec::new();
    for (open, close) in BLOCKS {
        let mut start = open;
        while start + duration <= close {
            let end = start + duration;
            let clashes = (start..end).step_by(30).any(booked);
            if !clashes {
                slots.push(Slot {
                    start: hhmm(start),
                    end: hhmm(end),
                });
            }
            start += 30;
        }
    }
    slots
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_validated() {
        assert_eq!(parse_date("2024-02-29"), Ok((2024, 2, 29)));
        assert!(parse_date("2023-02-29").is_err());
        assert!(parse_date("2025-13-01").is_err());
        assert!(parse_date("2025-6-1").is_err());
        assert!(parse_date("２０２５-06-01").is_err());
    }

    #[test]
    fn weekday_matches_the_calendar() {
        assert_eq!(weekday(2025, 6, 2), 1); // a Monday
        assert_eq!(weekday(2025, 6, 7), 6); // a Saturday
        assert_eq!(weekday(2000, 1, 1), 6);
    }

    #[test]
    fn slots_fit_business_hours_and_skip_weekends() {
        assert!(free_slots(2025, 6, 7, 30).is_empty());
        let slots = free_slots(2025, 6, 2, 60);
        assert!(!slots.is_empty());
        for slot in &slots {
            assert!(slot.start.as_str() >= "09:00" && slot.end.as_str() <= "17:00");
            assert!(!(slot.start.as_str() < "13:00" && slot.end.as_str() > "12:00"));
        }
        // Four hours only fit 13:00-17:00, which always holds a booked half hour.
        assert!(free_slots(2025, 6, 2, 240).is_empty());
    }

    #[test]
    fn clock_is_frozen_and_well_formed() {
        assert_eq!(demo_now(1), "2025-06-02T09:00:37Z");
        assert_eq!(demo_now(1), demo_now(1));
    }
}

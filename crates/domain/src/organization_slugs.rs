//! A tool's slug is unique within its organization (DESIGN.md §3 "Slugs"): agents address
//! tools by slug alone. New tools take the first free slug; this settles the collisions
//! that rows written before the rule may hold.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::slug::first_free_slug;

/// One tool's slug in its organization, and when the tool was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldSlug {
    pub tool_id: Uuid,
    pub slug: String,
    pub created_at: DateTime<Utc>,
}

/// The renames that make every slug of one organization unique, given all of its tools'
/// slugs. Of the tools sharing a slug, the one created first (then the lowest id) keeps
/// it; each later one, in that order, takes the first free suffix (`_2`, `_3`, …) among
/// every slug the organization holds by then. Deterministic: the same slugs give the same
/// renames, however they are ordered.
pub fn settle_slug_collisions(held: &[HeldSlug]) -> Vec<(Uuid, String)> {
    let mut by_slug: BTreeMap<&str, Vec<&HeldSlug>> = BTreeMap::new();
    for tool in held {
        by_slug.entry(tool.slug.as_str()).or_default().push(tool);
    }
    let mut taken: HashSet<String> = by_slug.keys().map(|slug| (*slug).to_owned()).collect();
    let mut renames = Vec::new();
    for (slug, mut holders) in by_slug {
        holders.sort_by_key(|tool| (tool.created_at, tool.tool_id));
        for later in holders.into_iter().skip(1) {
            let free = first_free_slug(slug, |candidate| taken.contains(candidate));
            taken.insert(free.clone());
            renames.push((later.tool_id, free));
        }
    }
    renames
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn held(slug: &str, seconds: i64) -> HeldSlug {
        HeldSlug {
            tool_id: Uuid::now_v7(),
            slug: slug.to_owned(),
            created_at: DateTime::UNIX_EPOCH + TimeDelta::seconds(seconds),
        }
    }

    #[test]
    fn unique_slugs_need_no_rename() {
        assert!(settle_slug_collisions(&[held("a_b", 1), held("a_c", 2)]).is_empty());
    }

    #[test]
    fn the_later_created_tool_takes_the_first_free_suffix() {
        let first = held("a_b_c", 1);
        let later = held("a_b_c", 2);
        let renames = settle_slug_collisions(&[later.clone(), first]);
        assert_eq!(renames, [(later.tool_id, "a_b_c_2".to_owned())]);
    }

    #[test]
    fn a_suffix_another_tool_holds_is_skipped() {
        let first = held("a_b_c", 1);
        let suffixed = held("a_b_c_2", 2);
        let later = held("a_b_c", 3);
        let last = held("a_b_c", 4);
        let renames = settle_slug_collisions(&[first, suffixed, later.clone(), last.clone()]);
        assert_eq!(
            renames,
            [
                (later.tool_id, "a_b_c_3".to_owned()),
                (last.tool_id, "a_b_c_4".to_owned()),
            ]
        );
    }

    #[test]
    fn the_same_slugs_give_the_same_renames_in_any_order() {
        let tools = [held("x", 1), held("x", 2), held("x_2", 3), held("x", 4)];
        let mut reversed = tools.to_vec();
        reversed.reverse();
        assert_eq!(
            settle_slug_collisions(&tools),
            settle_slug_collisions(&reversed)
        );
    }
}

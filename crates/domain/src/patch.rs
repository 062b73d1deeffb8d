//! A change to an optional field that can also leave it alone: what a PATCH body says of
//! each field (absent, `null`, or a value).

/// A three-state update of an optional field: leave it, clear it, or set it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Patch<T> {
    #[default]
    Unchanged,
    Clear,
    Set(T),
}

// `sqlx::migrate!` embeds the migration files when the crate compiles, and Cargo does not
// watch them on its own: without this, a new migration would not reach the binary until
// some source file of the crate changed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

//! The SQLite files the store creates are private to their owner: they hold API key
//! hashes and sealed credentials.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use feather_store::Store;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("the file exists")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_database_and_its_wal_are_readable_by_their_owner_only() {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("feather.db");
    let store = Store::open_sqlite_file(&path).await.expect("open");
    assert!(store.list_organizations().await.expect("read").is_empty());
    assert_eq!(mode(&path), 0o600);
    let wal = dir.path().join("feather.db-wal");
    assert_eq!(mode(&wal), 0o600);
    store.close().await;
}

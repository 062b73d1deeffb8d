//! Use cases of feather-integrations: what a caller can do, with the transactions and
//! checks each needs. The HTTP layer translates requests into calls here; the domain layer
//! holds the rules; the store holds the data.

mod catalog;
mod connections;
mod error;
mod identity;
mod views;

pub use catalog::UpstreamTool;
pub use connections::{NewConnection, ToolConfigInput};
pub use error::{ServiceError, ServiceResult};
pub use identity::{CreatedApiKey, NewApiKeyInput, Principal};
pub use views::{ConnectionView, ToolView};

use feather_store::Store;

/// The service: every use case, over one store.
#[derive(Debug, Clone)]
pub struct Service {
    store: Store,
}

impl Service {
    pub fn new(store: Store) -> Service {
        Service { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

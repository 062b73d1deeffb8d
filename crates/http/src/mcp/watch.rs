//! `notifications/tools/list_changed` for an open session: sent when what the session's
//! `tools/list` shows changes (a sync, a toggle, a pin, a field map). This process's own
//! writes are announced by the store at once; another replica's are found by reading the
//! listing version every [`McpOptions::change_poll`](super::McpOptions).

use rmcp::{Peer, RoleServer};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::{AgentCaller, catalog};
use crate::AppState;

/// Runs until the session ends (`ended`) or its client is gone.
pub(super) async fn tell_of_tool_list_changes(
    state: AppState,
    caller: AgentCaller,
    peer: Peer<RoleServer>,
    ended: CancellationToken,
) {
    let organization_id = caller.principal.organization_id;
    let scope = caller.connection_slug.as_deref();
    let mut changes = state.service.store().listing_changes();
    let mut shown = None;
    let mut poll = tokio::time::interval(state.mcp.change_poll);
    loop {
        match catalog::current(&state, organization_id).await {
            Ok(catalog) => {
                let now: Vec<_> = catalog.tools_of(scope).cloned().collect();
                // The first read is what the session was shown (or is about to be).
                if shown.as_ref().is_some_and(|shown| *shown != now)
                    && peer.notify_tool_list_changed().await.is_err()
                {
                    return;
                }
                shown = Some(now);
            }
            Err(error) => tracing::debug!(%error, "could not read the tools of a session"),
        }
        loop {
            tokio::select! {
                () = ended.cancelled() => return,
                _ = poll.tick() => break,
                change = changes.recv() => match change {
                    Ok(changed) if changed != organization_id => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                },
            }
        }
        if peer.is_transport_closed() {
            return;
        }
    }
}

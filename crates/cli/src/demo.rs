//! `demo`: the service on a fresh temporary store, with the built-in demo MCP server
//! connected over both transports, so that a newcomer sees a populated listing in seconds.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use feather_demo_mcp::DemoServer;
use feather_domain::custom_mcp::CustomMcpRequest;
use feather_domain::integration::ToolsStatus;
use feather_service::Service;
use uuid::Uuid;

use crate::cli::{DemoArgs, StoreArgs, UpstreamArgs};

/// What the demo adds to `--allow-upstream`: loopback, where its own server listens.
const DEMO_ALLOW_UPSTREAM: &str = "127.0.0.1/32,::1/128";

/// How long the banner waits for the first syncs before printing anyway.
const SYNC_WAIT: Duration = Duration::from_secs(15);

pub async fn run(
    _store: &StoreArgs,
    upstream: &UpstreamArgs,
    args: DemoArgs,
) -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir().context("could not create a temporary data directory")?;
    let demo_server = DemoServer::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("could not start the demo MCP server")?;
    // The demo server listens on loopback, which the SSRF guard refuses unless allowed;
    // both loopback families, so that `localhost` (127.0.0.1 and ::1) works too.
    let allow_upstream = match upstream.allow_upstream.as_deref().map(str::trim) {
        None | Some("") => DEMO_ALLOW_UPSTREAM.to_owned(),
        Some(given) => format!("{given},{DEMO_ALLOW_UPSTREAM}"),
    };
    let store = StoreArgs {
        data_dir: Some(data_dir.path().to_owned()),
        database_url: None,
    };
    let upstream = UpstreamArgs {
        secret_key: None,
        allow_upstream: Some(allow_upstream),
    };
    let service = crate::app::service(&store, &upstream).await?;
    let (organization, key) = service.create_organization("Demo").await?;
    let listener = crate::serve::bind(args.bind).await?;
    let address = listener.local_addr()?;

    let mut connections = Vec::new();
    for (nickname, url, transport) in [
        (
            "Support Desk",
            demo_server.streamable_url(),
            "streamable_http",
        ),
        ("Support Desk (legacy SSE)", demo_server.sse_url(), "sse"),
    ] {
        let connection = service
            .connect_custom_mcp(
                organization.id,
                CustomMcpRequest {
                    nickname: nickname.to_owned(),
                    server_url: url,
                    transport: Some(transport.to_owned()),
                    ..CustomMcpRequest::default()
                },
            )
            .await
            .with_context(|| format!("could not connect the demo server over {transport}"))?;
        connections.push(connection.id);
    }
    tokio::spawn(print_banner_when_synced(
        service.clone(),
        organization.id,
        connections,
        key.plain_text_key,
        address,
    ));
    let served =
        crate::serve::serve_until_signal(service, feather_http::AppOptions::default(), listener, 2)
            .await;
    demo_server.shutdown().await;
    served
}

async fn print_banner_when_synced(
    service: Service,
    organization_id: Uuid,
    connections: Vec<Uuid>,
    key: String,
    address: SocketAddr,
) {
    let deadline = tokio::time::Instant::now() + SYNC_WAIT;
    let mut listing = Vec::new();
    while tokio::time::Instant::now() < deadline {
        listing = service
            .list_connections(organization_id)
            .await
            .unwrap_or_default();
        let settled = listing.iter().all(|view| {
            matches!(
                view.connection.tools_status,
                ToolsStatus::Synced | ToolsStatus::Failed
            )
        });
        if settled && listing.len() == connections.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let base = format!("http://{address}");
    println!();
    println!("  feather-integrations demo: a temporary store, gone when you stop it (Ctrl-C).");
    println!("  The built-in demo MCP server is connected twice (Streamable HTTP and legacy SSE):");
    for view in &listing {
        println!(
            "    {:<28} tools_status={:<8} tools={}",
            view.connection.nickname,
            view.connection.tools_status.as_str(),
            view.tools.len()
        );
    }
    println!();
    println!("  export KEY={key}");
    println!();
    println!("  # Every connection with its tools");
    println!("  curl -s {base}/v1/integrations/connections -H \"x-api-key: $KEY\"");
    let first = listing.first();
    let search = first.and_then(|view| {
        view.tools
            .iter()
            .find(|tool| tool.tool.tool_path == "search_customers")
            .map(|tool| (view.connection.id, tool.tool.id, tool.tool.slug.clone()))
    });
    if let Some((connection_id, tool_id, slug)) = search {
        let tool_url = format!("{base}/v1/integrations/connections/{connection_id}");
        println!();
        println!("  # Pin a value: every call of search_customers now asks for 3 results");
        println!(
            "  curl -s -X PATCH {tool_url}/tools/{tool_id} -H \"x-api-key: $KEY\" \\\n       \
             -d '{{\"input_defaults\": {{\"limit\": {{\"value\": 3, \"type\": \"pinned\"}}}}}}'"
        );
        println!();
        println!("  # Call it (the pinned limit wins over the caller's 50)");
        println!(
            "  curl -s -X POST {tool_url}/test-mcp-call -H \"x-api-key: $KEY\" \\\n       \
             -d '{{\"slug\": \"{slug}\", \"input\": {{\"query\": \"\", \"limit\": 50}}}}'"
        );
    }
    println!();
    println!("  API reference: {base}/openapi.json");
    println!();
}

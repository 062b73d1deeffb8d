//! Administrative commands: organizations and API keys, straight against the store.

use anyhow::Context;
use feather_service::{NewApiKeyInput, Service};
use serde_json::json;

use crate::cli::{ApiKeysCommand, OrgsCommand, StoreArgs};

pub async fn orgs(store: &StoreArgs, command: OrgsCommand) -> anyhow::Result<()> {
    let service = crate::app::admin_service(store).await?;
    match command {
        OrgsCommand::Create { name, json } => {
            let (organization, key) = service
                .create_organization(&name)
                .await
                .context("could not create the organization")?;
            if json {
                println!(
                    "{}",
                    json!({"organization_id": organization.id, "api_key": key.plain_text_key})
                );
            } else {
                println!(
                    "Organization {:?} created: {}",
                    organization.name, organization.id
                );
                println!("API key (shown once, store it now): {}", key.plain_text_key);
            }
        }
        OrgsCommand::List { json } => {
            for organization in service.list_organizations().await? {
                if json {
                    println!(
                        "{}",
                        json!({"id": organization.id, "name": organization.name,
                               "created_at": organization.created_at})
                    );
                } else {
                    println!(
                        "{}  {}  {}",
                        organization.id,
                        organization.created_at.format("%Y-%m-%d %H:%M"),
                        organization.name
                    );
                }
            }
        }
    }
    Ok(())
}

pub async fn api_keys(store: &StoreArgs, command: ApiKeysCommand) -> anyhow::Result<()> {
    let service = crate::app::admin_service(store).await?;
    match command {
        ApiKeysCommand::Create { org, name, json } => {
            ensure_organization(&service, org).await?;
            let created = service
                .create_api_key(
                    org,
                    // The operator's command: any key may be made.
                    feather_domain::api_key::Grants::EVERYTHING,
                    NewApiKeyInput {
                        name,
                        ..NewApiKeyInput::default()
                    },
                )
                .await
                .context("could not create the key")?;
            if json {
                println!(
                    "{}",
                    json!({"id": created.key.id, "api_key": created.plain_text_key})
                );
            } else {
                println!("API key {} created.", created.key.id);
                println!("Key (shown once, store it now): {}", created.plain_text_key);
            }
        }
        ApiKeysCommand::List { org, json } => {
            ensure_organization(&service, org).await?;
            for key in service.list_api_keys(org).await? {
                let state = key.state(service.now()).as_str();
                if json {
                    println!(
                        "{}",
                        json!({"id": key.id, "name": key.name, "key_prefix": key.key_prefix,
                               "state": state, "created_at": key.created_at,
                               "last_used_at": key.last_used_at})
                    );
                } else {
                    println!("{}  {}…  {:8}  {}", key.id, key.key_prefix, state, key.name);
                }
            }
        }
        ApiKeysCommand::Revoke { org, key_id } => {
            service
                .revoke_api_key(org, key_id)
                .await
                .with_context(|| format!("could not revoke key {key_id}"))?;
            println!("API key {key_id} revoked.");
        }
    }
    Ok(())
}

async fn ensure_organization(service: &Service, id: uuid::Uuid) -> anyhow::Result<()> {
    service
        .store()
        .get_organization(id)
        .await?
        .with_context(|| format!("no organization {id}"))?;
    Ok(())
}

//! `secrets`: a new sealing key, and the rotation of every stored credential to the first
//! configured key.

use anyhow::bail;
use feather_service::Rotation;
use serde_json::json;

use crate::app::credentials;
use crate::cli::{SecretsCommand, StoreArgs, UpstreamArgs};

pub async fn run(
    store: &StoreArgs,
    upstream: &UpstreamArgs,
    command: SecretsCommand,
) -> anyhow::Result<()> {
    match command {
        SecretsCommand::GenerateKey => {
            println!("{}", crate::secret_key::generate());
            Ok(())
        }
        SecretsCommand::Rotate {
            forget_unopenable,
            json,
        } => rotate(store, upstream, forget_unopenable, json).await,
    }
}

/// Re-seals with the first configured key, prints the counts, and fails (after printing
/// them) when anything was left as it was.
async fn rotate(
    store: &StoreArgs,
    upstream: &UpstreamArgs,
    forget_unopenable: bool,
    json: bool,
) -> anyhow::Result<()> {
    let service = crate::app::rotation_service(store, upstream).await?;
    let rotation = service.rotate_secrets(forget_unopenable).await?;
    service.store().close().await;
    if json {
        println!(
            "{}",
            json!({
                "key_id": rotation.key_id.to_string(),
                "resealed": rotation.resealed,
                "already_current": rotation.already_current,
                "unopenable": rotation.unopenable_count(),
                "forgotten": rotation.forgotten,
                "changed_meanwhile": rotation.changed_meanwhile,
            })
        );
    } else {
        print_counts(&rotation);
    }
    let unopenable = rotation.unopenable_count();
    if unopenable > 0 {
        bail!(
            "{} could not be opened with any configured key and {} left as {}: add the key \
             that sealed {} to FEATHER_SECRET_KEY (after the first) and run this again, or, if \
             that key is lost for good, run it with --forget-unopenable (which deletes them \
             and marks their connections to be connected again)",
            credentials(unopenable),
            if unopenable == 1 { "was" } else { "were" },
            if unopenable == 1 {
                "it was"
            } else {
                "they were"
            },
            if unopenable == 1 { "it" } else { "them" },
        );
    }
    if rotation.changed_meanwhile > 0 {
        bail!(
            "{} kept changing while being re-sealed: run this again",
            credentials(rotation.changed_meanwhile)
        );
    }
    Ok(())
}

fn print_counts(rotation: &Rotation) {
    println!(
        "Re-sealed {} with key {}; {} sealed with it already.",
        credentials(rotation.resealed),
        rotation.key_id,
        match rotation.already_current {
            1 => "1 was".to_owned(),
            count => format!("{count} were"),
        }
    );
    if rotation.forgotten > 0 {
        println!(
            "Deleted {} that no configured key opens; {} marked `error`, to be connected \
             again.",
            credentials(rotation.forgotten),
            if rotation.forgotten == 1 {
                "its connection is"
            } else {
                "their connections are"
            }
        );
    }
    if !rotation.unopenable.is_empty() {
        let by_key: Vec<String> = rotation
            .unopenable
            .iter()
            .map(|(key_id, count)| match key_id {
                Some(key_id) => format!("{count} sealed with key {key_id}"),
                None => format!("{count} sealed before keys were recorded, or damaged"),
            })
            .collect();
        println!(
            "Left as they were, because no configured key opens them: {}.",
            by_key.join(", ")
        );
    }
    if rotation.changed_meanwhile > 0 {
        println!(
            "Changed by another process during the rotation, not re-sealed: {}.",
            credentials(rotation.changed_meanwhile)
        );
    }
}

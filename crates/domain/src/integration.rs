//! The integrations the platform supports, who brokers each connection, and the status
//! vocabularies of a connection.

use serde::{Deserialize, Serialize};

/// Stable identifier of a supported integration (the seed contract's `IntegrationKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationKey {
    Slack,
    CustomMcp,
    Notion,
    GoogleDrive,
    Calcom,
    Twilio,
    Email,
}

/// One row of the platform catalog (`GET /v1/integrations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegrationSpec {
    pub key: IntegrationKey,
    pub display_name: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    /// Who holds the credential and speaks to the upstream for connections of this kind.
    pub vendor: Vendor,
}

impl IntegrationKey {
    /// Every key, in the order of the contract's enum.
    pub const ALL: [IntegrationKey; 7] = [
        IntegrationKey::Slack,
        IntegrationKey::CustomMcp,
        IntegrationKey::Notion,
        IntegrationKey::GoogleDrive,
        IntegrationKey::Calcom,
        IntegrationKey::Twilio,
        IntegrationKey::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKey::Slack => "slack",
            IntegrationKey::CustomMcp => "custom_mcp",
            IntegrationKey::Notion => "notion",
            IntegrationKey::GoogleDrive => "google_drive",
            IntegrationKey::Calcom => "calcom",
            IntegrationKey::Twilio => "twilio",
            IntegrationKey::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.as_str() == s)
    }

    /// The catalog entry for this integration.
    pub fn spec(self) -> IntegrationSpec {
        let (display_name, description, category, vendor) = match self {
            IntegrationKey::Slack => (
                "Slack",
                "Read channels and send messages in a Slack workspace.",
                "communication",
                Vendor::Nango,
            ),
            IntegrationKey::CustomMcp => (
                "Custom MCP server",
                "Connect any Model Context Protocol server and use its tools.",
                "developer",
                Vendor::Mcp,
            ),
            IntegrationKey::Notion => (
                "Notion",
                "Search, read and write pages and databases in Notion.",
                "knowledge",
                Vendor::Nango,
            ),
            IntegrationKey::GoogleDrive => (
                "Google Drive",
                "Find, read and share files in Google Drive.",
                "knowledge",
                Vendor::Nango,
            ),
            IntegrationKey::Calcom => (
                "Cal.com",
                "Check availability and book meetings through Cal.com.",
                "scheduling",
                Vendor::Nango,
            ),
            IntegrationKey::Twilio => (
                "Twilio",
                "Send SMS and place calls through a Twilio account.",
                "communication",
                Vendor::Nango,
            ),
            IntegrationKey::Email => (
                "Email",
                "Send email from the platform, no credentials needed.",
                "communication",
                Vendor::Platform,
            ),
        };
        IntegrationSpec {
            key: self,
            display_name,
            description,
            category,
            vendor,
        }
    }
}

impl IntegrationSpec {
    /// Whether this server can connect the integration yet: only custom MCP servers, until
    /// the first-party integrations' brokers exist.
    pub fn is_connectable(&self) -> bool {
        self.key == IntegrationKey::CustomMcp
    }

    /// The catalog's description, saying so when the integration cannot be connected yet
    /// (the contract's summary has no field for it, and a listed integration that answers
    /// every connect with an error would mislead).
    pub fn catalog_description(&self) -> String {
        if self.is_connectable() {
            self.description.to_owned()
        } else {
            format!(
                "{} Not connectable on this server yet: only custom MCP servers can be connected.",
                self.description
            )
        }
    }
}

/// Who holds a connection's credential and speaks to its upstream (DESIGN.md §3 Vendors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    /// Custom MCP servers: the service itself is the client.
    Mcp,
    /// OAuth integrations brokered by Nango.
    Nango,
    /// Credential-less integrations run by the platform (email).
    Platform,
}

/// A connection's credential status (DESIGN.md §3 Connection status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Pending,
    PendingOauth,
    Active,
    Error,
}

/// The state of a connection's tool catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolsStatus {
    Pending,
    Syncing,
    Synced,
    Failed,
}

/// String forms shared by the status enums: the wire value is the stored value.
macro_rules! wire_strings {
    ($ty:ty { $($variant:ident => $s:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$variant),)+ _ => None }
            }
        }

        impl TryFrom<String> for $ty {
            type Error = UnknownWireValue;

            fn try_from(s: String) -> Result<Self, UnknownWireValue> {
                Self::parse(&s).ok_or(UnknownWireValue(s))
            }
        }
    };
}

pub(crate) use wire_strings;

/// A stored or received string that names no variant of the expected enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownWireValue(pub String);

impl TryFrom<String> for IntegrationKey {
    type Error = UnknownWireValue;

    fn try_from(s: String) -> Result<Self, UnknownWireValue> {
        Self::parse(&s).ok_or(UnknownWireValue(s))
    }
}

wire_strings!(Vendor { Mcp => "mcp", Nango => "nango", Platform => "platform" });
wire_strings!(ConnectionStatus {
    Pending => "pending",
    PendingOauth => "pending_oauth",
    Active => "active",
    Error => "error",
});
wire_strings!(ToolsStatus {
    Pending => "pending",
    Syncing => "syncing",
    Synced => "synced",
    Failed => "failed",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_custom_mcp_is_connectable_and_the_others_say_so() {
        for key in IntegrationKey::ALL {
            let spec = key.spec();
            let description = spec.catalog_description();
            assert!(description.starts_with(spec.description), "{description}");
            assert_eq!(
                description.contains("Not connectable on this server yet"),
                key != IntegrationKey::CustomMcp,
                "{description}"
            );
        }
    }

    #[test]
    fn integration_keys_round_trip_through_their_wire_names() {
        for key in IntegrationKey::ALL {
            assert_eq!(IntegrationKey::parse(key.as_str()), Some(key));
            assert_eq!(
                serde_json::to_value(key).ok(),
                Some(serde_json::Value::from(key.as_str()))
            );
        }
        assert_eq!(IntegrationKey::parse("Slack"), None);
    }

    #[test]
    fn statuses_round_trip_through_their_wire_names() {
        for status in [
            ConnectionStatus::Pending,
            ConnectionStatus::PendingOauth,
            ConnectionStatus::Active,
            ConnectionStatus::Error,
        ] {
            assert_eq!(ConnectionStatus::parse(status.as_str()), Some(status));
        }
        for status in [
            ToolsStatus::Pending,
            ToolsStatus::Syncing,
            ToolsStatus::Synced,
            ToolsStatus::Failed,
        ] {
            assert_eq!(ToolsStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Vendor::parse("mcp"), Some(Vendor::Mcp));
        assert_eq!(Vendor::parse("nope"), None);
    }

    #[test]
    fn only_email_is_brokered_by_the_platform_and_only_custom_mcp_by_the_service() {
        assert_eq!(IntegrationKey::Email.spec().vendor, Vendor::Platform);
        assert_eq!(IntegrationKey::CustomMcp.spec().vendor, Vendor::Mcp);
        assert_eq!(IntegrationKey::Slack.spec().vendor, Vendor::Nango);
    }
}
